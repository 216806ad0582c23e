import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type CachedImage, statusWord } from '../../lib/api/index.ts';
import { type Pod, paths } from '../../lib/kube/index.ts';
import { followedChangesTotal } from '../../lib/metrics.ts';
import { pullPodSelectorFor } from '../../lib/pull-pod.ts';
import { createNodes, deleteNodes } from '../controlplane/index.ts';
import { NAMESPACE, ping, type RunningDrop, startDrop } from './drop.ts';
import { kubeconfigPath, kubectl, uniqueName, waitFor } from './harness.ts';
import { cachedImage as imageWith } from './objects.ts';

const EXAMPLES = new URL('../../examples/', import.meta.url);

function example(file: string): CachedImage {
  return parse(readFileSync(new URL(file, EXAMPLES), 'utf8')) as CachedImage;
}

async function cachedImage(drop: RunningDrop, name: string): Promise<CachedImage | undefined> {
  return drop.kube.get<CachedImage>(paths.cachedImage(name));
}

async function pullPods(drop: RunningDrop, name: string): Promise<readonly Pod[]> {
  return (await drop.kube.list<Pod>(paths.pods(NAMESPACE), { labelSelector: pullPodSelectorFor(name) }))
    .items;
}

/**
 * Waits until the image's pull pods are gone: Drop deletes them once their outcomes are recorded,
 * and kwok (the kubelet) confirms each delete a little later — later still on a busy machine.
 */
async function untilNoPullPods(drop: RunningDrop, name: string): Promise<void> {
  await waitFor(
    async () => {
      const left = await pullPods(drop, name);
      if (left.length === 0) return true;
      throw new Error(
        left.map((p) => `${p.metadata.name}${p.metadata.deletionTimestamp ? ' (deleting)' : ''}`).join(', '),
      );
    },
    { timeoutMs: 60_000, intervalMs: 250, message: `${name}'s pull pods to go` },
  );
}

/** Waits until the CachedImage's status satisfies `done`; a timeout reports the last status seen. */
async function waitForStatus(
  drop: RunningDrop,
  name: string,
  done: (status: NonNullable<CachedImage['status']>) => boolean,
  timeoutMs = 60_000,
): Promise<CachedImage> {
  return waitFor(
    async () => {
      const image = await cachedImage(drop, name);
      if (image?.status && done(image.status)) return image;
      throw new Error(`status of ${name}: ${JSON.stringify(image?.status)}`);
    },
    { timeoutMs, intervalMs: 250 },
  );
}

describe('reconcile-image fed by the real ApiServerSource adapter', () => {
  let drop: RunningDrop;
  beforeAll(async () => {
    drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true });
  });
  afterAll(async () => {
    // The example's name is fixed: a failed run must not leave it for the suites that apply it.
    await drop?.kube.delete(paths.cachedImage('nginx'));
    await drop?.stop();
  });

  it('the nginx example ends Cached on every target node and kubectl shows it', async () => {
    const manifest = example('cachedimage-nginx.yaml');
    await drop.kube.delete(paths.cachedImage('nginx'));
    await drop.kube.create(paths.cachedImages(), manifest);
    const done = await waitForStatus(drop, 'nginx', (s) => statusWord(s) === 'Cached', 90_000);
    expect(done.status?.nodesTargeted).toBeGreaterThan(0);
    expect(done.status?.ready).toBe(`${done.status?.nodesTargeted}/${done.status?.nodesTargeted}`);
    expect(done.status?.resolvedDigest).toMatch(/^sha256:[a-f0-9]{64}$/);
    await untilNoPullPods(drop, 'nginx');
    const table = await kubectl(['get', 'cachedimages', 'nginx']);
    expect(table).toMatch(/^NAME\s+IMAGE\s+TAG\s+STATUS\s+READY\s+AGE/);
    expect(table).toMatch(/nginx\s+docker\.io\/library\/nginx\s+1\.25-alpine\s+Cached\s+\d+\/\d+/);
    const wide = await kubectl(['get', 'cachedimages', 'nginx', '-o', 'wide']);
    expect(wide).toMatch(/DIGEST\s+SET\s+POLICY\s+MESSAGE/);
    await drop.kube.delete(paths.cachedImage('nginx'));
  });

  it('an image that cannot be pulled shows the kubelet reason and message', async () => {
    const name = uniqueName('broken');
    await drop.kube.create(
      paths.cachedImages(),
      imageWith(name, { image: 'registry.example/team/errimagepull-app', tag: 'v1' }),
    );
    const failed = await waitForStatus(drop, name, (s) => (s.failedNodes?.length ?? 0) > 0);
    expect(['ErrImagePull', 'ImagePullBackOff']).toContain(statusWord(failed.status));
    expect(failed.status?.failures?.[0]?.message).toMatch(/errimagepull-app/);
    expect(failed.status?.message).toMatch(/ErrImagePull|ImagePullBackOff/);
    expect(failed.status?.ready).toMatch(/^0\//);
    await drop.kube.delete(paths.cachedImage(name));
  });

  it('a node that joins gets the image', async () => {
    const pool = uniqueName('pool');
    const name = uniqueName('joins');
    const [first] = await createNodes(1, {
      kubeconfigPath: kubeconfigPath(),
      prefix: `${pool}-a`,
      labels: { 'drop.test/pool': pool },
    });
    await drop.kube.create(
      paths.cachedImages(),
      imageWith(name, {
        image: 'docker.io/library/alpine',
        tag: '3.20',
        nodeSelector: { 'drop.test/pool': pool },
      }),
    );
    await waitForStatus(drop, name, (s) => s.ready === '1/1');
    const [second] = await createNodes(1, {
      kubeconfigPath: kubeconfigPath(),
      prefix: `${pool}-b`,
      labels: { 'drop.test/pool': pool },
    });
    const both = await waitForStatus(drop, name, (s) => s.ready === '2/2');
    expect(both.status?.cachedNodes).toEqual([first, second].sort());
    await drop.kube.delete(paths.cachedImage(name));
    await deleteNodes(kubeconfigPath(), [first ?? '', second ?? '']);
  });

  it('a node labelled into the pool gets the image, though its source sends no node updates', async () => {
    // config/reconcile-image/sources.yaml filters node updates out (heartbeats would wake an idle
    // function); no ping is sent here, so only the function's own node watch can see the label.
    const pool = uniqueName('relabel');
    const name = uniqueName('relabel');
    const [member] = await createNodes(1, {
      kubeconfigPath: kubeconfigPath(),
      prefix: `${pool}-a`,
      labels: { 'drop.test/pool': pool },
    });
    const [outsider] = await createNodes(1, { kubeconfigPath: kubeconfigPath(), prefix: `${pool}-b` });
    await drop.kube.create(
      paths.cachedImages(),
      imageWith(name, {
        image: 'docker.io/library/alpine',
        tag: '3.21',
        nodeSelector: { 'drop.test/pool': pool },
      }),
    );
    await waitForStatus(drop, name, (s) => s.ready === '1/1');
    const followedBefore = await followedDone();
    await kubectl(['label', 'node', outsider ?? '', `drop.test/pool=${pool}`]);
    const both = await waitForStatus(drop, name, (s) => s.ready === '2/2', 120_000);
    expect(both.status?.cachedNodes).toEqual([member, outsider].sort());
    // Counted apart from the CloudEvents the function is sent (drop_followed_changes_total).
    expect(await followedDone()).toBeGreaterThan(followedBefore);
    await drop.kube.delete(paths.cachedImage(name));
    await deleteNodes(kubeconfigPath(), [member ?? '', outsider ?? '']);
  });

  it('deleting a CachedImage removes its pull pods', async () => {
    const name = uniqueName('deleted');
    await drop.kube.create(
      paths.cachedImages(),
      imageWith(name, { image: 'registry.example/big/slow-60s-image', tag: 'v1' }),
    );
    await waitFor(async () => ((await pullPods(drop, name)).length > 0 ? true : undefined), {
      timeoutMs: 60_000,
    });
    await drop.kube.delete(paths.cachedImage(name));
    await waitFor(async () => ((await pullPods(drop, name)).length === 0 ? true : undefined), {
      timeoutMs: 30_000,
    });
  });
});

describe('reconcile-image with every event delivered twice', () => {
  it('reaches the same end state', async () => {
    const drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true, duplicateEvents: true });
    try {
      const pool = uniqueName('duppool');
      const name = uniqueName('twice');
      const nodes = await createNodes(2, {
        kubeconfigPath: kubeconfigPath(),
        prefix: pool,
        labels: { 'drop.test/pool': pool },
      });
      await drop.kube.create(
        paths.cachedImages(),
        imageWith(name, {
          image: 'docker.io/library/redis',
          tag: '7',
          nodeSelector: { 'drop.test/pool': pool },
        }),
      );
      const done = await waitForStatus(drop, name, (s) => statusWord(s) === 'Cached');
      expect(done.status).toMatchObject({ ready: '2/2', cachedNodes: nodes.sort(), failedNodes: [] });
      await untilNoPullPods(drop, name);
      await drop.kube.delete(paths.cachedImage(name));
      await deleteNodes(kubeconfigPath(), nodes);
    } finally {
      await drop.stop();
    }
  });
});

describe('reconcile-image without events', () => {
  it('pings alone bring an image to the same end state', async () => {
    const drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: false });
    try {
      const pool = uniqueName('pingpool');
      const name = uniqueName('pingonly');
      const nodes = await createNodes(2, {
        kubeconfigPath: kubeconfigPath(),
        prefix: pool,
        labels: { 'drop.test/pool': pool },
      });
      await drop.kube.create(
        paths.cachedImages(),
        imageWith(name, {
          image: 'docker.io/library/busybox',
          tag: '1.36',
          nodeSelector: { 'drop.test/pool': pool },
        }),
      );
      const done = await waitFor(
        async () => {
          await ping(drop.reconcileImageUrl);
          await ping(drop.paceUrl);
          const image = await cachedImage(drop, name);
          return statusWord(image?.status) === 'Cached' ? image : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 1_000 },
      );
      expect(done.status?.ready).toBe('2/2');
      await drop.kube.delete(paths.cachedImage(name));
      await deleteNodes(kubeconfigPath(), nodes);
    } finally {
      await drop.stop();
    }
  });
});

/** Changes reconcile-image's own watches handled as events and that caused work, so far. */
async function followedDone(): Promise<number> {
  const { values } = await followedChangesTotal.get();
  return values
    .filter((v) => v.labels.function === 'reconcile-image' && v.labels.result === 'done')
    .reduce((sum, v) => sum + v.value, 0);
}
