// A registry's 429 on the control plane, against a real registry behind a refusing proxy: the
// throttled pull pauses every policy's pulls from that host (and none from another host), no node
// is marked failed for it, the status says RegistryRateLimited with the host and when pulls
// resume, and pulls resume after the pause. A host cap is never exceeded.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HOST_ANNOTATION,
  hostLeaseName,
  RECORD_ANNOTATION,
  REGISTRY_HOST_LABEL,
} from '../../functions/pace/hosts.ts';
import { type CachedImage, statusWord } from '../../lib/api/index.ts';
import { informers } from '../../lib/controller/index.ts';
import { type KubeObject, paths } from '../../lib/kube/index.ts';
import { RESERVATION_MS } from '../../lib/pacing/index.ts';
import { pullPolicies } from '../../lib/watched.ts';
import { createNodes, deleteNodes } from '../controlplane/index.ts';
import { ensureDiscoveryServers } from '../discovery/process.ts';
import { pushImage, startRegistry, type TestRegistry } from '../discovery/registry.ts';
import { type RegistryProxy, startRegistryProxy } from '../discovery/registry-proxy.ts';
import { NAMESPACE, type RunningDrop, startDrop } from './drop.ts';
import { kubeconfigPath, kubectl, uniqueName, waitFor } from './harness.ts';
import { cachedImage, pullPolicy } from './objects.ts';
import { samplePulls } from './pull-sampler.ts';

// The pause a throttle without a visible Retry-After sets (lib/pacing/hosts.ts), plus room.
const PAUSE_MS = 60_000;

describe('registry rate limits', { timeout: 300_000 }, () => {
  let dir: string;
  let registry: TestRegistry;
  let limited: RegistryProxy;
  let other: RegistryProxy;
  let drop: RunningDrop;
  let nodes: string[] = [];
  const pool = uniqueName('rl');
  const policies = [uniqueName('rl-a'), uniqueName('rl-b')];
  const created: string[] = [];

  beforeAll(async () => {
    ensureDiscoveryServers();
    dir = mkdtempSync(join(tmpdir(), 'drop-rate-limit-'));
    const storageDir = join(dir, 'storage');
    mkdirSync(storageDir);
    registry = await startRegistry({ dir, name: 'open', storageDir, auth: { kind: 'none' } });
    limited = await startRegistryProxy(registry.url);
    other = await startRegistryProxy(registry.url);
    for (const repository of ['team/a', 'team/b', 'team/c', 'team/d'])
      await pushImage(registry.url, repository, ['1.0'], { variant: repository });
    nodes = await createNodes(3, {
      kubeconfigPath: kubeconfigPath(),
      prefix: pool,
      labels: { 'drop.test/pool': pool },
    });
    drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true });
    for (const policy of policies)
      await drop.kube.create(
        paths.pullPolicies(),
        pullPolicy(policy, {
          maxConcurrentNodes: 3,
          minDelayBetweenPulls: '0s',
          maxConcurrentPullsPerNode: 4,
        }),
      );
  });
  afterAll(async () => {
    for (const name of created) await drop?.kube.delete(paths.cachedImage(name));
    for (const policy of policies) await drop?.kube.delete(paths.pullPolicy(policy));
    await drop?.stop();
    await deleteNodes(kubeconfigPath(), nodes);
    for (const host of [limited?.host, other?.host])
      if (host)
        await kubectl(['delete', 'lease', '-n', NAMESPACE, hostLeaseName(host), '--ignore-not-found']);
    await limited?.stop();
    await other?.stop();
    await registry?.server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Adds a host cap to a policy and waits until every Drop's own cache of the policies (the one its
   * pacer reads) holds it. A cap applies from the moment a replica has seen it: a replica whose
   * watch is behind (a second or more on a busy machine) starts pulls under the policy it has, as
   * the chaos suite's limit checks allow (test/chaos/README.md). The test checks the cap itself,
   * so it starts the pulls only once every replica knows it.
   */
  async function capHost(policy: string, host: string, drops: readonly RunningDrop[]): Promise<void> {
    await drop.kube.mergePatch(paths.pullPolicy(policy), {
      spec: { registries: [{ host, maxConcurrentPulls: 1 }] },
    });
    for (const each of drops) {
      const { informer, release } = await informers(each.kube).acquire(pullPolicies);
      try {
        await informer.synced();
        await waitFor(() => (informer.get(policy)?.spec?.registries ?? []).some((r) => r.host === host), {
          timeoutMs: 60_000,
          message: `the cap on ${host} in a Drop's cache of ${policy}`,
        });
      } finally {
        release();
      }
    }
  }

  async function create(name: string, host: string, repository: string, policy: string): Promise<void> {
    created.push(name);
    await drop.kube.create(
      paths.cachedImages(),
      cachedImage(name, {
        image: `${host}/${repository}`,
        tag: '1.0',
        nodeSelector: { 'drop.test/pool': pool },
        policyRef: { name: policy },
      }),
    );
  }

  const get = (name: string) => drop.kube.get<CachedImage>(paths.cachedImage(name));

  async function until(
    name: string,
    done: (image: CachedImage) => boolean,
    what: string,
    timeoutMs = 90_000,
  ) {
    return waitFor(
      async () => {
        const image = await get(name);
        if (image && done(image)) return image;
        throw new Error(JSON.stringify(image?.status));
      },
      { timeoutMs, intervalMs: 300, message: `${name}: ${what}` },
    );
  }

  it('a 429 pauses every policy’s pulls from that host and none from another; no node fails; pulls resume', async () => {
    const sampler = samplePulls(drop.kube, NAMESPACE);
    limited.refuse({ status: 429, retryAfterSeconds: 30, times: 1 });
    const first = uniqueName('rl-first');
    await create(first, limited.host, 'team/a', policies[0]!);
    const paused = await until(
      first,
      (i) => statusWord(i.status) === 'RegistryRateLimited',
      'RegistryRateLimited',
    );
    const throttledAt = Date.now();
    expect(paused.status?.failedNodes ?? []).toEqual([]);
    expect(paused.status?.message).toMatch(/429 Too Many Requests/);

    // Another policy's image from the same host waits; one from another host is cached meanwhile.
    const same = uniqueName('rl-same');
    const elsewhere = uniqueName('rl-elsewhere');
    await create(same, limited.host, 'team/b', policies[1]!);
    await create(elsewhere, other.host, 'team/c', policies[1]!);
    await until(elsewhere, (i) => statusWord(i.status) === 'Cached', 'Cached from the other host');
    const waiting = await until(
      same,
      (i) => statusWord(i.status) === 'RegistryRateLimited',
      'RegistryRateLimited from the paused host',
    );
    expect(waiting.status?.message).toContain(
      `registry ${limited.host} rate-limited pulls: no new pull from it before`,
    );
    const lease = await drop.kube.get<KubeObject>(paths.lease(NAMESPACE, hostLeaseName(limited.host)));
    const record = JSON.parse(lease?.metadata.annotations?.['drop.corewire.io/registry-record'] ?? '{}');
    expect(record.pausedUntil).toBeGreaterThan(throttledAt);

    // Both images end Cached after the pause, without a failed node. A holder lets its policy go
    // when nothing can start within its window (as during a long backoff): the resync ping, sent
    // here as the PingSource would, brings it back once the pause has ended.
    let pinging = true;
    const pinger = (async () => {
      while (pinging) {
        await new Promise((r) => setTimeout(r, 5_000));
        if (pinging) await drop.pingAll().catch(() => undefined);
      }
    })();
    const resumed = await until(
      first,
      (i) => statusWord(i.status) === 'Cached',
      'Cached after the pause',
      PAUSE_MS + 90_000,
    );
    await until(same, (i) => statusWord(i.status) === 'Cached', 'Cached after the pause', 90_000);
    pinging = false;
    await pinger;
    expect(resumed.status?.failedNodes ?? []).toEqual([]);
    await sampler.stop();
    // No pull of either image from the paused host started between the throttle and the pause's end.
    const fromLimited = [first, same].flatMap((name) => sampler.startsOf(name));
    const during = fromLimited.filter((at) => at > throttledAt + 2_000 && at < record.pausedUntil - 1_000);
    expect(during).toEqual([]);
    expect(await kubectl(['describe', 'cachedimage', first])).toMatch(/RegistryRateLimited/);
  });

  it('a host cap of one pull at once is never exceeded, across two policies', async () => {
    await capHost(policies[0]!, other.host, [drop]);
    const sampler = samplePulls(drop.kube, NAMESPACE);
    const names = [uniqueName('rl-cap-a'), uniqueName('rl-cap-b')];
    await create(names[0]!, other.host, 'team/d', policies[0]!);
    await create(names[1]!, other.host, 'team/a', policies[1]!);
    for (const name of names)
      await until(name, (i) => statusWord(i.status) === 'Cached', 'Cached under the cap');
    await sampler.stop();
    expect(sampler.most((s) => s.pods.filter((p) => names.includes(p.image)).length)).toBe(1);
  });

  it('a pull refused only for a reservation no pod shows for starts when that reservation ages out, with no event to say so', async () => {
    // A replica that died right after reserving leaves a reservation of a pod nobody will ever see:
    // it counts for RESERVATION_MS. Here it ages out 8 s after the image is created, and nothing else
    // happens then (no pull ends, no ping comes): the refused pull must wake itself.
    const capped = await startRegistryProxy(registry.url);
    try {
      await capHost(policies[0]!, capped.host, [drop]);
      const name = hostLeaseName(capped.host);
      const reservedAt = Date.now() - RESERVATION_MS + 8_000;
      await drop.kube.create(paths.leases(NAMESPACE), {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name,
          namespace: NAMESPACE,
          labels: { [REGISTRY_HOST_LABEL]: name.slice('drop-registry-'.length) },
          annotations: {
            [HOST_ANNOTATION]: capped.host,
            [RECORD_ANNOTATION]: JSON.stringify({
              starts: [reservedAt],
              reservations: [{ pod: 'pull-of-a-replica-that-died', at: reservedAt }],
            }),
          },
        },
        spec: {},
      });
      const image = uniqueName('rl-aged');
      const sampler = samplePulls(drop.kube, NAMESPACE);
      await create(image, capped.host, 'team/b', policies[0]!);
      const cached = await until(
        image,
        (i) => statusWord(i.status) === 'Cached',
        'Cached once the reservation aged out',
      );
      await sampler.stop();
      expect(cached.status?.cachedNodes?.length).toBe(nodes.length);
      // The reservation held the one slot until it aged out, and the pull started then, not when some
      // later event happened to come (without the wake: ~20 s later, at the image's next status write).
      const agedOut = reservedAt + RESERVATION_MS;
      const first = sampler.startsOf(image)[0] ?? Number.NaN;
      expect(first).toBeGreaterThan(agedOut - 1_000);
      expect(first - agedOut).toBeLessThan(12_000);
      await kubectl(['delete', 'lease', '-n', NAMESPACE, name, '--ignore-not-found']);
    } finally {
      await capped.stop();
    }
  });

  it('with two replicas, a host cap of one pull at once still holds: slots are reserved in the host Lease', async () => {
    const second = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true });
    try {
      const capped = await startRegistryProxy(registry.url);
      await capHost(policies[1]!, capped.host, [drop, second]);
      const sampler = samplePulls(drop.kube, NAMESPACE);
      const names = [uniqueName('rl-two-a'), uniqueName('rl-two-b'), uniqueName('rl-two-c')];
      await create(names[0]!, capped.host, 'team/a', policies[0]!);
      await create(names[1]!, capped.host, 'team/b', policies[1]!);
      await create(names[2]!, capped.host, 'team/c', policies[0]!);
      for (const name of names)
        await until(name, (i) => statusWord(i.status) === 'Cached', 'Cached under the cap');
      await sampler.stop();
      const over = sampler.samples
        .filter((s) => s.pods.filter((p) => names.includes(p.image)).length > 1)
        .map((s) => ({
          at: new Date(s.at).toISOString(),
          pods: s.pods.filter((p) => names.includes(p.image)),
        }));
      const lease = await drop.kube.get<KubeObject>(paths.lease(NAMESPACE, hostLeaseName(capped.host)));
      expect(
        sampler.most((s) => s.pods.filter((p) => names.includes(p.image)).length),
        JSON.stringify({ over: over.slice(0, 3), lease: lease?.metadata.annotations }, null, 1),
      ).toBe(1);
      await kubectl(['delete', 'lease', '-n', NAMESPACE, hostLeaseName(capped.host), '--ignore-not-found']);
      await capped.stop();
    } finally {
      await second.stop();
    }
  });
});
