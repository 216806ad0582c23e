// A node cordoned while its pull runs is never counted as Cached unless the pull succeeded there
// (issue 16: once, READY said 4/4 with a pull that never finished). The pull on the cordoned node
// is made to last ten minutes, so any moment that counts it as cached is the bug.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CachedImage } from '../../lib/api/index.ts';
import { type Pod, paths } from '../../lib/kube/index.ts';
import { pullOutcome, pullPodSelectorFor } from '../../lib/pull-pod.ts';
import { createNodes, deleteNodes, PULL_DELAY_ANNOTATION } from '../controlplane/index.ts';
import { NAMESPACE, type RunningDrop, startDrop } from './drop.ts';
import { kubeconfigPath, kubectl, uniqueName, waitFor } from './harness.ts';
import { cachedImage, pullPolicy } from './objects.ts';

interface Seen {
  readonly at: number;
  readonly ready?: string;
  readonly cached: readonly string[];
  /** Nodes with a pull pod that showed the image pulled, as of this moment. */
  readonly pulledOn: ReadonlySet<string>;
}

describe('a node cordoned while its pull runs', () => {
  let drop: RunningDrop;
  let nodes: string[] = [];
  const pool = uniqueName('cordon');
  const policy = uniqueName('cordon-policy');

  beforeAll(async () => {
    drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true });
    await drop.kube.create(
      paths.pullPolicies(),
      pullPolicy(policy, { maxConcurrentNodes: 3, minDelayBetweenPulls: '0s' }),
    );
    nodes = await createNodes(3, {
      kubeconfigPath: kubeconfigPath(),
      prefix: pool,
      labels: { 'drop.test/pool': pool },
    });
  });
  afterAll(async () => {
    await drop?.kube.delete(paths.pullPolicy(policy));
    await drop?.stop();
    await deleteNodes(kubeconfigPath(), nodes);
  });

  it('is never counted as Cached, cordoned or after it is uncordoned, while its pull has not succeeded', async () => {
    const name = uniqueName('cordon-image');
    const [first, second, cordoned] = nodes as [string, string, string];
    const seen: Seen[] = [];
    const pulledOn = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const pods = await drop.kube.list<Pod>(paths.pods(NAMESPACE), {
          labelSelector: pullPodSelectorFor(name),
        });
        for (const pod of pods.items)
          if (pullOutcome(pod).kind === 'cached') pulledOn.add(pod.spec?.nodeName ?? '');
        const status = (await drop.kube.get<CachedImage>(paths.cachedImage(name)))?.status;
        seen.push({
          at: Date.now(),
          ready: status?.ready,
          cached: status?.cachedNodes ?? [],
          pulledOn: new Set(pulledOn),
        });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const pings = setInterval(() => void drop.pingAll().catch(() => undefined), 2_000);
    try {
      await drop.kube.create(
        paths.cachedImages(),
        cachedImage(name, {
          image: 'registry.example/cordon/app-slow-10m',
          tag: 'v1',
          nodeSelector: { 'drop.test/pool': pool },
          policyRef: { name: policy },
        }),
      );
      const pods = await waitFor(
        async () => {
          const list = await drop.kube.list<Pod>(paths.pods(NAMESPACE), {
            labelSelector: pullPodSelectorFor(name),
          });
          return list.items.length === 3 && list.items;
        },
        { timeoutMs: 90_000, message: 'pulls on all three nodes' },
      );
      // Cordoned mid-pull; the two others finish in a second (kwok restarts the delay on the change).
      await kubectl(['cordon', cordoned]);
      for (const pod of pods.filter((p) => p.spec?.nodeName !== cordoned))
        await kubectl([
          'annotate',
          'pod',
          '-n',
          NAMESPACE,
          pod.metadata.name,
          `${PULL_DELAY_ANNOTATION}=1s`,
          '--overwrite',
        ]);
      await waitFor(
        async () => (await drop.kube.get<CachedImage>(paths.cachedImage(name)))?.status?.ready === '2/2',
        {
          timeoutMs: 90_000,
          message: 'READY 2/2 while one node is cordoned',
        },
      );
      // Long enough for every path to run: the pull's pod events, node events, several pings.
      await new Promise((r) => setTimeout(r, 8_000));
      await kubectl(['uncordon', cordoned]);
      await new Promise((r) => setTimeout(r, 12_000));
    } finally {
      clearInterval(pings);
      sampling = false;
      await sampler;
    }
    const counted = seen.filter((s) => s.cached.includes(cordoned) && !s.pulledOn.has(cordoned));
    expect(counted.map((s) => ({ ready: s.ready, cached: s.cached }))).toEqual([]);
    expect(seen.filter((s) => s.ready === '3/3' && !s.pulledOn.has(cordoned))).toEqual([]);
    expect(pulledOn.has(cordoned)).toBe(false);
    expect(seen.some((s) => s.cached.includes(first) && s.cached.includes(second))).toBe(true);
    await drop.kube.delete(paths.cachedImage(name));
  });
});
