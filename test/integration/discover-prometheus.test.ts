// DiscoveryPolicy with a Prometheus source, against a real Prometheus (Debian's 2.42) holding a
// backfilled week of per-image series, served over TLS with basic auth.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DiscoveryPolicy } from '../../lib/api/index.ts';
import { createKube, type Kube, loadKubeConfig } from '../../lib/kube/index.ts';
import {
  cleanUp,
  createPolicy,
  createSecret,
  discoverApp,
  patchPolicy,
  ping,
  policyChanged,
  readPolicy,
} from '../discovery/cluster.ts';
import {
  DATA_END,
  EXAMPLE_SERIES,
  evaluationTimes,
  expectedRanking,
  IMAGE_SERIES,
  RANKING_QUERY,
  STEP_SECONDS,
  WEEK_SECONDS,
} from '../discovery/data.ts';
import { createPki, type Pki } from '../discovery/pki.ts';
import { ensureDiscoveryServers } from '../discovery/process.ts';
import { startPrometheus, type TestPrometheus } from '../discovery/prometheus.ts';
import { kubeconfigPath, kubectl, uniqueName } from './harness.ts';

const PASSWORD = 'prometheus-secret-pw-7f3a';
// Discover's clock: just after the data's last sample, so instant and range queries see it.
const NOW = new Date((DATA_END + 30) * 1000);

describe('discovery from a real Prometheus', () => {
  let dir: string;
  let pki: Pki;
  let prometheus: TestPrometheus;
  let kube: Kube;
  const created = { policies: [] as string[], secrets: [] as string[] };
  let goodSecret: string;

  beforeAll(async () => {
    ensureDiscoveryServers();
    dir = mkdtempSync(join(tmpdir(), 'drop-discover-prometheus-'));
    pki = createPki(dir);
    prometheus = await startPrometheus({
      dir,
      pki,
      series: [...IMAGE_SERIES, ...EXAMPLE_SERIES],
      end: DATA_END,
      spanSeconds: WEEK_SECONDS + 3600,
      sampleSeconds: STEP_SECONDS,
      password: PASSWORD,
    });
    kube = createKube(loadKubeConfig(kubeconfigPath()), 'drop-test');
    goodSecret = await secret({ username: prometheus.username, password: PASSWORD, 'ca.crt': pki.caPem });
  });

  afterAll(async () => {
    await prometheus?.server.stop();
    if (kube) await cleanUp(kube, created);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function secret(data: Record<string, string>): Promise<string> {
    const name = uniqueName('prom-creds');
    await createSecret(kube, name, data);
    created.secrets.push(name);
    return name;
  }

  function source(prometheusSpec: Record<string, unknown>, secretName = goodSecret) {
    return {
      type: 'prometheus',
      prometheus: { endpoint: prometheus.url, query: RANKING_QUERY, ...prometheusSpec },
      secretRef: { name: secretName },
    };
  }

  /** Creates a policy and answers its create event the way the adapter would deliver it. */
  async function syncNew(spec: Record<string, unknown>, options: Parameters<typeof discoverApp>[1] = {}) {
    const name = uniqueName('prom');
    await createPolicy(kube, name, { maxImages: 50, ...spec });
    created.policies.push(name);
    const answer = await policyChanged(discoverApp(kube, { now: () => NOW, ...options }), name, 'add');
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return readPolicy(kube, name);
  }

  const ranked = (policy: DiscoveryPolicy) =>
    policy.status?.discoveredImages?.map((i) => ({ reference: i.image, score: Number(i.finalScore) }));

  it('ranks images by their values summed over a 168h range, as computed from the data', async () => {
    const policy = await syncNew({ sources: [source({ lookback: '168h', step: '5m' })] });
    const expected = expectedRanking(evaluationTimes(DATA_END, WEEK_SECONDS, STEP_SECONDS));
    expect(policy.status?.phase, policy.status?.message).toBe('Synced');
    expect(ranked(policy)).toEqual(expected);
    // golang came in two spellings and two series; they add up into one image.
    expect(expected[0]).toMatchObject({ reference: 'docker.io/library/golang:1.22' });
    const digest = policy.status?.discoveredImages?.find((i) => i.repository === 'docker.io/library/alpine');
    expect(digest).toMatchObject({ digest: expect.stringMatching(/^sha256:/), queries: ['source-0'] });
    expect(digest).not.toHaveProperty('tag');
    expect(policy.status?.discoveredImages?.find((i) => i.repository === 'registry:5000/x/y')).toMatchObject({
      tag: 'tag',
    });
  });

  it('ranks by the latest values with an instant query, and counts what it skipped', async () => {
    const policy = await syncNew({ sources: [source({})] });
    expect(ranked(policy)).toEqual(expectedRanking([DATA_END]));
    expect(policy.status?.discoveredImages?.[0]?.image).toBe('docker.io/library/node:20');
    const skipped = (why: string) => IMAGE_SERIES.filter((s) => s.skip === why).length;
    expect(policy.status?.message).toContain(
      `skipped ${skipped('withoutImage')} without an image label, ${skipped('nonFinite')} with only NaN/Inf values, ${skipped('unparsable')} with an unparsable image`,
    );
  });

  it('applies imageFilter and maxImages after ranking', async () => {
    const policy = await syncNew({
      imageFilter: '^docker\\.io/library/',
      maxImages: 2,
      sources: [source({ lookback: '168h' })],
    });
    const expected = expectedRanking(evaluationTimes(DATA_END, WEEK_SECONDS, STEP_SECONDS))
      .filter((i) => i.reference.startsWith('docker.io/library/'))
      .slice(0, 2);
    expect(ranked(policy)).toEqual(expected);
    expect(policy.status).toMatchObject({ imageCount: 2, sourceCount: 1 });
  });

  it('runs the users’ example query unchanged', async () => {
    const query = `count(
  container_memory_working_set_bytes{
    container!="", container!="POD",
    namespace="gitlab-runner", pod=~"runner-.*"
  }
) by (image)`;
    const policy = await syncNew({
      imageFilter: 'registry.example.com/.*',
      maxImages: 30,
      sources: [source({ query, lookback: '168h', step: '5m' })],
    });
    const points = evaluationTimes(DATA_END, WEEK_SECONDS, STEP_SECONDS).length;
    expect(ranked(policy)).toEqual([
      { reference: 'registry.example.com/ci/builder:v3.1.0', score: 3 * points },
      { reference: 'registry.example.com/ci/node:20', score: points },
    ]);
  });

  it('says InvalidQuery for a query Prometheus cannot parse, in Prometheus’ words', async () => {
    const policy = await syncNew({ sources: [source({ query: 'sum by (image) (drop_test_containers' })] });
    expect(policy.status).toMatchObject({ phase: 'InvalidQuery', imageCount: 0 });
    expect(policy.status?.message).toMatch(/Prometheus rejected the query: .*parse error/);
  });

  it('says InvalidQuery for a query whose series have no image label', async () => {
    const policy = await syncNew({ sources: [source({ query: 'sum(drop_test_containers)' })] });
    expect(policy.status?.phase).toBe('InvalidQuery');
    expect(policy.status?.message).toContain('none has an image label');
  });

  it('says InvalidResponse for an answer over the size limit', async () => {
    const policy = await syncNew(
      { sources: [source({ lookback: '168h' })] },
      { maxResponseBytes: 64 * 1024 },
    );
    expect(policy.status?.phase).toBe('InvalidResponse');
    expect(policy.status?.message).toContain('answered more than 64 KiB: narrow the query');
  });

  it('says InvalidSpec for a regex JavaScript cannot compile', async () => {
    const policy = await syncNew({ imageFilter: 'registry.example.com/(', sources: [source({})] });
    expect(policy.status).toMatchObject({ phase: 'InvalidSpec', observedGeneration: 1 });
    expect(policy.status?.message).toContain('spec.imageFilter: is not a valid regular expression');
    expect(policy.status).not.toHaveProperty('nextSyncTime');
  });

  it('says Unauthorized for a wrong password, and never writes or logs the password', async () => {
    const wrong = 'not-the-password-0c1d';
    const name = await secret({ username: prometheus.username, password: wrong, 'ca.crt': pki.caPem });
    const logged: string[] = [];
    // The event log line is written at info, which the test run silences by default.
    vi.stubEnv('DROP_LOG_LEVEL', 'info');
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      logged.push(String(chunk));
      return true;
    });
    const policy = await syncNew({ sources: [source({}, name)] }).finally(() => {
      spy.mockRestore();
      vi.unstubAllEnvs();
    });
    expect(policy.status?.phase).toBe('Unauthorized');
    expect(policy.status?.message).toContain('check token or username/password');
    const everything = JSON.stringify(policy) + logged.join('');
    expect(logged.join('')).toContain('handled event');
    for (const leak of [wrong, PASSWORD, Buffer.from(`drop:${wrong}`).toString('base64')])
      expect(everything).not.toContain(leak);
  });

  it('says TLSError when the Secret trusts another CA', async () => {
    const name = await secret({
      username: prometheus.username,
      password: PASSWORD,
      'ca.crt': pki.otherCaPem,
    });
    const policy = await syncNew({ sources: [source({}, name)] });
    expect(policy.status?.phase).toBe('TLSError');
    expect(policy.status?.message).toMatch(/TLS with https:\/\/127\.0\.0\.1:\d+\/api\/v1\/query failed/);
  });

  it('says NotFound for a Secret that does not exist', async () => {
    const policy = await syncNew({ sources: [source({}, 'no-such-secret')] });
    expect(policy.status?.phase).toBe('NotFound');
    expect(policy.status?.message).toContain('Secret drop-system/no-such-secret, which does not exist');
  });

  it('shows the STATUS word and counts in kubectl get', async () => {
    const policy = await syncNew({ sources: [source({})] });
    const table = await kubectl(['get', 'discoverypolicies', policy.metadata.name]);
    expect(table).toMatch(/^NAME\s+STATUS\s+SOURCES\s+IMAGES\s+LASTSYNC\s+AGE/);
    expect(table).toMatch(
      new RegExp(`${policy.metadata.name}\\s+Synced\\s+1\\s+${policy.status?.imageCount}\\s+`),
    );
  });

  it('syncs again at once when the spec changes, and not on its own status update', async () => {
    const policy = await syncNew({ sources: [source({})] });
    const app = discoverApp(kube, { now: () => NOW });
    const again = await policyChanged(app, policy.metadata.name);
    expect(again.body.detail).toContain('is not due');
    expect((await readPolicy(kube, policy.metadata.name)).status?.lastSyncTime).toBe(
      policy.status?.lastSyncTime,
    );
    await patchPolicy(kube, policy.metadata.name, { maxImages: 1 });
    const changed = await policyChanged(app, policy.metadata.name);
    expect(changed.body.detail).toContain('syncing under Lease');
    expect(changed.synced).toContain('spec changed');
    expect((await readPolicy(kube, policy.metadata.name)).status).toMatchObject({
      observedGeneration: 2,
      imageCount: 1,
    });
  });

  it('says Timeout when Prometheus hangs, and keeps the last good images', async () => {
    const policy = await syncNew({ syncInterval: '1m', sources: [source({})] });
    const good = policy.status?.discoveredImages;
    prometheus.server.pause();
    try {
      const later = new Date(NOW.getTime() + 60_000);
      await ping(discoverApp(kube, { now: () => later, requestTimeoutMs: 1_000 }));
    } finally {
      prometheus.server.resume();
    }
    const after = await readPolicy(kube, policy.metadata.name);
    expect(after.status?.phase).toBe('Timeout');
    expect(after.status?.message).toMatch(
      /did not answer within 1 s; keeping the \d+ images of the last good sync/,
    );
    expect(after.status?.discoveredImages).toEqual(good);
  });

  // Last: it stops the server.
  it('says ConnectionRefused once Prometheus is stopped, and keeps the last good images', async () => {
    const policy = await syncNew({ syncInterval: '1m', sources: [source({ lookback: '168h' })] });
    const good = policy.status?.discoveredImages;
    expect(good?.length).toBeGreaterThan(0);
    await prometheus.server.stop();
    await ping(discoverApp(kube, { now: () => new Date(NOW.getTime() + 60_000) }));
    const after = await readPolicy(kube, policy.metadata.name);
    expect(after.status).toMatchObject({
      phase: 'ConnectionRefused',
      imageCount: good?.length,
      lastSuccessfulSyncTime: policy.status?.lastSyncTime,
      conditions: [{ type: 'Ready', status: 'False', reason: 'ConnectionRefused' }],
    });
    expect(after.status?.discoveredImages).toEqual(good);
    expect(after.status?.message).toContain('ECONNREFUSED');
  });
});
