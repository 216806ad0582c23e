// What kube-controller-manager does in a real cluster, and how Drop lives with it: its garbage
// collector deletes a set's CachedImages (background and foreground deletion), and its node
// lifecycle controller marks a node whose kubelet stopped heartbeating NotReady and taints it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CachedImage, CachedImageSet, PullPolicy } from '../../lib/api/index.ts';
import { IMAGESET_LABEL } from '../../lib/api/index.ts';
import { labelValue, type Pod, paths } from '../../lib/kube/index.ts';
import { pullPodSelectorFor } from '../../lib/pull-pod.ts';
import { createNodes, deleteNodes, resumeHeartbeat, stopHeartbeat } from '../controlplane/index.ts';
import { NAMESPACE, type RunningDrop, startDrop } from './drop.ts';
import { kubeconfigPath, kubectl, kubectlJson, uniqueName, waitFor } from './harness.ts';
import { cachedImage, cachedImageSet, isReady, pullPolicy } from './objects.ts';

interface Node {
  spec?: { taints?: { key: string; effect: string }[] };
  status?: { conditions?: { type: string; status: string; reason?: string }[] };
}

// The node lifecycle controller waits --node-monitor-grace-period (50 s) after the last heartbeat.
const NODE_FAILURE_MS = 180_000;

async function childrenOf(drop: RunningDrop, set: string): Promise<readonly CachedImage[]> {
  const list = await drop.kube.list<CachedImage>(paths.cachedImages(), {
    labelSelector: `${IMAGESET_LABEL}=${labelValue(set)}`,
  });
  return list.items;
}

async function podsOf(drop: RunningDrop, image: string): Promise<readonly Pod[]> {
  return (await drop.kube.list<Pod>(paths.pods(NAMESPACE), { labelSelector: pullPodSelectorFor(image) }))
    .items;
}

async function readyStatusOf(node: string): Promise<string | undefined> {
  const json = await kubectlJson<Node>(['get', 'node', node]);
  return json.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}

describe('a cluster with kube-controller-manager', () => {
  let drop: RunningDrop;
  let nodes: string[] = [];
  const pool = uniqueName('kcm');
  const fast = uniqueName('kcm-fast');
  const placement = { nodeSelector: { 'drop.test/pool': pool }, policyRef: { name: fast } };

  beforeAll(async () => {
    drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true });
    nodes = await createNodes(3, {
      kubeconfigPath: kubeconfigPath(),
      prefix: pool,
      labels: { 'drop.test/pool': pool },
    });
    await drop.kube.create(
      paths.pullPolicies(),
      pullPolicy(fast, { maxConcurrentNodes: 3, minDelayBetweenPulls: '0s' }) as PullPolicy,
    );
  });
  afterAll(async () => {
    for (const node of nodes) await resumeHeartbeat(kubeconfigPath(), node).catch(() => undefined);
    await drop?.kube.delete(paths.pullPolicy(fast));
    await drop?.stop();
    await deleteNodes(kubeconfigPath(), nodes);
  });

  it('a deleted namespace finishes deleting', async () => {
    const namespace = uniqueName('gone');
    await kubectl(['create', 'namespace', namespace]);
    await kubectl(['create', 'configmap', 'leftover', '-n', namespace, '--from-literal=a=b']);
    await kubectl(['delete', 'namespace', namespace, '--wait=false']);
    await waitFor(async () => !(await kubectl(['get', 'namespaces', '-o', 'name'])).includes(namespace), {
      timeoutMs: 120_000,
      message: `namespace ${namespace} gone`,
    });
  });

  it('background deletion of a CachedImageSet: the set goes at once, its CachedImages and their pull pods after it', async () => {
    const name = uniqueName('bg');
    await drop.kube.create(
      paths.cachedImageSets(),
      cachedImageSet(name, {
        ...placement,
        images: [
          { image: 'registry.example/kcm/a', tag: 'v1' },
          { image: 'registry.example/kcm/b-slow-600s', tag: 'v1' },
        ],
      }),
    );
    const slow = await waitFor(
      async () => {
        const child = (await childrenOf(drop, name)).find((c) => c.spec.image.endsWith('b-slow-600s'));
        return child && (await podsOf(drop, child.metadata.name)).length > 0 && child.metadata.name;
      },
      { timeoutMs: 90_000, message: 'the slow child pulling' },
    );
    await kubectl(['delete', 'cachedimageset', name, '--cascade=background', '--wait=false']);
    await waitFor(async () => (await drop.kube.get(paths.cachedImageSet(name))) === undefined, {
      message: 'set gone',
    });
    await waitFor(async () => (await childrenOf(drop, name)).length === 0, {
      timeoutMs: 90_000,
      message: 'children gone',
    });
    await waitFor(async () => (await podsOf(drop, slow)).length === 0, {
      timeoutMs: 90_000,
      message: 'pull pods of the slow child gone',
    });
  });

  it('foreground deletion of a CachedImageSet: the set stays until its CachedImages are gone, then goes', async () => {
    const name = uniqueName('fg');
    await drop.kube.create(
      paths.cachedImageSets(),
      cachedImageSet(name, {
        ...placement,
        images: [
          { image: 'registry.example/kcm/c', tag: 'v1' },
          { image: 'registry.example/kcm/d', tag: 'v1' },
        ],
      }),
    );
    await waitFor(async () => isReady(await drop.kube.get<CachedImageSet>(paths.cachedImageSet(name))), {
      timeoutMs: 120_000,
      message: 'set ready',
    });
    const children = (await childrenOf(drop, name)).map((c) => c.metadata.name);
    expect(children).toHaveLength(2);
    await kubectl(['delete', 'cachedimageset', name, '--cascade=foreground', '--wait=false']);
    // The API server marks the set and keeps it until the garbage collector has removed every child
    // that blocks its deletion (Drop's controller references set blockOwnerDeletion).
    const marked = await drop.kube.get<CachedImageSet>(paths.cachedImageSet(name));
    if (marked) expect(marked.metadata.finalizers).toContain('foregroundDeletion');
    await waitFor(async () => (await drop.kube.get(paths.cachedImageSet(name))) === undefined, {
      timeoutMs: 120_000,
      message: 'set gone after its children',
    });
    for (const child of children) expect(await drop.kube.get(paths.cachedImage(child))).toBeUndefined();
    // `kubectl delete --cascade=foreground` waits for exactly this; it must return, not hang.
    const again = uniqueName('fg-wait');
    await drop.kube.create(
      paths.cachedImageSets(),
      cachedImageSet(again, { ...placement, images: [{ image: 'registry.example/kcm/e', tag: 'v1' }] }),
    );
    await waitFor(async () => (await childrenOf(drop, again)).length === 1, { message: 'child of fg-wait' });
    await kubectl(['delete', 'cachedimageset', again, '--cascade=foreground', '--timeout=120s'], {
      timeoutMs: 150_000,
    });
    expect(await childrenOf(drop, again)).toHaveLength(0);
  });

  it('a node whose heartbeat stops turns NotReady, is tainted unreachable and drops out of READY; it comes back when the heartbeat does', async () => {
    const cached = uniqueName('kcm-cached');
    const pulling = uniqueName('kcm-pulling');
    await drop.kube.create(
      paths.cachedImages(),
      cachedImage(cached, { image: 'registry.example/kcm/cached', tag: 'v1', ...placement }),
    );
    await waitFor(
      async () => (await drop.kube.get<CachedImage>(paths.cachedImage(cached)))?.status?.ready === '3/3',
      { timeoutMs: 120_000, message: `${cached} 3/3` },
    );
    // A pull that never finishes, in flight on every node when the heartbeat stops.
    await drop.kube.create(
      paths.cachedImages(),
      cachedImage(pulling, { image: 'registry.example/kcm/pulling-slow-30m', tag: 'v1', ...placement }),
    );
    await waitFor(async () => (await podsOf(drop, pulling)).length === 3, {
      timeoutMs: 120_000,
      message: `${pulling} pulling on 3 nodes`,
    });

    const lost = nodes[2]!;
    await stopHeartbeat(kubeconfigPath(), lost);
    await waitFor(async () => (await readyStatusOf(lost)) === 'Unknown', {
      timeoutMs: NODE_FAILURE_MS,
      message: `${lost} Ready=Unknown`,
    });
    // The node lifecycle controller adds the two taints in separate passes (NoExecute through its
    // rate-limited eviction queue), so on a busy machine the second can follow the first by seconds.
    await waitFor(
      async () => {
        const taints = (await kubectlJson<Node>(['get', 'node', lost])).spec?.taints ?? [];
        const has = (effect: string) =>
          taints.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === effect);
        return has('NoSchedule') && has('NoExecute');
      },
      { timeoutMs: NODE_FAILURE_MS, message: `${lost} tainted unreachable, NoSchedule and NoExecute` },
    );
    const degraded = await waitFor(
      async () => {
        const image = await drop.kube.get<CachedImage>(paths.cachedImage(cached));
        return image?.status?.ready === '2/2' && image;
      },
      { timeoutMs: 60_000, message: `${cached} 2/2` },
    );
    expect(isReady(degraded)).toBe(true);
    await waitFor(
      async () => {
        const status = (await drop.kube.get<CachedImage>(paths.cachedImage(pulling)))?.status;
        if (status?.ready === '0/2' && status.nodesTargeted === 2) return true;
        throw new Error(JSON.stringify(status));
      },
      { timeoutMs: 60_000, message: `${pulling} targets 2 nodes` },
    );
    // No new pull is started on the lost node: at most the one already there.
    const onLost = (await podsOf(drop, pulling)).filter((p) => p.spec?.nodeName === lost);
    expect(onLost.length).toBeLessThanOrEqual(1);

    await resumeHeartbeat(kubeconfigPath(), lost);
    await waitFor(async () => (await readyStatusOf(lost)) === 'True', {
      timeoutMs: NODE_FAILURE_MS,
      message: `${lost} Ready again`,
    });
    await waitFor(
      async () => (await drop.kube.get<CachedImage>(paths.cachedImage(cached)))?.status?.ready === '3/3',
      { timeoutMs: 120_000, message: `${cached} 3/3 again` },
    );
    await drop.kube.delete(paths.cachedImage(pulling));
    await drop.kube.delete(paths.cachedImage(cached));
  });
});
