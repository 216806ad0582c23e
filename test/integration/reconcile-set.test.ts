import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  CachedImage,
  CachedImageSet,
  DiscoveredImage,
  DiscoveryPolicy,
  PullPolicy,
} from '../../lib/api/index.ts';
import { IMAGESET_LABEL, statusWord } from '../../lib/api/index.ts';
import { labelValue, type Pod, paths, statusPath } from '../../lib/kube/index.ts';
import { pullPodSelectorFor } from '../../lib/pull-pod.ts';
import { createNodes, deleteNodes } from '../controlplane/index.ts';
import { NAMESPACE, type RunningDrop, startDrop } from './drop.ts';
import { kubeconfigPath, kubectl, uniqueName, waitFor } from './harness.ts';
import { cachedImageSet as setWith } from './objects.ts';

const EXAMPLE = new URL('../../examples/pullpolicy-and-set.yaml', import.meta.url).pathname;

async function children(drop: RunningDrop, set: string): Promise<readonly CachedImage[]> {
  const list = await drop.kube.list<CachedImage>(paths.cachedImages(), {
    labelSelector: `${IMAGESET_LABEL}=${labelValue(set)}`,
  });
  return list.items;
}

/** Waits until the set's status satisfies `done`; a timeout reports the last status seen. */
async function untilSet(
  drop: RunningDrop,
  name: string,
  done: (status: NonNullable<CachedImageSet['status']>) => boolean,
  timeoutMs = 60_000,
): Promise<CachedImageSet> {
  return waitFor(
    async () => {
      const set = await drop.kube.get<CachedImageSet>(paths.cachedImageSet(name));
      if (set?.status && set.status.observedGeneration === set.metadata.generation && done(set.status))
        return set;
      throw new Error(`status of ${name}: ${JSON.stringify(set?.status)}`);
    },
    { timeoutMs, intervalMs: 250 },
  );
}

async function podsOf(drop: RunningDrop, image: string): Promise<readonly Pod[]> {
  return (await drop.kube.list<Pod>(paths.pods(NAMESPACE), { labelSelector: pullPodSelectorFor(image) }))
    .items;
}

describe('reconcile-set fed by the real ApiServerSource adapter', () => {
  let drop: RunningDrop;
  beforeAll(async () => {
    drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true });
  });
  afterAll(async () => {
    await drop?.stop();
  });

  // The example selects every schedulable node; on the fresh cluster that is kwok-node-1 alone, so
  // its 30 s minDelayBetweenPulls never comes into play.

  it('the ci-tools example creates three children that end Cached, and the set shows AllReady 3/3', async () => {
    await kubectl(['delete', '-f', EXAMPLE, '--ignore-not-found', '--wait=false']);
    await waitFor(async () => (await children(drop, 'ci-tools')).length === 0, {
      message: 'old children gone',
    });
    await kubectl(['apply', '-f', EXAMPLE]);
    const set = await untilSet(drop, 'ci-tools', (s) => statusWord(s) === 'AllReady', 120_000);
    expect(set.status).toMatchObject({ ready: '3/3', imagesManaged: 3, imagesReady: 3 });
    const kids = await children(drop, 'ci-tools');
    expect(kids.map((c) => `${c.spec.image}:${c.spec.tag}`).sort()).toEqual([
      'docker.io/library/alpine:3.19',
      'docker.io/library/golang:1.22-bookworm',
      'docker.io/library/node:20-alpine',
    ]);
    for (const child of kids) {
      expect(child.spec).toMatchObject({
        imagePullPolicy: 'IfNotPresent',
        policyRef: { name: 'ci-cache-conservative' },
      });
      expect(child.metadata.ownerReferences).toEqual([
        expect.objectContaining({
          kind: 'CachedImageSet',
          name: 'ci-tools',
          uid: set.metadata.uid,
          controller: true,
        }),
      ]);
    }
    const table = await kubectl(['get', 'cachedimagesets', 'ci-tools']);
    expect(table).toMatch(/^NAME\s+STATUS\s+READY\s+MANAGED\s+SOURCE\s+AGE/);
    expect(table).toMatch(/ci-tools\s+AllReady\s+3\/3\s+3\s+/);
    const wide = await kubectl(['get', 'cachedimages', '-l', `${IMAGESET_LABEL}=ci-tools`, '-o', 'wide']);
    expect(wide.trim().split('\n').slice(1)).toHaveLength(3);
    expect(wide).toMatch(/\sci-tools\s+ci-cache-conservative\s/);
    await kubectl(['delete', '-f', EXAMPLE, '--wait=false']);
  });

  describe('on a pool of nodes of its own', () => {
    let nodes: string[] = [];
    const pool = uniqueName('setpool');
    // Both nodes at once: the default policy's 10 s between starts would only make the tests slow.
    const fast = uniqueName('fast');
    const placement = { nodeSelector: { 'drop.test/pool': pool }, policyRef: { name: fast } };
    beforeAll(async () => {
      nodes = await createNodes(2, {
        kubeconfigPath: kubeconfigPath(),
        prefix: pool,
        labels: { 'drop.test/pool': pool },
      });
      await drop.kube.create(paths.pullPolicies(), {
        apiVersion: 'drop.corewire.io/v1alpha1',
        kind: 'PullPolicy',
        metadata: { name: fast },
        spec: { maxConcurrentNodes: 2, minDelayBetweenPulls: '0s' },
      } as PullPolicy);
    });
    afterAll(async () => {
      await drop.kube.delete(paths.pullPolicy(fast));
      await deleteNodes(kubeconfigPath(), nodes);
    });

    it('removing an entry deletes its child and its pull pods', async () => {
      const name = uniqueName('shrink');
      const spec = {
        ...placement,
        images: [
          { image: 'registry.example/ci/quick', tag: 'v1' },
          { image: 'registry.example/ci/huge-slow-60s', tag: 'v1' },
        ],
      };
      await drop.kube.create(paths.cachedImageSets(), setWith(name, spec));
      const slow = await waitFor(
        async () => {
          for (const child of await children(drop, name)) {
            if (
              child.spec.image.endsWith('huge-slow-60s') &&
              (await podsOf(drop, child.metadata.name)).length > 0
            )
              return child.metadata.name;
          }
          return undefined;
        },
        { timeoutMs: 60_000, message: 'a pull pod of the slow child' },
      );
      const current = await drop.kube.get<CachedImageSet>(paths.cachedImageSet(name));
      await drop.kube.replace(paths.cachedImageSet(name), {
        ...current!,
        spec: { ...spec, images: [spec.images[0]] },
      });
      await waitFor(async () => (await drop.kube.get(paths.cachedImage(slow))) === undefined, {
        message: 'child deleted',
      });
      await waitFor(async () => (await podsOf(drop, slow)).length === 0, {
        message: 'its pull pods deleted',
      });
      const set = await untilSet(drop, name, (s) => statusWord(s) === 'AllReady');
      expect(set.status).toMatchObject({ ready: '1/1', imagesManaged: 1 });
      await drop.kube.delete(paths.cachedImageSet(name));
    });

    it('one broken image makes the set Degraded, with that image named', async () => {
      const name = uniqueName('broken');
      await drop.kube.create(
        paths.cachedImageSets(),
        setWith(name, {
          ...placement,
          images: [
            { image: 'registry.example/ci/fine', tag: 'v1' },
            { image: 'registry.example/ci/errimagepull-tool', tag: 'v1' },
          ],
        }),
      );
      const set = await untilSet(drop, name, (s) => statusWord(s) === 'Degraded');
      const broken = (await children(drop, name)).find((c) => c.spec.image.endsWith('errimagepull-tool'));
      expect(set.status?.message).toContain(broken?.metadata.name);
      expect(set.status?.message).toMatch(/ErrImagePull|ImagePullBackOff/);
      expect(set.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
        status: 'False',
        reason: 'Degraded',
      });
      await drop.kube.delete(paths.cachedImageSet(name));
    });

    it('a child edited by hand is put back', async () => {
      const name = uniqueName('handedit');
      await drop.kube.create(
        paths.cachedImageSets(),
        setWith(name, {
          ...placement,
          images: [{ image: 'registry.example/ci/edited', tag: 'v1' }],
        }),
      );
      await untilSet(drop, name, (s) => statusWord(s) === 'AllReady');
      const [child] = await children(drop, name);
      await kubectl([
        'patch',
        'cachedimage',
        child!.metadata.name,
        '--type=merge',
        '-p',
        '{"spec":{"tag":"hacked"}}',
      ]);
      await waitFor(
        async () =>
          (await drop.kube.get<CachedImage>(paths.cachedImage(child!.metadata.name)))?.spec.tag === 'v1',
        { message: 'tag put back to v1' },
      );
      await drop.kube.delete(paths.cachedImageSet(name));
    });

    it('a discovery-driven set follows the DiscoveryPolicy status', async () => {
      const name = uniqueName('discovered');
      const policy = uniqueName('dp');
      await drop.kube.create(paths.discoveryPolicies(), {
        apiVersion: 'drop.corewire.io/v1alpha1',
        kind: 'DiscoveryPolicy',
        metadata: { name: policy },
        // A source nobody syncs in this test: the test writes the status the discover function would.
        spec: {
          sources: [{ type: 'registry', registry: { url: 'http://127.0.0.1:9', repositories: ['x'] } }],
        },
      } as DiscoveryPolicy);
      const writeImages = async (images: readonly DiscoveredImage[]) => {
        const current = await drop.kube.get<DiscoveryPolicy>(paths.discoveryPolicy(policy));
        await drop.kube.replace(statusPath(paths.discoveryPolicy(policy)), {
          ...current!,
          status: {
            ...current?.status,
            phase: 'Synced',
            discoveredImages: [...images],
            imageCount: images.length,
          },
        });
      };
      const found = (repo: string, tag: string, rank: number): DiscoveredImage => ({
        image: `registry.example/${repo}:${tag}`,
        rank,
        finalScore: String(1 / rank),
      });
      await writeImages([found('team/a', 'v1', 1), found('team/b', 'v2', 2)]);
      await drop.kube.create(
        paths.cachedImageSets(),
        setWith(name, {
          discoveryPolicyRef: { name: policy },
          ...placement,
          images: [{ image: 'registry.example/team/a', tag: 'v1' }],
        }),
      );
      const first = await untilSet(drop, name, (s) => statusWord(s) === 'AllReady' && s.imagesManaged === 2);
      expect(first.status?.source).toBe(policy);
      expect(await kubectl(['get', 'cachedimagesets', name, '--no-headers'])).toMatch(
        new RegExp(`${name}\\s+AllReady\\s+2/2\\s+2\\s+${policy}\\s`),
      );
      await writeImages([found('team/c', 'v3', 1)]);
      const wanted = ['registry.example/team/a:v1', 'registry.example/team/c:v3'];
      await waitFor(
        async () => {
          const images = (await children(drop, name)).map((c) => `${c.spec.image}:${c.spec.tag}`).sort();
          return JSON.stringify(images) === JSON.stringify(wanted) ? images : undefined;
        },
        { message: `children ${wanted.join(', ')}` },
      );
      await untilSet(drop, name, (s) => statusWord(s) === 'AllReady' && s.ready === '2/2');
      await drop.kube.delete(paths.cachedImageSet(name));
      await drop.kube.delete(paths.discoveryPolicy(policy));
    });

    it('a reference to a DiscoveryPolicy that does not exist is a condition naming it', async () => {
      const name = uniqueName('noref');
      await drop.kube.create(
        paths.cachedImageSets(),
        setWith(name, { discoveryPolicyRef: { name: 'no-such-policy' } }),
      );
      const set = await untilSet(drop, name, (s) => statusWord(s) === 'Degraded');
      expect(set.status?.conditions?.find((c) => c.type === 'ReferencesFound')).toMatchObject({
        status: 'False',
        reason: 'DiscoveryPolicyNotFound',
        message: expect.stringContaining('"no-such-policy"'),
      });
      await drop.kube.delete(paths.cachedImageSet(name));
    });

    it('deleting the set deletes every child and pull pod', async () => {
      const name = uniqueName('gone');
      await drop.kube.create(
        paths.cachedImageSets(),
        setWith(name, {
          ...placement,
          images: [
            { image: 'registry.example/ci/slow-60s-one', tag: 'v1' },
            { image: 'registry.example/ci/slow-60s-two', tag: 'v1' },
          ],
        }),
      );
      const names = await waitFor(
        async () => {
          const kids = await children(drop, name);
          const pods = await Promise.all(kids.map((c) => podsOf(drop, c.metadata.name)));
          return kids.length === 2 && pods.some((p) => p.length > 0)
            ? kids.map((c) => c.metadata.name)
            : undefined;
        },
        { timeoutMs: 60_000, message: 'children with a pull pod' },
      );
      await drop.kube.delete(paths.cachedImageSet(name));
      await waitFor(async () => (await children(drop, name)).length === 0, { message: 'children deleted' });
      for (const child of names) {
        await waitFor(async () => (await podsOf(drop, child)).length === 0, {
          message: `pods of ${child} deleted`,
        });
      }
    });
  });
});
