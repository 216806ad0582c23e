import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPacer } from '../../functions/pace/index.ts';
import { type CachedImage, statusWord } from '../../lib/api/index.ts';
import { type Lease, microTime } from '../../lib/controller/lease-holder.ts';
import { paths } from '../../lib/kube/index.ts';
import { createNodes, deleteNodes } from '../controlplane/index.ts';
import { NAMESPACE, type RunningDrop, startDrop } from './drop.ts';
import { kubeconfigPath, uniqueName, waitFor } from './harness.ts';
import { cachedImage as image, pullPolicy as policy } from './objects.ts';
import { maxPerKey, samplePulls } from './pull-sampler.ts';

async function untilCached(drop: RunningDrop, names: readonly string[], timeoutMs = 90_000): Promise<void> {
  await waitFor(
    async () => {
      for (const name of names) {
        const status = (await drop.kube.get<CachedImage>(paths.cachedImage(name)))?.status;
        if (statusWord(status) !== 'Cached')
          throw new Error(`${name}: ${statusWord(status)} ${status?.ready} ${status?.message}`);
      }
      return true;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

describe('pacing on the real control plane', () => {
  let drop: RunningDrop;
  const pool = uniqueName('pace');
  let nodes: string[] = [];
  beforeAll(async () => {
    drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true });
    nodes = await createNodes(6, {
      kubeconfigPath: kubeconfigPath(),
      prefix: pool,
      labels: { 'drop.test/pool': pool },
    });
  });
  afterAll(async () => {
    await drop?.stop();
    await deleteNodes(kubeconfigPath(), nodes);
  });

  it('with maxConcurrentNodes 2 at most two nodes pull at once and starts keep minDelayBetweenPulls apart', async () => {
    const name = uniqueName('two-at-once');
    await drop.kube.create(
      paths.pullPolicies(),
      policy(name, { maxConcurrentNodes: 2, minDelayBetweenPulls: '1500ms' }),
    );
    const sampler = samplePulls(drop.kube, NAMESPACE);
    await drop.kube.create(
      paths.cachedImages(),
      image(name, {
        image: 'registry.example/ci/slow-3s-builder',
        tag: 'v1',
        nodeSelector: { 'drop.test/pool': pool },
        policyRef: { name },
      }),
    );
    await untilCached(drop, [name]);
    await sampler.stop();
    expect(sampler.most((s) => s.pods.filter((p) => p.image === name).length)).toBe(2);
    const starts = sampler.startsOf(name);
    expect(starts).toHaveLength(6);
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] ?? 0));
    // First-seen times come from 100 ms sampling, so allow that much jitter below the limit.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1_500 - 250);
    await drop.kube.delete(paths.cachedImage(name));
    await drop.kube.delete(paths.pullPolicy(name));
  });

  it('with maxConcurrentPullsPerNode 1 no node ever pulls two images at once', async () => {
    const name = uniqueName('per-node');
    await drop.kube.create(
      paths.pullPolicies(),
      policy(name, { maxConcurrentNodes: 6, minDelayBetweenPulls: '0s' }),
    );
    const sampler = samplePulls(drop.kube, NAMESPACE);
    const images = [`${name}-a`, `${name}-b`];
    for (const [i, n] of images.entries()) {
      await drop.kube.create(
        paths.cachedImages(),
        image(n, {
          image: `registry.example/ci/slow-2s-tool${i}`,
          tag: 'v1',
          nodeSelector: { 'drop.test/pool': pool },
          policyRef: { name },
        }),
      );
    }
    await untilCached(drop, images);
    await sampler.stop();
    expect(sampler.most((s) => maxPerKey(s, (p) => p.node))).toBe(1);
    expect(sampler.most((s) => s.pods.length)).toBeGreaterThan(1);
    for (const n of images) await drop.kube.delete(paths.cachedImage(n));
    await drop.kube.delete(paths.pullPolicy(name));
  });

  it('a failing image backs off exponentially up to max', async () => {
    const name = uniqueName('backoff');
    await drop.kube.create(
      paths.pullPolicies(),
      policy(name, {
        maxConcurrentNodes: 6,
        minDelayBetweenPulls: '0s',
        failureBackoff: { initial: '1s', max: '4s' },
      }),
    );
    const sampler = samplePulls(drop.kube, NAMESPACE);
    await drop.kube.create(
      paths.cachedImages(),
      image(name, {
        image: 'registry.example/ci/errimagepull-tool',
        tag: 'v1',
        nodeSelector: { 'drop.test/pool': pool },
        policyRef: { name },
      }),
    );
    // Six nodes fail in parallel waves; follow one node's attempts.
    const first = nodes[0] ?? '';
    // The backoff each failure count was given, as the status records it (retryAt − lastFailedAt).
    const recorded = new Map<number, number>();
    await waitFor(
      async () => {
        const status = (await drop.kube.get<CachedImage>(paths.cachedImage(name)))?.status;
        const failed = status?.failedNodes?.find((f) => f.node === first);
        const failures = failed?.failures ?? 0;
        if (failed?.lastFailedAt)
          recorded.set(failures, Date.parse(failed.retryAt) - Date.parse(failed.lastFailedAt));
        if (failures < 5) throw new Error(`failures on ${first}: ${failures}`);
        return true;
      },
      { timeoutMs: 180_000, intervalMs: 250 },
    );
    await sampler.stop();
    const attempts = [
      ...new Set(
        sampler.samples.flatMap((s) =>
          s.pods.filter((p) => p.image === name && p.node === first).map((p) => p.name),
        ),
      ),
    ];
    const startsOnNode = attempts.map(
      (a) => sampler.samples.find((s) => s.pods.some((p) => p.name === a))?.at ?? 0,
    );
    const gaps = startsOnNode.slice(1).map((t, i) => t - (startsOnNode[i] ?? 0));
    const backoff = [1_000, 2_000, 4_000, 4_000];
    expect(gaps.length).toBeGreaterThanOrEqual(4);
    // The gap is the failure (reported ~0.5 s after the pod starts) plus the backoff: never shorter.
    // (No upper bound from the clock: a busy machine delays every step. The exact backoff is the
    // status's record of each failure count, seen by the polling above; the last one always.)
    for (const [i, wait] of backoff.entries()) expect(gaps[i]).toBeGreaterThanOrEqual(wait - 250);
    expect(recorded.has(5)).toBe(true);
    for (const [failures, ms] of recorded)
      expect([failures, ms]).toEqual([failures, Math.min(1_000 * 2 ** (failures - 1), 4_000)]);
    await drop.kube.delete(paths.cachedImage(name));
    await drop.kube.delete(paths.pullPolicy(name));
  }, 300_000);

  it('a replica that dies holding the Lease is replaced once its lease duration passes', async () => {
    const name = uniqueName('orphaned');
    const lease = `drop-pace-${name}`;
    await drop.kube.create(
      paths.pullPolicies(),
      policy(name, { maxConcurrentNodes: 6, minDelayBetweenPulls: '0s' }),
    );
    // What a holder leaves behind when it crashes right after renewing: its Lease, good for 4 s more.
    const renewed = new Date();
    await drop.kube.create(paths.leases(NAMESPACE), {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: lease, namespace: NAMESPACE },
      spec: {
        holderIdentity: 'crashed-replica',
        leaseDurationSeconds: 4,
        acquireTime: microTime(renewed),
        renewTime: microTime(renewed),
      },
    } as Lease);
    const sampler = samplePulls(drop.kube, NAMESPACE);
    await drop.kube.create(
      paths.cachedImages(),
      image(name, {
        image: 'registry.example/ci/tool',
        tag: 'v1',
        nodeSelector: { 'drop.test/pool': pool },
        policyRef: { name },
      }),
    );
    // The events are answered 429 while the Lease is held; the resync ping is what comes back later.
    const pings = setInterval(() => void drop.pingAll().catch(() => undefined), 1_000);
    try {
      await untilCached(drop, [name], 30_000);
    } finally {
      clearInterval(pings);
      await sampler.stop();
    }
    const firstStart = Math.min(...sampler.startsOf(name));
    expect(firstStart).toBeGreaterThanOrEqual(renewed.getTime() + 4_000);
    const taken = await drop.kube.get<Lease>(paths.lease(NAMESPACE, lease));
    expect(taken?.spec?.holderIdentity).not.toBe('crashed-replica');
    expect(taken?.spec?.leaseTransitions).toBeGreaterThanOrEqual(1);
    await drop.kube.delete(paths.cachedImage(name));
    await drop.kube.delete(paths.pullPolicy(name));
  });

  it('repullInterval pulls a cached image again on every node, which stays Cached meanwhile', async () => {
    const name = uniqueName('repull');
    await drop.kube.create(
      paths.pullPolicies(),
      // Longer than a status write interval (5 s), so a status can show one cycle ended before the
      // next is due.
      policy(name, { maxConcurrentNodes: 6, minDelayBetweenPulls: '0s', repullInterval: '12s' }),
    );
    await drop.kube.create(
      paths.cachedImages(),
      image(name, {
        image: 'registry.example/ci/moving',
        tag: 'stable',
        nodeSelector: { 'drop.test/pool': pool },
        policyRef: { name },
      }),
    );
    await untilCached(drop, [name]);
    const sampler = samplePulls(drop.kube, NAMESPACE);
    const phases = new Set<string>();
    // Nothing happens to a Cached image by itself: the resync ping (which reads every policy) sets
    // nextRepullAt and notices when a round is due.
    const pings = setInterval(() => void drop.pingAll().catch(() => undefined), 1_000);
    try {
      await waitFor(
        async () => {
          const status = (await drop.kube.get<CachedImage>(paths.cachedImage(name)))?.status;
          phases.add(statusWord(status));
          // A round started (lastRepullAt) and ended (no node left in it, the next one scheduled).
          return status?.lastRepullAt && !status.repullNodes && status.nextRepullAt;
        },
        { timeoutMs: 90_000, intervalMs: 250, message: 'a re-pull cycle that completed' },
      );
    } finally {
      clearInterval(pings);
      await sampler.stop();
    }
    const repulledNodes = new Set(
      sampler.samples.flatMap((s) => s.pods.filter((p) => p.image === name).map((p) => p.node)),
    );
    expect([...repulledNodes].sort()).toEqual([...nodes].sort());
    expect([...phases]).toEqual(['Cached']);
    await drop.kube.delete(paths.cachedImage(name));
    await drop.kube.delete(paths.pullPolicy(name));
  });

  it('two policies on the same nodes never pull on one node at once (maxConcurrentPullsPerNode 1)', async () => {
    const name = uniqueName('two-policies');
    const policies = [`${name}-a`, `${name}-b`];
    for (const p of policies) {
      await drop.kube.create(
        paths.pullPolicies(),
        policy(p, { maxConcurrentNodes: 6, minDelayBetweenPulls: '0s' }),
      );
    }
    const sampler = samplePulls(drop.kube, NAMESPACE);
    const images = policies.flatMap((p) => [`${p}-1`, `${p}-2`].map((n) => ({ name: n, policy: p })));
    for (const [i, { name: n, policy: p }] of images.entries()) {
      await drop.kube.create(
        paths.cachedImages(),
        image(n, {
          image: `registry.example/ci/slow-2s-shared${i}`,
          tag: 'v1',
          nodeSelector: { 'drop.test/pool': pool },
          policyRef: { name: p },
        }),
      );
    }
    await untilCached(
      drop,
      images.map((i) => i.name),
    );
    await sampler.stop();
    const mine = new Set(images.map((i) => i.name));
    // Both policies' holders run in this one process: they share a view and decide one at a time,
    // so neither can put a pull on a node the other just filled (functions/pace/index.ts).
    const perNode = sampler.samples.map((s) =>
      maxPerKey({ ...s, pods: s.pods.filter((p) => mine.has(p.image)) }, (p) => p.node),
    );
    expect(Math.max(...perNode)).toBe(1);
    for (const { name: n } of images) await drop.kube.delete(paths.cachedImage(n));
    for (const p of policies) await drop.kube.delete(paths.pullPolicy(p));
  });

  it('two replicas pacing two policies on the same nodes: of two pulls that collide on a node, at most one runs to its end', async () => {
    // Two pacers as two replicas would be: each its own view and lock, one policy's Lease each.
    const pacers = ['replica-a', 'replica-b'].map((identity) =>
      createPacer({ kube: drop.kube, namespace: NAMESPACE, identity, windowMs: 20_000 }),
    );
    const name = uniqueName('two-replicas');
    const policies = [`${name}-a`, `${name}-b`];
    for (const p of policies) {
      await drop.kube.create(
        paths.pullPolicies(),
        policy(p, { maxConcurrentNodes: 6, minDelayBetweenPulls: '0s' }),
      );
    }
    const sampler = samplePulls(drop.kube, NAMESPACE);
    const images = policies.flatMap((p) => [1, 2, 3].map((n) => ({ name: `${p}-${n}`, policy: p })));
    for (const [i, { name: n, policy: p }] of images.entries()) {
      await drop.kube.create(
        paths.cachedImages(),
        image(n, {
          image: `registry.example/ci/slow-1s-replica${i}`,
          tag: 'v1',
          nodeSelector: { 'drop.test/pool': pool },
          policyRef: { name: p },
        }),
      );
    }
    // Each replica is asked often for its own policy, as its events would.
    const asks = setInterval(() => pacers.forEach((pacer, i) => void pacer.request(policies[i] ?? '')), 200);
    try {
      await untilCached(
        drop,
        images.map((i) => i.name),
      );
    } finally {
      clearInterval(asks);
      await sampler.stop();
      await Promise.all(pacers.map((p) => p.close()));
    }
    const mine = new Set(images.map((i) => i.name));
    // Two replicas may both start a pull on one node in the same moment; each checks after its
    // create and withdraws its own pull from a node over the limit. A collision that lasted is one
    // whose pulls both ran to their end: on a node over the limit, at most one of them may.
    // (Judged by the pods' ends, not by how long the overlap showed: that is the speed of the
    // watches, which a busy machine slows.)
    const lasting = sampler.samples.flatMap((s) => {
      const pulls = s.pods.filter((p) => mine.has(p.image) && !p.deleting);
      return [...new Set(pulls.map((p) => p.node))].flatMap((node) => {
        const there = pulls.filter((p) => p.node === node);
        const finished = there.filter((p) => sampler.endOf(p.name) === 'cached');
        return there.length > 1 && finished.length > 1 ? [`${node}: ${finished.map((p) => p.name)}`] : [];
      });
    });
    expect([...new Set(lasting)]).toEqual([]);
    for (const { name: n } of images) await drop.kube.delete(paths.cachedImage(n));
    for (const p of policies) await drop.kube.delete(paths.pullPolicy(p));
  });
});
