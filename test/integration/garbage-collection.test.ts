// Garbage collection: the kubelet removes an image without telling anyone. A node whose complete
// image list (node.status.images, fewer than the kubelet's 50) no longer names it goes back to
// pending, READY drops, and the pacer pulls it there again exactly once. On a node that lists 50
// (the list may be cut), a probe pod with imagePullPolicy Never finds it gone instead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CachedImage, statusWord } from '../../lib/api/index.ts';
import { paths } from '../../lib/kube/index.ts';
import { IMAGE_LIST_LAG_MS } from '../../lib/node-images.ts';
import { collectImage, createNodes, deleteNodes, reportNodeImages } from '../controlplane/index.ts';
import { NAMESPACE, ping, type RunningDrop, startDrop } from './drop.ts';
import { kubeconfigPath, kubectl, uniqueName, waitFor } from './harness.ts';
import { cachedImage, pullPolicy } from './objects.ts';
import { samplePulls } from './pull-sampler.ts';

/** Sends reconcile-image a resync ping every 2 s (the PingSource sends one every 5 minutes). */
function pingEvery2s(url: () => string): { stop(): Promise<void> } {
  let pinging = true;
  const loop = (async () => {
    while (pinging) {
      await new Promise((r) => setTimeout(r, 2_000));
      if (pinging) await ping(url()).catch(() => undefined);
    }
  })();
  return {
    async stop() {
      pinging = false;
      await loop;
    },
  };
}

/** Waits until the CachedImage satisfies `done`, showing `seen` every version it reads. */
function untilImage(
  drop: RunningDrop,
  name: string,
  done: (i: CachedImage) => boolean,
  what: string,
  seen?: (i: CachedImage) => void,
): Promise<CachedImage> {
  return waitFor(
    async () => {
      const found = await drop.kube.get<CachedImage>(paths.cachedImage(name));
      if (found) seen?.(found);
      if (found && done(found)) return found;
      throw new Error(JSON.stringify(found?.status));
    },
    { timeoutMs: 150_000, intervalMs: 250, message: what },
  );
}

describe('garbage-collected images', { timeout: 300_000 }, () => {
  let drop: RunningDrop;
  let nodes: string[] = [];
  const pool = uniqueName('gc');
  const policy = uniqueName('gc-policy');
  const name = uniqueName('gc-image');
  const image = `registry.example/team/${name}`;
  // What else the kubelet lists: a few images, far from the 50 at which the list may be cut.
  const others = [['registry.k8s.io/pause:3.10'], ['docker.io/library/busybox:1.36']];

  let pinger: { stop(): Promise<void> } | undefined;

  beforeAll(async () => {
    nodes = await createNodes(2, {
      kubeconfigPath: kubeconfigPath(),
      prefix: pool,
      labels: { 'drop.test/pool': pool },
    });
    for (const node of nodes) await reportNodeImages(kubeconfigPath(), node, others);
    drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true });
    await drop.kube.create(
      paths.pullPolicies(),
      pullPolicy(policy, { maxConcurrentNodes: 2, minDelayBetweenPulls: '0s', maxConcurrentPullsPerNode: 2 }),
    );
    // Node updates reach reconcile-image through its node watch while it runs, and at each resync
    // otherwise (its event source sends node adds and deletes only): the resync ping (every 5
    // minutes from the PingSource) is sent every 2 s here.
    pinger = pingEvery2s(() => drop.reconcileImageUrl);
  });
  afterAll(async () => {
    await pinger?.stop();
    await drop?.kube.delete(paths.cachedImage(name));
    await drop?.kube.delete(paths.pullPolicy(policy));
    await drop?.stop();
    await deleteNodes(kubeconfigPath(), nodes);
  });

  const until = (done: (i: CachedImage) => boolean, what: string, seen?: (i: CachedImage) => void) =>
    untilImage(drop, name, done, what, seen);

  it('an image the kubelet no longer lists on a node is noticed, READY drops, and it is pulled there again once', async () => {
    await drop.kube.create(
      paths.cachedImages(),
      cachedImage(name, {
        image,
        tag: '1',
        nodeSelector: { 'drop.test/pool': pool },
        policyRef: { name: policy },
      }),
    );
    const cached = await until(
      (i) => statusWord(i.status) === 'Cached' && i.status?.ready === '2/2',
      'Cached 2/2',
    );
    const digest = cached.status?.resolvedDigest ?? '';
    expect(digest).toMatch(/^sha256:/);
    // As the kubelet does after a pull: both nodes list the image, by tag and by digest.
    const held = [`${image}:1`, `${image}@${digest}`];
    for (const node of nodes) await reportNodeImages(kubeconfigPath(), node, [...others, held]);

    // A list posted within a minute of a pull may predate it (the kubelet's image cache is 30 s
    // old at worst): only a list posted later proves an absence, so the kubelet's GC comes after.
    const trustedFrom = Date.parse(cached.status?.lastPulledAt ?? '') + IMAGE_LIST_LAG_MS + 1_000;
    await waitFor(async () => Date.now() >= trustedFrom || Promise.reject(new Error('too early')), {
      timeoutMs: IMAGE_LIST_LAG_MS + 30_000,
      intervalMs: 1_000,
      message: 'a minute after the last pull',
    });
    const sampler = samplePulls(drop.kube, NAMESPACE);
    const [collected = '', kept = ''] = nodes;
    await reportNodeImages(kubeconfigPath(), collected, others);

    const readySeen = new Set<string>();
    const noticed = await until(
      (i) => (i.status?.collected ?? []).some((c) => c.node === collected) || i.status?.ready === '1/2',
      'the collected node noticed',
      (i) => i.status?.ready && readySeen.add(i.status.ready),
    );
    expect(noticed.status?.collected?.[0]).toMatchObject({ node: collected, how: 'NodeStatus' });
    const back = await until(
      (i) => statusWord(i.status) === 'Cached' && i.status?.ready === '2/2' && !i.status.collected,
      'Cached 2/2 again',
      (i) => i.status?.ready && readySeen.add(i.status.ready),
    );
    expect(readySeen).toContain('1/2');
    expect(back.status?.cachedNodes).toEqual([...nodes].sort());
    // The kubelet lists it again after the pull; then nothing more happens.
    await reportNodeImages(kubeconfigPath(), collected, [...others, held]);
    await drop.pingAll();
    await until((i) => i.status?.ready === '2/2', 'still 2/2 after a resync');
    await sampler.stop();
    const pulls = sampler.samples.flatMap((s) => s.pods.filter((p) => p.image === name));
    expect(sampler.startsOf(name)).toHaveLength(1);
    expect(new Set(pulls.map((p) => p.node))).toEqual(new Set([collected]));
    expect(kept).not.toBe(collected);
    expect(await kubectl(['describe', 'cachedimage', name])).toMatch(
      /ImageGarbageCollected .*status\.images no longer lists it/,
    );
  });
});

describe('garbage-collection probes', { timeout: 300_000 }, () => {
  let drop: RunningDrop;
  let nodes: string[] = [];
  let pinger: { stop(): Promise<void> } | undefined;
  const pool = uniqueName('gcp');
  const policy = uniqueName('gcp-policy');
  const name = uniqueName('gcp-image');
  const image = `registry.example/team/${name}`;
  // The kubelet lists its maximum of 50: whether ours is below the cut, the list cannot say.
  const fifty = Array.from({ length: 50 }, (_, i) => [`registry.example/big/layer-${i}:1`]);

  beforeAll(async () => {
    nodes = await createNodes(1, {
      kubeconfigPath: kubeconfigPath(),
      prefix: pool,
      labels: { 'drop.test/pool': pool },
    });
    for (const node of nodes) await reportNodeImages(kubeconfigPath(), node, fifty);
    drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true });
    await drop.kube.create(
      paths.pullPolicies(),
      pullPolicy(policy, { minDelayBetweenPulls: '0s', imageProbeInterval: '3s' }),
    );
    // A probe cycle starts when reconcile-image runs after it is due: the resync ping (every 5
    // minutes from the PingSource) is sent every 2 s here.
    pinger = pingEvery2s(() => drop.reconcileImageUrl);
  });
  afterAll(async () => {
    await pinger?.stop();
    await drop?.kube.delete(paths.cachedImage(name));
    await drop?.kube.delete(paths.pullPolicy(policy));
    await drop?.stop();
    await deleteNodes(kubeconfigPath(), nodes);
  });

  const get = () => drop.kube.get<CachedImage>(paths.cachedImage(name));
  const until = (done: (i: CachedImage) => boolean, what: string, seen?: (i: CachedImage) => void) =>
    untilImage(drop, name, done, what, seen);

  it('on a node listing 50 images, a Never probe finds the image gone; it is pulled again once, READY 1/1 → 0/1 → 1/1', async () => {
    const sampler = samplePulls(drop.kube, NAMESPACE);
    await drop.kube.create(
      paths.cachedImages(),
      cachedImage(name, {
        image,
        tag: '1',
        nodeSelector: { 'drop.test/pool': pool },
        policyRef: { name: policy },
      }),
    );
    await until((i) => statusWord(i.status) === 'Cached' && i.status?.ready === '1/1', 'Cached 1/1');
    // Probes run while the image is there, and find it.
    await waitFor(
      async () =>
        sampler.samples.some((s) => s.pods.some((p) => p.image === name && p.probe)) ||
        Promise.reject(new Error('no probe yet')),
      { timeoutMs: 90_000, intervalMs: 250, message: 'a probe' },
    );
    expect((await get())?.status?.ready).toBe('1/1');
    const pullsBefore = new Set(
      sampler.samples.flatMap((s) => s.pods.filter((p) => p.image === name && !p.probe).map((p) => p.name)),
    );
    expect(pullsBefore.size).toBe(1);

    await collectImage(kubeconfigPath(), nodes[0] ?? '', `${image}:1`);
    const readySeen = new Set<string>();
    const noticed = await until(
      (i) => (i.status?.collected ?? []).some((c) => c.how === 'Probe'),
      'the probe noticed',
      (i) => i.status?.ready && readySeen.add(i.status.ready),
    );
    expect(noticed.status?.collected).toEqual([expect.objectContaining({ node: nodes[0], how: 'Probe' })]);
    await until(
      (i) => statusWord(i.status) === 'Cached' && i.status?.ready === '1/1' && !i.status.collected,
      'Cached 1/1 again',
      (i) => i.status?.ready && readySeen.add(i.status.ready),
    );
    await sampler.stop();
    expect(readySeen).toContain('0/1');
    const pulls = new Set(
      sampler.samples.flatMap((s) => s.pods.filter((p) => p.image === name && !p.probe).map((p) => p.name)),
    );
    expect(pulls.size).toBe(2);
    expect(await kubectl(['describe', 'cachedimage', name])).toMatch(
      /ImageGarbageCollected .*a probe pod with imagePullPolicy Never found it gone/,
    );
  });
});
