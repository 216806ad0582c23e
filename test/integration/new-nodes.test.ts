// New nodes first: a node that joins mid-rollout is warmed before the rest of the rollout on older
// nodes. The order is read from the pull pods' creation as they appear.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CachedImage, statusWord } from '../../lib/api/index.ts';
import { paths } from '../../lib/kube/index.ts';
import { createNodes, deleteNodes } from '../controlplane/index.ts';
import { NAMESPACE, type RunningDrop, startDrop } from './drop.ts';
import { kubeconfigPath, kubectl, uniqueName, waitFor } from './harness.ts';
import { cachedImage, pullPolicy } from './objects.ts';
import { samplePulls } from './pull-sampler.ts';

const WINDOW_S = 20;

describe('new nodes first', { timeout: 300_000 }, () => {
  let drop: RunningDrop;
  let nodes: string[] = [];
  let joined: string[] = [];
  const pool = uniqueName('newn');
  const policy = uniqueName('newn-policy');
  const name = uniqueName('newn-image');

  beforeAll(async () => {
    nodes = await createNodes(4, {
      kubeconfigPath: kubeconfigPath(),
      prefix: pool,
      labels: { 'drop.test/pool': pool },
    });
    drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true });
    // One node at a time, so the rollout is a queue the new node can overtake.
    await drop.kube.create(
      paths.pullPolicies(),
      pullPolicy(policy, {
        maxConcurrentNodes: 1,
        minDelayBetweenPulls: '0s',
        newNodeWindow: `${WINDOW_S}s`,
      }),
    );
  });
  afterAll(async () => {
    await drop?.kube.delete(paths.cachedImage(name));
    await drop?.kube.delete(paths.pullPolicy(policy));
    await drop?.stop();
    await deleteNodes(kubeconfigPath(), [...nodes, ...joined]);
  });

  it('a node joining mid-rollout is pulled before the older nodes still waiting', async () => {
    // The four nodes are older than the policy's window before the rollout starts.
    const oldFrom = Date.now() + WINDOW_S * 1_000 + 1_000;
    await waitFor(async () => Date.now() >= oldFrom || Promise.reject(new Error('nodes still new')), {
      timeoutMs: WINDOW_S * 1_000 + 30_000,
      intervalMs: 500,
      message: 'the first nodes older than the window',
    });
    const sampler = samplePulls(drop.kube, NAMESPACE);
    await drop.kube.create(
      paths.cachedImages(),
      cachedImage(name, {
        image: 'registry.example/team/newn-slow-5s',
        tag: '1',
        nodeSelector: { 'drop.test/pool': pool },
        policyRef: { name: policy },
      }),
    );
    await waitFor(
      async () => sampler.startsOf(name).length >= 1 || Promise.reject(new Error('no pull yet')),
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        message: 'the rollout started',
      },
    );
    // Named to sort after the others: by name alone (the old order) it would be pulled last.
    joined = await createNodes(1, {
      kubeconfigPath: kubeconfigPath(),
      prefix: `${pool}-z`,
      labels: { 'drop.test/pool': pool },
    });
    const newNode = joined[0] ?? '';
    await waitFor(
      async () => {
        const image = await drop.kube.get<CachedImage>(paths.cachedImage(name));
        if (statusWord(image?.status) === 'Cached' && image?.status?.ready === '5/5') return image;
        throw new Error(JSON.stringify(image?.status));
      },
      { timeoutMs: 180_000, intervalMs: 250, message: 'Cached 5/5' },
    );
    await sampler.stop();

    const firstSeen = new Map<string, { node: string; at: number }>();
    for (const sample of sampler.samples)
      for (const pod of sample.pods)
        if (pod.image === name && !firstSeen.has(pod.name))
          firstSeen.set(pod.name, { node: pod.node, at: sample.at });
    const order = [...firstSeen.values()].sort((a, b) => a.at - b.at).map((p) => p.node);
    expect(order).toHaveLength(5);
    const at = order.indexOf(newNode);
    // It joined while the first pull ran: at most one older node may have started before the
    // pacer saw it, and the older nodes still waiting came after it.
    expect(at).toBeGreaterThanOrEqual(1);
    expect(order.slice(at + 1).length).toBeGreaterThanOrEqual(2);
    expect(await kubectl(['describe', 'cachedimage', name])).toMatch(
      /PullStarted .*on a node that just joined \(warmed first\)/,
    );
  });
});
