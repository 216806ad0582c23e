// What one policy's trouble may cost the others: a hanging server delays no other policy's sync
// (events come from the real ApiServerSource adapter, one at a time per watch), and a 429 with
// Retry-After from a real rate limit (nginx limit_req in front of the registry and Prometheus)
// is waited out when short and respected when long.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKube, type Kube, loadKubeConfig } from '../../lib/kube/index.ts';
import { type ApiServerSource, startApiServerSource } from '../controlplane/index.ts';
import {
  cleanUp,
  createPolicy,
  createSecret,
  discoverApp,
  NAMESPACE,
  policyChanged,
  readPolicy,
} from '../discovery/cluster.ts';
import { RANKING_QUERY, REPOSITORIES } from '../discovery/data.ts';
import { type RateLimiter, startRateLimiter } from '../discovery/rate-limit.ts';
import { type DiscoveryServers, startDiscoveryServers } from '../discovery/servers.ts';
import { serveOnLoopback } from './drop.ts';
import { kubeconfigPath, uniqueName, waitFor } from './harness.ts';

describe('one policy’s trouble costs the others nothing', () => {
  let servers: DiscoveryServers;
  let kube: Kube;
  const created = { policies: [] as string[], secrets: [] as string[] };

  beforeAll(async () => {
    servers = await startDiscoveryServers();
    kube = createKube(loadKubeConfig(kubeconfigPath()), 'drop-test');
  });

  afterAll(async () => {
    if (kube) await cleanUp(kube, created);
    await servers?.stop();
  });

  async function newPolicy(spec: Record<string, unknown>): Promise<string> {
    const name = uniqueName('isolation');
    await createPolicy(kube, name, spec);
    created.policies.push(name);
    return name;
  }

  describe('fed by the real ApiServerSource adapter', () => {
    let adapter: ApiServerSource;
    let server: ServerType;
    let hanging: Server;
    const sockets = new Set<Socket>();
    let hangingUrl: string;

    beforeAll(async () => {
      // A server that accepts connections and never answers: the request waits for its timeout.
      hanging = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
      const address = hanging.address();
      hangingUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const served = await serveOnLoopback(discoverApp(kube, { requestTimeoutMs: 20_000 }));
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
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => hanging?.close(resolve));
      await new Promise((resolve) => server?.close(resolve));
    });

    it('syncs a new policy at once while another policy’s server hangs', async () => {
      const stuck = await newPolicy({
        queries: [{ name: 'hangs', type: 'prometheus', prometheus: { endpoint: hangingUrl, query: 'up' } }],
      });
      await waitFor(() => sockets.size > 0, {
        timeoutMs: 20_000,
        message: 'the stuck policy’s request reached the server',
      });
      const fine = await newPolicy({
        queries: [
          {
            name: 'tags',
            type: 'registry',
            registry: { url: servers.registry.url, repositories: ['team/frontend'] },
          },
        ],
      });
      // Normally well inside the stuck request's 20 s; on a busy machine perhaps not, so the proof is
      // the order of the two syncs' ends: held back, the fine one could finish only after the stuck one.
      const synced = await waitFor(
        async () => {
          const policy = await readPolicy(kube, fine);
          return policy.status?.phase === 'Synced' && policy;
        },
        { timeoutMs: 90_000, message: `${fine} synced while ${stuck} waits for its server` },
      );
      expect(synced.status?.imageCount).toBeGreaterThan(0);
      const stuckEnd = (await readPolicy(kube, stuck)).status?.lastSyncTime;
      if (stuckEnd !== undefined)
        expect(Date.parse(synced.status?.lastSyncTime ?? '')).toBeLessThan(Date.parse(stuckEnd));
      const timedOut = await waitFor(
        async () => {
          const policy = await readPolicy(kube, stuck);
          return policy.status?.phase ? policy : undefined;
        },
        { timeoutMs: 120_000, message: `${stuck} ends with the request timeout` },
      );
      expect(timedOut.status).toMatchObject({
        phase: 'Timeout',
        queryResults: [{ name: 'hangs', status: 'failed', reason: 'Timeout' }],
      });
    }, 300_000);
  });

  describe('behind a real rate limit (nginx limit_req)', () => {
    let dir: string;
    let registryLimit: RateLimiter;
    let prometheusLimit: RateLimiter;
    let secret: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'drop-rate-limit-'));
      const zones = [
        { name: 'short', everySeconds: 2, retryAfterSeconds: 2 },
        { name: 'long', everySeconds: 60, retryAfterSeconds: 600 },
      ];
      registryLimit = await startRateLimiter({
        dir: join(dir, 'registry'),
        upstream: servers.registry.url,
        zones,
      });
      // Prometheus speaks TLS with the test CA here; nginx talks to it without checking, as a sidecar would.
      prometheusLimit = await startRateLimiter({
        dir: join(dir, 'prometheus'),
        upstream: servers.prometheus.url,
        zones,
      });
      secret = uniqueName('prom-creds');
      const { username = '', password = '' } = servers.prometheusSecret;
      await createSecret(kube, secret, { username, password });
      created.secrets.push(secret);
    });

    afterAll(async () => {
      await registryLimit?.server.stop();
      await prometheusLimit?.server.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const repositories = Object.keys(REPOSITORIES);

    it('waits out a short Retry-After within the sync and succeeds', async () => {
      const name = await newPolicy({
        queries: [
          { name: 'tags', type: 'registry', registry: { url: registryLimit.url('short'), repositories } },
        ],
      });
      const before = registryLimit.limited();
      await policyChanged(discoverApp(kube), name, 'add');
      const policy = await readPolicy(kube, name);
      expect(policy.status?.phase, policy.status?.message).toBe('Synced');
      // One request per repository, one every 2 s allowed: each after the first was answered 429 first.
      expect(registryLimit.limited() - before).toBeGreaterThanOrEqual(repositories.length - 1);
    }, 60_000);

    it('says RateLimited for a long Retry-After from the registry, and comes back no sooner', async () => {
      const name = await newPolicy({
        queries: [
          { name: 'tags', type: 'registry', registry: { url: registryLimit.url('long'), repositories } },
        ],
      });
      const started = Date.now();
      await policyChanged(discoverApp(kube), name, 'add');
      const policy = await readPolicy(kube, name);
      expect(policy.status).toMatchObject({
        phase: 'RateLimited',
        queryResults: [{ name: 'tags', status: 'failed', reason: 'RateLimited' }],
      });
      expect(policy.status?.message).toContain('it asks to wait 600 s');
      expect(Date.parse(policy.status?.nextSyncTime ?? '')).toBeGreaterThanOrEqual(started + 600_000);
    });

    it('says RateLimited when Prometheus’s limit answers 429 with a long Retry-After', async () => {
      const query = (n: string) => ({
        name: n,
        type: 'prometheus',
        prometheus: { endpoint: prometheusLimit.url('long'), query: RANKING_QUERY, queryType: 'instant' },
        secretRef: { name: secret },
      });
      // Two queries run at once; the limit lets one through.
      const name = await newPolicy({ queries: [query('first'), query('second')] });
      const started = Date.now();
      await policyChanged(discoverApp(kube), name, 'add');
      const policy = await readPolicy(kube, name);
      expect(policy.status?.phase, policy.status?.message).toBe('RateLimited');
      expect(policy.status?.queryResults?.map((q) => q.reason).sort()).toEqual(['RateLimited', 'Synced']);
      expect(Date.parse(policy.status?.nextSyncTime ?? '')).toBeGreaterThanOrEqual(started + 600_000);
    });
  });
});
