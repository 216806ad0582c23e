// The pipeline form (queries → signals → ranking) against real components: pull events the
// kwok stages write as the kubelet does (Event objects in the API server), the backfilled
// Prometheus, and the registry with GitLab-runner-helper-like tags.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscoveryPolicy } from '../../lib/api/index.ts';
import { createKube, type Kube, loadKubeConfig, paths } from '../../lib/kube/index.ts';
import {
  cleanUp,
  createPolicy,
  createSecret,
  discoverApp,
  ping,
  policyChanged,
  readPolicy,
} from '../discovery/cluster.ts';
import {
  DATA_END,
  evaluationTimes,
  expectedRanking,
  RANKING_QUERY,
  STEP_SECONDS,
  WEEK_SECONDS,
} from '../discovery/data.ts';
import { pushImage, rawTags, startRegistry, type TestRegistry } from '../discovery/registry.ts';
import { type DiscoveryServers, startDiscoveryServers } from '../discovery/servers.ts';
import { kubeconfigPath, uniqueName, waitFor } from './harness.ts';

const NOW = new Date((DATA_END + 30) * 1000);

describe('the pipeline form of a DiscoveryPolicy', () => {
  let servers: DiscoveryServers;
  let kube: Kube;
  let secret: string;
  const created = { policies: [] as string[], secrets: [] as string[] };

  beforeAll(async () => {
    servers = await startDiscoveryServers();
    kube = createKube(loadKubeConfig(kubeconfigPath()), 'drop-test');
    secret = uniqueName('prom-creds');
    await createSecret(kube, secret, { ...servers.prometheusSecret });
    created.secrets.push(secret);
  });

  afterAll(async () => {
    if (kube) await cleanUp(kube, created);
    await servers?.stop();
  });

  async function syncNew(spec: Record<string, unknown>, now = NOW): Promise<DiscoveryPolicy> {
    const name = uniqueName('pipeline');
    await createPolicy(kube, name, spec);
    created.policies.push(name);
    const answer = await policyChanged(discoverApp(kube, { now: () => now }), name, 'add');
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return readPolicy(kube, name);
  }

  const ranked = (policy: DiscoveryPolicy) =>
    policy.status?.discoveredImages?.map((i) => ({ reference: i.image, score: Number(i.finalScore) }));

  it('a prometheus query with a sum signal ranks as the data says, and explains each score', async () => {
    const policy = await syncNew({
      queries: [
        {
          name: 'usage',
          type: 'prometheus',
          prometheus: {
            endpoint: servers.prometheus.url,
            query: RANKING_QUERY,
            lookback: '168h',
            step: '5m',
          },
          secretRef: { name: secret },
        },
      ],
      signals: [{ name: 'total', query: 'usage', type: 'aggregate', aggregate: { method: 'sum' } }],
      ranking: { strategy: 'signal', signal: 'total' },
    });
    expect(policy.status?.phase, policy.status?.message).toBe('Synced');
    expect(ranked(policy)).toEqual(expectedRanking(evaluationTimes(DATA_END, WEEK_SECONDS, STEP_SECONDS)));
    expect(policy.status?.discoveredImages?.[0]).toMatchObject({
      rank: 1,
      queries: ['usage'],
      contributions: [{ signal: 'total', value: Number(policy.status?.discoveredImages?.[0]?.finalScore) }],
    });
    expect(policy.status?.queryResults).toEqual([
      expect.objectContaining({ name: 'usage', type: 'prometheus', status: 'success', reason: 'Synced' }),
    ]);
    expect(policy.status?.ranking?.summary).toMatch(
      /^signal total; top docker\.io\/library\/golang:1\.22 = /,
    );
  });

  describe('a registry query', () => {
    let dir: string;
    let registry: TestRegistry;
    const HELPER = [
      'x86_64-v17.9.0',
      'aaa-build-1',
      'x86_64-latest',
      'x86_64-v17.10.0',
      'x86_64-v17.5.0',
      'zzz-nightly',
    ];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'drop-registry-bounds-'));
      registry = await startRegistry({
        dir,
        name: 'logged',
        storageDir: join(dir, 'storage'),
        auth: { kind: 'none' },
        accessLog: true,
      });
      await pushImage(registry.url, 'gitlab/helper', HELPER);
    });

    afterAll(async () => {
      await registry?.server.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const helperQuery = (registryFields: Record<string, unknown>) => ({
      queries: [
        {
          name: 'helper-tags',
          type: 'registry',
          registry: { url: registry.url, repositories: ['gitlab/helper'], ...registryFields },
        },
      ],
    });

    it('with versionPattern picks x86_64-v17.10.0 over x86_64-v17.9.0, newest first without a ranking', async () => {
      const policy = await syncNew(
        helperQuery({ tagFilter: '^x86_64-v[0-9]+\\.', versionPattern: 'x86_64-v(.+)', topX: 2 }),
      );
      expect(policy.status?.phase, policy.status?.message).toBe('Synced');
      expect(policy.status?.discoveredImages?.map((i) => [i.tag, i.finalScore])).toEqual([
        ['x86_64-v17.10.0', '1'],
        ['x86_64-v17.9.0', '0.5'],
      ]);
      expect(policy.status?.ranking?.strategy).toBe('default');
    });

    it('fetches from tagSeek on and at most maxScan tags, asking the registry for exactly that', async () => {
      const policy = await syncNew(
        helperQuery({ tagSeek: 'x86_64-u~', maxScan: 2, versionPattern: 'x86_64-v(.+)' }),
      );
      expect(policy.status?.phase, policy.status?.message).toBe('Synced');
      // Registry 2.8 answers every tag whatever it is asked; the first two after the seek, in its order, are kept.
      const listed = await rawTags(registry.url, 'gitlab/helper');
      const scanned = listed.filter((t) => t > 'x86_64-u~').slice(0, 2);
      expect(policy.status?.discoveredImages?.map((i) => i.tag).sort()).toEqual([...scanned].sort());
      expect(policy.status?.message).toContain('stopped at maxScan 2 in 1');
      const asked = readFileSync(registry.logFile, 'utf8');
      expect(asked).toMatch(
        /GET \/v2\/gitlab\/helper\/tags\/list\?(?=[^ ]*n=2)(?=[^ ]*last=x86_64-u(~|%7E))/,
      );
    });

    it('renders imageTemplate', async () => {
      const policy = await syncNew(
        helperQuery({
          tagFilter: '^x86_64-v17\\.10',
          imageTemplate: 'mirror.example.com/{{.Repository}}:{{.Tag}}',
        }),
      );
      expect(policy.status?.discoveredImages?.map((i) => i.image)).toEqual([
        'mirror.example.com/gitlab/helper:x86_64-v17.10.0',
      ]);
    });
  });

  describe('a kubernetesEvents query', () => {
    const namespace = uniqueName('ci-runners');
    // Pull times in seconds (the pods' drop.test/pull-delay, which the kwok stage reports in its
    // Pulled event). p95 (rank 0.95·2 = 1.9): golang 3 + 0.9·(9 − 3) = 8.4; python 5 + 0.9·(6 − 5) = 5.9.
    // Their averages rank the other way round (4.67 < 5.33): the order proves the statistic.
    const PULLS = [
      ['runner-a1', 'golang:1.22', '2s'],
      ['runner-a2', 'golang:1.22', '3s'],
      ['runner-a3', 'golang:1.22', '9s'],
      ['runner-b1', 'python:3.12', '5s'],
      ['runner-b2', 'python:3.12', '5s'],
      ['runner-b3', 'python:3.12', '6s'],
      ['web-1', 'nginx:1.25', '1s'],
    ] as const;

    beforeAll(async () => {
      await kube.create('/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: namespace },
      });
      // No ServiceAccount controller here (test/controlplane/README.md): pods need their default one.
      await kube.create(`/api/v1/namespaces/${namespace}/serviceaccounts`, {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'default', namespace },
      });
      for (const [name, image, delay] of PULLS)
        await kube.create(paths.pods(namespace), {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name,
            namespace,
            annotations: { 'drop.test/pull-delay': delay, 'drop.test/image-size': '100Mi' },
          },
          spec: { nodeName: 'kwok-node-1', containers: [{ name: 'build', image }] },
        });
      await waitFor(
        async () => {
          const events = await kube.list<{ metadata: { name: string }; reason?: string }>(
            paths.events(namespace),
            {
              fieldSelector: 'reason=Pulled',
            },
          );
          return events.items.length === PULLS.length;
        },
        { timeoutMs: 90_000, message: 'every pod’s Pulled event' },
      );
    }, 120_000);

    afterAll(async () => {
      await kube?.delete(`/api/v1/namespaces/${namespace}`);
    });

    it('ranks images by p95 pull time from the kubelet’s Pulled events', async () => {
      const policy = await syncNew(
        {
          queries: [
            {
              name: 'pulls',
              type: 'kubernetesEvents',
              kubernetesEvents: { namespace, podNamePattern: '^runner-' },
            },
          ],
          signals: [
            { name: 'p95-pull', query: 'pulls', type: 'eventPullTime', eventPullTime: { statistic: 'p95' } },
          ],
          ranking: { strategy: 'signal', signal: 'p95-pull' },
        },
        new Date(),
      );
      expect(policy.status?.phase, policy.status?.message).toBe('Synced');
      const images = policy.status?.discoveredImages ?? [];
      expect(images.map((i) => i.image)).toEqual([
        'docker.io/library/golang:1.22',
        'docker.io/library/python:3.12',
      ]);
      expect(Number(images[0]?.finalScore)).toBeCloseTo(8.4, 9);
      expect(Number(images[1]?.finalScore)).toBeCloseTo(5.9, 9);
      expect(policy.status?.queryResults?.[0]?.message).toBe(
        '2 images from 6 pulls in 6 image events of 7 read',
      );
    });

    it('ranks by image size from the same events, bytes as the kubelet states them', async () => {
      const policy = await syncNew(
        {
          queries: [{ name: 'pulls', type: 'kubernetesEvents', kubernetesEvents: { namespace } }],
          signals: [
            {
              name: 'size',
              query: 'pulls',
              type: 'eventPullTime',
              eventPullTime: { metric: 'imageSize', statistic: 'max' },
            },
          ],
          ranking: { strategy: 'signal', signal: 'size' },
        },
        new Date(),
      );
      expect(policy.status?.discoveredImages?.map((i) => i.finalScore)).toEqual([
        String(100 * 2 ** 20),
        String(100 * 2 ** 20),
        String(100 * 2 ** 20),
      ]);
    });
  });

  it('keeps every other policy’s sync going when one ping meets a failing query', async () => {
    const broken = uniqueName('pipeline');
    await createPolicy(kube, broken, {
      queries: [
        { name: 'gone', type: 'prometheus', prometheus: { endpoint: 'http://127.0.0.1:1', query: 'up' } },
      ],
    });
    created.policies.push(broken);
    const answer = await ping(discoverApp(kube, { now: () => NOW }));
    expect(answer.status).toBe(200);
    expect((await readPolicy(kube, broken)).status).toMatchObject({
      phase: 'ConnectionRefused',
      queryResults: [{ name: 'gone', status: 'failed', reason: 'ConnectionRefused' }],
    });
  });
});
