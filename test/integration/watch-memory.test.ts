// What a long-lived watch keeps in memory after it has handed objects on. At a thousand nodes the
// runner held every node twice more than its cache does: the first list's response, alive in the
// watch loop's frame for as long as the watch, and each joining node as its event brought it,
// kept by a two-minute timer's closure. Both are garbage now; V8's own collector says so.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { imageWatches } from '../../functions/reconcile-image/watches.ts';
import type { HandlerContext, ObjectEvent } from '../../lib/controller/index.ts';
import { createKube, type KubeObject, loadKubeConfig, runWatch } from '../../lib/kube/index.ts';
import { createLogger } from '../../lib/log.ts';
import { kubeconfigPath, uniqueName, waitFor } from './harness.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const admin = createKube(loadKubeConfig(kubeconfigPath()), 'drop-test');
const namespace = uniqueName('watch-memory');
const controller = new AbortController();

beforeAll(async () => {
  await admin.create('/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace },
  });
});

afterAll(async () => {
  controller.abort();
  await admin.delete(`/api/v1/namespaces/${namespace}`).catch(() => undefined);
});

/** Collects until every reference is cleared, or gives up after a few rounds (a collection per turn). */
async function collected(refs: readonly WeakRef<object>[]): Promise<number> {
  for (let round = 0; round < 10; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    if (refs.every((ref) => ref.deref() === undefined)) break;
  }
  return refs.filter((ref) => ref.deref() !== undefined).length;
}

const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace } });

it('a watch keeps nothing of its list once it has handed the objects on', async () => {
  const path = `/api/v1/namespaces/${namespace}/configmaps`;
  for (const name of ['one', 'two', 'three']) await admin.create(path, configMap(name) as never);
  // The listed objects are shallow copies of the response's items (they add apiVersion and kind),
  // so their metadata is the response's own: alive exactly as long as the response is.
  const listed: WeakRef<object>[] = [];
  const listedNames: string[] = [];
  const seen = new Set<string>();
  let listDone = false;
  void runWatch(
    admin,
    admin.transport,
    { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', path },
    async (_, object: KubeObject) => void seen.add(object.metadata.name),
    controller.signal,
    () => undefined,
    {
      emitListed: false,
      onListed: (objects) => {
        for (const object of objects) {
          listed.push(new WeakRef(object.metadata));
          listedNames.push(object.metadata.name);
        }
        listDone = true;
      },
    },
  );
  // Created once the list is in, so that it comes as a watch event.
  await waitFor(() => listDone, { timeoutMs: 60_000, message: 'the watch to list' });
  await admin.create(path, configMap('after') as never);
  await waitFor(() => seen.has('after'), { timeoutMs: 60_000, message: 'the watch to stream past its list' });
  // Ours, and whatever else the namespace holds by then (kube-root-ca.crt, once the controller
  // manager has published it).
  expect(listedNames).toEqual(expect.arrayContaining(['one', 'two', 'three']));
  expect(await collected(listed)).toBe(0);
});

it('reconcile-image keeps the node watch open after a join without keeping the node the event brought', async () => {
  const kube = createKube(loadKubeConfig(kubeconfigPath()), 'drop-test-memory');
  const log = createLogger({ component: 'watch-memory-test' });
  const ctx: HandlerContext = {
    kube,
    log,
    now: () => new Date(),
    reconcile: async () => ({ result: 'done', detail: 'not reconciled in this test' }),
    later: () => undefined,
    follow: () => undefined,
  };
  const watches = imageWatches(namespace);
  const joined: WeakRef<object>[] = [];
  for (const name of [uniqueName('joining-a'), uniqueName('joining-b')]) {
    let node: KubeObject | undefined = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, resourceVersion: '1', labels: { 'kubernetes.io/hostname': name } },
      status: { images: [{ names: ['registry.example/big:1'], sizeBytes: 1 }] },
    } as KubeObject;
    let event: ObjectEvent | undefined = {
      type: 'object',
      id: name,
      source: 'watch-memory-test',
      action: 'add',
      mode: 'resource',
      ref: { apiVersion: 'v1', kind: 'Node', name, namespace: '' },
      object: node,
    };
    joined.push(new WeakRef(node), new WeakRef(event));
    await watches.Node!(event, ctx);
    node = undefined;
    event = undefined;
  }
  // The two-minute hold on the view is still running; the node objects must not ride along.
  expect(await collected(joined)).toBe(0);
});
