// A policy's Lease (drop-pace-<policy>) lives as long as the policy: none for a name no PullPolicy
// has, and it goes with its policy (functions/pace/gone.ts). And a holder whose window ends before
// its next pull is due leaves a timer that wakes the policy then (functions/pace/reconcile.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CachedImage, PullPolicy } from '../../lib/api/index.ts';
import type { Lease } from '../../lib/controller/index.ts';
import { paths } from '../../lib/kube/index.ts';
import { createNodes, deleteNodes } from '../controlplane/index.ts';
import { knativeEvent, post } from '../fixtures/knative-events.ts';
import { NAMESPACE, ping, type RunningDrop, startDrop } from './drop.ts';
import { kubeconfigPath, uniqueName, waitFor } from './harness.ts';
import { cachedImage, pullPolicy } from './objects.ts';
import { samplePulls } from './pull-sampler.ts';

const leaseOf = (drop: RunningDrop, policy: string) =>
  drop.kube.get<Lease>(paths.lease(NAMESPACE, `drop-pace-${policy}`));

describe('pace Leases and wake-ups', () => {
  let drop: RunningDrop;
  let nodes: string[] = [];
  const pool = uniqueName('leases');
  beforeAll(async () => {
    drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true, windowMs: 3_000 });
    nodes = await createNodes(1, {
      kubeconfigPath: kubeconfigPath(),
      prefix: pool,
      labels: { 'drop.test/pool': pool },
    });
  });
  afterAll(async () => {
    await drop?.stop();
    await deleteNodes(kubeconfigPath(), nodes);
  });

  it('a request for a policy that does not exist creates no Lease and says why', async () => {
    const missing = uniqueName('no-such-policy');
    const outcome = await drop.pacer.request(missing);
    expect(outcome).toMatchObject({ result: 'ignored' });
    expect(outcome.detail).toContain(`PullPolicy ${missing} does not exist`);
    expect(await leaseOf(drop, missing)).toBeUndefined();
  });

  it('a PullPolicy delete event for a policy that never existed creates no Lease', async () => {
    const missing = uniqueName('never-existed');
    const event = knativeEvent(
      'delete',
      { apiVersion: 'drop.corewire.io/v1alpha1', kind: 'PullPolicy', metadata: { name: missing } },
      { plural: 'pullpolicies' },
    );
    const res = await fetch(drop.paceUrl, post(event));
    expect(res.status).toBe(200);
    await drop.pacer.idle();
    expect(await leaseOf(drop, missing)).toBeUndefined();
  });

  it("a deleted policy's Lease goes with it", async () => {
    const policy = uniqueName('short-lived');
    const name = uniqueName('short-lived-image');
    await drop.kube.create(
      paths.pullPolicies(),
      pullPolicy(policy, { maxConcurrentNodes: 1, minDelayBetweenPulls: '0s' }) as PullPolicy,
    );
    await drop.kube.create(
      paths.cachedImages(),
      cachedImage(name, {
        image: 'registry.example/leases/app',
        tag: 'v1',
        nodeSelector: { 'drop.test/pool': pool },
        policyRef: { name: policy },
      }),
    );
    await waitFor(
      async () => (await drop.kube.get<CachedImage>(paths.cachedImage(name)))?.status?.ready === '1/1',
      { timeoutMs: 60_000, message: 'cached' },
    );
    expect(await leaseOf(drop, policy)).toBeDefined();
    await drop.kube.delete(paths.pullPolicy(policy));
    // Its delete event wakes pace, which removes the Lease once its holder's window has ended.
    await waitFor(async () => (await leaseOf(drop, policy)) === undefined, {
      timeoutMs: 60_000,
      message: `Lease drop-pace-${policy} gone`,
    });
    await drop.kube.delete(paths.cachedImage(name));
  });

  it('the default policy keeps its Lease without a PullPolicy named default: the built-in defaults pace', async () => {
    const name = uniqueName('defaults');
    await drop.kube.create(
      paths.cachedImages(),
      cachedImage(name, {
        image: 'registry.example/leases/defaults',
        tag: 'v1',
        nodeSelector: { 'drop.test/pool': pool },
      }),
    );
    await waitFor(
      async () => (await drop.kube.get<CachedImage>(paths.cachedImage(name)))?.status?.ready === '1/1',
      { timeoutMs: 90_000, message: 'cached under the built-in defaults' },
    );
    expect(await leaseOf(drop, 'default')).toBeDefined();
    await drop.kube.delete(paths.cachedImage(name));
  });

  it('a delay longer than the serving window: the second pull starts when it ends, with no event or ping', async () => {
    const name = uniqueName('late-wake');
    const pair = await createNodes(2, {
      kubeconfigPath: kubeconfigPath(),
      prefix: name,
      labels: { 'drop.test/pool': name },
    });
    try {
      // The window is 3 s: the 20 s minDelay ends long after the holder stopped serving.
      await drop.kube.create(
        paths.pullPolicies(),
        pullPolicy(name, { maxConcurrentNodes: 2, minDelayBetweenPulls: '20s' }) as PullPolicy,
      );
      const sampler = samplePulls(drop.kube, NAMESPACE);
      await drop.kube.create(
        paths.cachedImages(),
        cachedImage(name, {
          image: 'registry.example/leases/late-wake',
          tag: 'v1',
          nodeSelector: { 'drop.test/pool': name },
          policyRef: { name },
        }),
      );
      // The first pull's events (its pod's changes, its record, its deletion) are over within
      // seconds; this test sends no ping, so only the pacer's own timer can start the second pull.
      await waitFor(
        async () => (await drop.kube.get<CachedImage>(paths.cachedImage(name)))?.status?.ready === '2/2',
        { timeoutMs: 120_000, message: 'both nodes cached' },
      );
      await sampler.stop();
      const starts = sampler.startsOf(name);
      expect(starts).toHaveLength(2);
      // First-seen times come from ~100 ms sampling.
      expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(20_000 - 250);
      await drop.kube.delete(paths.cachedImage(name));
      await drop.kube.delete(paths.pullPolicy(name));
    } finally {
      await deleteNodes(kubeconfigPath(), pair);
    }
  }, 240_000);
});

describe('a holder whose window ends while pulls wait for a slot', () => {
  it('serves on, and starts the waiting pull when the slot frees, with no event or ping', async () => {
    // No adapter feeds this Drop: pace is asked once, and nothing else would wake it. The window
    // (3 s) ends while the first pull (8 s) holds the image's one slot and the second node waits.
    const drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: false, windowMs: 3_000 });
    const name = uniqueName('one-slot');
    const pair = await createNodes(2, {
      kubeconfigPath: kubeconfigPath(),
      prefix: name,
      labels: { 'drop.test/pool': name },
    });
    try {
      await drop.kube.create(paths.pullPolicies(), pullPolicy(name, { maxConcurrentNodes: 1 }) as PullPolicy);
      const sampler = samplePulls(drop.kube, NAMESPACE);
      await drop.kube.create(
        paths.cachedImages(),
        cachedImage(name, {
          image: 'registry.example/leases/one-slot-slow-8s',
          tag: 'v1',
          nodeSelector: { 'drop.test/pool': name },
          policyRef: { name },
        }),
      );
      // reconcile-image writes the two nodes waiting (its resync), then pace is asked once: only
      // reconcile-image is pinged meanwhile, or a pace round could start a pull before the status
      // ever says both wait.
      await waitFor(
        async () => {
          await ping(drop.reconcileImageUrl);
          const image = await drop.kube.get<CachedImage>(paths.cachedImage(name));
          return image?.status?.nodesWaiting === 2;
        },
        { timeoutMs: 60_000, message: 'both nodes waiting' },
      );
      expect(await drop.pacer.request(name)).toMatchObject({ result: 'done' });
      await waitFor(() => sampler.startsOf(name).length === 2, {
        timeoutMs: 90_000,
        message: 'the second pull started',
      });
      await sampler.stop();
      const starts = sampler.startsOf(name);
      // One slot: the second started once the first ended (first-seen times from ~100 ms sampling).
      expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(8_000 - 250);
      await drop.kube.delete(paths.cachedImage(name));
      await drop.kube.delete(paths.pullPolicy(name));
    } finally {
      await drop.stop();
      await deleteNodes(kubeconfigPath(), pair);
    }
  }, 240_000);
});
