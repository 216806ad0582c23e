// The discover function as Knative runs it: fed by the real ApiServerSource adapter, several
// replicas at once, many policies per ping, and the users' discovery examples end to end up to the
// DiscoveryPolicy status (which reconcile-set turns into the set's children).
import type { ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscoveryPolicy } from '../../lib/api/index.ts';
import { createKube, type Kube, loadKubeConfig, paths } from '../../lib/kube/index.ts';
import { discoverySyncsTotal } from '../../lib/metrics.ts';
import { type ApiServerSource, startApiServerSource } from '../controlplane/index.ts';
import {
  cleanUp,
  createPolicy,
  createSecret,
  discoverApp,
  NAMESPACE,
  ping,
  readPolicy,
} from '../discovery/cluster.ts';
import {
  DATA_END,
  evaluationTimes,
  NEWEST_V_TAGS,
  RANKING_QUERY,
  STEP_SECONDS,
  WEEK_SECONDS,
} from '../discovery/data.ts';
import { asYaml, prometheusExample, registryExample } from '../discovery/examples.ts';
import { type DiscoveryServers, startDiscoveryServers } from '../discovery/servers.ts';
import { serveOnLoopback } from './drop.ts';
import { kubeconfigPath, kubectl, uniqueName, waitFor } from './harness.ts';

const NOW = new Date((DATA_END + 30) * 1000);

async function syncCount(policy: string): Promise<number> {
  const { values } = await discoverySyncsTotal.get();
  return values.filter((v) => v.labels.policy === policy).reduce((sum, v) => sum + v.value, 0);
}

describe('the discover function', () => {
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

  function prometheusSource(extra: Record<string, unknown> = {}) {
    return {
      type: 'prometheus',
      prometheus: { endpoint: servers.prometheus.url, query: RANKING_QUERY, ...extra },
      secretRef: { name: secret },
    };
  }

  async function newPolicy(spec: Record<string, unknown>): Promise<string> {
    const name = uniqueName('fn');
    await createPolicy(kube, name, spec);
    created.policies.push(name);
    return name;
  }

  describe('fed by the real ApiServerSource adapter', () => {
    let adapter: ApiServerSource;
    let server: ServerType;

    beforeAll(async () => {
      const served = await serveOnLoopback(discoverApp(kube));
      server = served.server;
      adapter = await startApiServerSource({
        kubeconfigPath: kubeconfigPath(),
        sink: served.url,
        mode: 'Reference',
        resources: [{ apiVersion: 'drop.corewire.io/v1alpha1', kind: 'DiscoveryPolicy' }],
        namespaces: [NAMESPACE],
      });
    });

    afterAll(async () => {
      await adapter?.stop();
      await new Promise((resolve) => server?.close(resolve));
    });

    it('syncs a new policy at once, and its own status update does not sync it again', async () => {
      const name = await newPolicy({ sources: [prometheusSource({ lookback: '168h' })] });
      const synced = await waitFor(
        async () => {
          const policy = await readPolicy(kube, name);
          return policy.status?.phase === 'Synced' && policy;
        },
        { timeoutMs: 90_000, message: `${name} synced from its add event` },
      );
      expect(synced.status?.imageCount).toBeGreaterThan(0);
      // The status write comes back as an update event; give the adapter time to deliver it.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect((await readPolicy(kube, name)).status?.lastSyncTime).toBe(synced.status?.lastSyncTime);
      expect(await syncCount(name)).toBe(1);
    });

    it('syncs again when the spec changes', async () => {
      const name = await newPolicy({ sources: [prometheusSource({ lookback: '168h' })] });
      await waitFor(async () => (await readPolicy(kube, name)).status?.observedGeneration === 1, {
        timeoutMs: 90_000,
      });
      await kubectl(['patch', 'discoverypolicy', name, '--type=merge', '-p', '{"spec":{"maxImages":2}}']);
      const after = await waitFor(
        async () => {
          const policy = await readPolicy(kube, name);
          return policy.status?.observedGeneration === 2 && policy;
        },
        { timeoutMs: 90_000, message: `${name} synced after its spec changed` },
      );
      expect(after.status?.imageCount).toBe(2);
      expect(await syncCount(name)).toBe(2);
    });
  });

  it('lets exactly one of several replicas sync a policy that all of them find due', async () => {
    const name = await newPolicy({ sources: [prometheusSource({ lookback: '168h' })] });
    const replicas = Array.from({ length: 4 }, (_, i) =>
      discoverApp(kube, { now: () => NOW, identity: `replica-${i}` }),
    );
    const answers = await Promise.all(replicas.map((app) => ping(app)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(await syncCount(name)).toBe(1);
    expect((await readPolicy(kube, name)).status?.phase).toBe('Synced');
    const lease = await kube.get(paths.lease(NAMESPACE, `drop-discover-${name}`));
    expect(lease).toMatchObject({ spec: expect.not.objectContaining({ holderIdentity: expect.anything() }) });
  });

  it('keeps syncing every other policy when one fails', async () => {
    const broken = await newPolicy({
      sources: [{ type: 'prometheus', prometheus: { endpoint: 'http://127.0.0.1:1', query: 'up' } }],
    });
    const bad = await newPolicy({ imageFilter: '(', sources: [prometheusSource()] });
    const good = await newPolicy({ sources: [prometheusSource()] });
    const answer = await ping(discoverApp(kube, { now: () => NOW }));
    expect(answer.status).toBe(200);
    const phase = async (name: string) => (await readPolicy(kube, name)).status?.phase;
    expect([await phase(broken), await phase(bad), await phase(good)]).toEqual([
      'ConnectionRefused',
      'InvalidSpec',
      'Synced',
    ]);
  });

  describe('the users’ examples, pointed at the test servers', () => {
    const objects = () => [...prometheusExample(servers), ...registryExample(servers)];

    beforeAll(async () => {
      await kubectl(['delete', '--ignore-not-found', '-f', '-'], { input: asYaml(objects()) });
      await kubectl(['apply', '-f', '-'], { input: asYaml(objects()) });
    });

    afterAll(async () => {
      await kubectl(['delete', '--ignore-not-found', '-f', '-'], { input: asYaml(objects()) });
    });

    async function synced(name: string): Promise<DiscoveryPolicy> {
      await ping(discoverApp(kube, { now: () => NOW }));
      return readPolicy(kube, name);
    }

    it('discovery-prometheus.yaml ranks the runner images over the last week', async () => {
      const policy = await synced('popular-build-images');
      const points = evaluationTimes(DATA_END, WEEK_SECONDS, STEP_SECONDS).length;
      expect(policy.status?.phase, policy.status?.message).toBe('Synced');
      expect(policy.status?.discoveredImages).toEqual([
        {
          image: 'registry.example.com/ci/builder:v3.1.0',
          rank: 1,
          finalScore: String(3 * points),
          repository: 'registry.example.com/ci/builder',
          tag: 'v3.1.0',
          queries: ['source-0'],
          contributions: [{ signal: 'source 0 (prometheus)', value: 3 * points, score: 3 * points }],
        },
        {
          image: 'registry.example.com/ci/node:20',
          rank: 2,
          finalScore: String(points),
          repository: 'registry.example.com/ci/node',
          tag: '20',
          queries: ['source-0'],
          contributions: [{ signal: 'source 0 (prometheus)', value: points, score: points }],
        },
      ]);
    });

    it('discovery-registry.yaml keeps the newest three v-tags of each repository', async () => {
      const policy = await synced('latest-app-tags');
      expect(policy.status?.phase, policy.status?.message).toBe('Synced');
      const host = servers.basicRegistry.host;
      const expected = Object.entries(NEWEST_V_TAGS).flatMap(([repository, tags]) =>
        tags
          .slice(0, 3)
          .map((tag, rank) => ({ reference: `${host}/${repository}:${tag}`, score: 1 / (rank + 1) })),
      );
      expected.sort((a, b) => b.score - a.score || (a.reference < b.reference ? -1 : 1));
      expect(
        policy.status?.discoveredImages?.map((i) => ({ reference: i.image, score: Number(i.finalScore) })),
      ).toEqual(expected);
      const table = await kubectl(['get', 'discoverypolicies', 'latest-app-tags']);
      expect(table).toMatch(/latest-app-tags\s+Synced\s+1\s+6\s+/);
    });
  });
});
