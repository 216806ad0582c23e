// Measures what one sync of each source costs against the real servers: time, HTTP requests,
// response bytes, memory. Run: npx tsx test/discovery/measure.ts  (numbers go into the README).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { PrometheusSource, RegistrySource } from '../../lib/api/index.ts';
import type { Credentials } from '../../lib/discovery/credentials.ts';
import { queryPrometheus, queryRegistry } from '../../lib/discovery/index.ts';
import { STEP_SECONDS, WEEK_SECONDS } from './data.ts';
import { createPki } from './pki.ts';
import { ensureDiscoveryServers } from './process.ts';
import { startPrometheus } from './prometheus.ts';
import { pushImage, startRegistry } from './registry.ts';
import { startTokenServer } from './token-server.ts';

const IMAGES = [100, 1000];
const REPOSITORIES = 10;
const TAGS_PER_REPOSITORY = 100;

type Case =
  | {
      readonly kind: 'prometheus';
      readonly source: PrometheusSource;
      readonly credentials: Credentials;
      readonly now: number;
    }
  | {
      readonly kind: 'registry';
      readonly source: RegistrySource;
      readonly credentials: Credentials;
      readonly now: number;
    };

// Each case runs in a child process of its own, so its peak RSS is the sync's, not the setup's;
// asynchronously, because the token service answers from this process.
async function measure(label: string, job: Case): Promise<void> {
  const child = promisify(execFile)(process.execPath, [
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    '--case',
    JSON.stringify(job),
  ]);
  console.log(`${label}: ${(await child).stdout.trim()}`);
}

async function runCase(job: Case): Promise<void> {
  let requests = 0;
  const io = {
    now: new Date(job.now),
    timeoutMs: 60_000,
    maxBytes: 256 * 1024 * 1024,
    countRequest: () => void requests++,
    sleep: async () => {},
  };
  const baseline = process.resourceUsage().maxRSS / 1024;
  const started = performance.now();
  const outcome =
    job.kind === 'prometheus'
      ? await queryPrometheus(job.source, job.credentials, io)
      : await queryRegistry(job.source, job.credentials, io);
  const ms = performance.now() - started;
  const peak = process.resourceUsage().maxRSS / 1024;
  const result = outcome.ok ? outcome.summary : `${outcome.failure.reason}: ${outcome.failure.message}`;
  console.log(
    `${ms.toFixed(0)} ms, ${requests} requests, peak RSS ${peak.toFixed(0)} MiB (${baseline.toFixed(0)} before) — ${result}`,
  );
}

async function main(): Promise<void> {
  ensureDiscoveryServers();
  const dir = mkdtempSync(join(tmpdir(), 'drop-discovery-measure-'));
  const pki = createPki(dir);
  const end = Math.floor(Date.now() / 1000 / STEP_SECONDS) * STEP_SECONDS;
  const max = Math.max(...IMAGES);
  const series = Array.from({ length: max }, (_, i) => ({
    metric: 'drop_measure',
    labels: {
      image: `registry.example.com/team/app-${i}:v1`,
      bucket: String(i < IMAGES[0]! ? 'small' : 'large'),
    },
    value: (t: number) => (t / STEP_SECONDS + i) % 5,
  }));
  const prometheus = await startPrometheus({
    dir,
    pki,
    series,
    end,
    spanSeconds: WEEK_SECONDS,
    sampleSeconds: STEP_SECONDS,
    password: 'measure',
  });
  const storageDir = join(dir, 'storage');
  mkdirSync(storageDir);
  const tokens = await startTokenServer({ pki, users: { drop: 'measure' } });
  const anonymous = await startRegistry({ dir, name: 'anonymous', storageDir, auth: { kind: 'none' } });
  const token = await startRegistry({
    dir,
    name: 'token',
    storageDir,
    auth: {
      kind: 'token',
      realm: tokens.realm,
      service: tokens.service,
      issuer: tokens.issuer,
      rootCertFile: pki.tokenCertFile,
    },
  });
  try {
    const repositories = Array.from({ length: REPOSITORIES }, (_, i) => `team/repo-${i}`);
    const tags = Array.from({ length: TAGS_PER_REPOSITORY }, (_, i) => `v1.${i}.0`);
    for (const repository of repositories) await pushImage(anonymous.url, repository, tags);
    const credentials = {
      basic: { username: prometheus.username, password: prometheus.password },
      headers: {},
      tls: { ca: pki.caPem },
    };
    const now = (end + 30) * 1000;
    for (const count of IMAGES) {
      const query =
        count === max ? 'sum by (image) (drop_measure)' : 'sum by (image) (drop_measure{bucket="small"})';
      const instant = { endpoint: prometheus.url, query, step: '5m' };
      await measure(`prometheus instant, ${count} images`, {
        kind: 'prometheus',
        source: instant,
        credentials,
        now,
      });
      await measure(`prometheus 168h range at 5m (2017 points), ${count} images`, {
        kind: 'prometheus',
        source: { ...instant, lookback: '168h' },
        credentials,
        now,
      });
    }
    const registrySource = { repositories, tagFilter: '^v1\\.', topX: 3 };
    const tagCount = `${REPOSITORIES} repositories x ${TAGS_PER_REPOSITORY} tags`;
    await measure(`registry anonymous, ${tagCount}`, {
      kind: 'registry',
      source: { url: anonymous.url, ...registrySource },
      credentials: { headers: {}, tls: {} },
      now,
    });
    await measure(`registry Bearer challenge, ${tagCount}`, {
      kind: 'registry',
      source: { url: token.url, ...registrySource },
      credentials: { basic: { username: 'drop', password: 'measure' }, headers: {}, tls: {} },
      now,
    });
  } finally {
    await Promise.all([
      prometheus.server.stop(),
      anonymous.server.stop(),
      token.server.stop(),
      tokens.stop(),
    ]);
    rmSync(dir, { recursive: true, force: true });
  }
}

const at = process.argv.indexOf('--case');
if (at >= 0) await runCase(JSON.parse(process.argv[at + 1] ?? '') as Case);
else await main();
