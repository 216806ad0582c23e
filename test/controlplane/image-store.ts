// The simulated kubelet's image store: which images a fake node has lost to garbage collection.
// kwok keeps no images, so "on the node" means pulled and not collected since: a test collects an
// image from a node (collectImage, as the kubelet's image GC would), a pull pod with
// imagePullPolicy Never there then ends ErrImageNeverPull, and a pull of it puts it back. See
// README.md "Images the kubelet removed".

import { parseImageReference } from '../../lib/image-ref.ts';
import {
  createKube,
  type Kube,
  KubeError,
  loadKubeConfig,
  type Node,
  type Pod,
  paths,
} from '../../lib/kube/index.ts';
import { runWatch } from '../../lib/kube/watch.ts';

/** On a node: the references (normalised) its kubelet has garbage-collected, as a JSON array. */
export const COLLECTED_ANNOTATION = 'drop.test/collected-images';
/** On a pod with imagePullPolicy Never: "true" or "false", what the kwok stages wait for. */
export const PRESENT_ANNOTATION = 'drop.test/image-present';

const FIELD_MANAGER = 'drop-image-store';

export interface ImageStore {
  stop(): Promise<void>;
}

/** The references a node has lost, from its annotation (a value that is no JSON array: none). */
export function collectedOn(node: Pick<Node, 'metadata'> | undefined): string[] {
  try {
    const value: unknown = JSON.parse(node?.metadata.annotations?.[COLLECTED_ANNOTATION] ?? '[]');
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/** A reference as the store keys it: `docker.io/library/nginx:1.25` for `nginx:1.25`. */
export function storeKey(image: string): string {
  const parsed = parseImageReference(image);
  return parsed.ok ? parsed.ref.reference : image;
}

/** Takes `reference` off the node, as the kubelet's image garbage collection would. */
export async function collectImage(kubeconfigPath: string, node: string, reference: string): Promise<void> {
  const kube = createKube(loadKubeConfig(kubeconfigPath), FIELD_MANAGER);
  try {
    await updateCollected(kube, node, (list) => [...new Set([...list, storeKey(reference)])]);
  } finally {
    kube.transport.close();
  }
}

/** Answers Never pods from the nodes' annotations, and puts back an image a pull brought. */
export function startImageStore(options: {
  readonly kubeconfigPath: string;
  readonly onError?: (context: string, error: unknown) => void;
}): ImageStore {
  const kube = createKube(loadKubeConfig(options.kubeconfigPath), FIELD_MANAGER);
  const onError =
    options.onError ?? ((context, error) => console.error(`drop image store: ${context}: ${String(error)}`));
  const controller = new AbortController();
  const inFlight = new Set<Promise<void>>();
  // A pull's pod is looked at once after its image arrived, not at each later update.
  const checked = new Set<string>();
  const track = (key: string, work: Promise<void>) => {
    const done = work.catch((error: unknown) => onError(key, error)).finally(() => inFlight.delete(done));
    inFlight.add(done);
  };
  void runWatch(
    kube,
    kube.transport,
    { apiVersion: 'v1', kind: 'Pod', plural: 'pods', path: '/api/v1/pods' },
    async (action, object) => {
      const pod = object as Pod;
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      if (action === 'delete' || !pod.spec?.nodeName) return;
      if (needsAnswer(pod)) track(key, answer(kube, pod));
      else if (pulledImage(pod) && !checked.has(pod.metadata.uid ?? key)) {
        checked.add(pod.metadata.uid ?? key);
        track(key, putBack(kube, pod));
      }
    },
    controller.signal,
    (error) => onError('watch pods', error),
  );
  return {
    async stop() {
      controller.abort();
      await Promise.allSettled([...inFlight]);
      kube.transport.close();
    },
  };
}

function needsAnswer(pod: Pod): boolean {
  const container = pod.spec?.containers[0] as { imagePullPolicy?: string } | undefined;
  return (
    container?.imagePullPolicy === 'Never' && pod.metadata.annotations?.[PRESENT_ANNOTATION] === undefined
  );
}

// A pull (not a Never pod) that got its image: imageID set.
function pulledImage(pod: Pod): string | undefined {
  const container = pod.spec?.containers[0] as { image?: string; imagePullPolicy?: string } | undefined;
  if (container?.imagePullPolicy === 'Never') return undefined;
  return pod.status?.containerStatuses?.[0]?.imageID ? container?.image : undefined;
}

async function answer(kube: Kube, pod: Pod): Promise<void> {
  const node = await kube.get<Node>(paths.node(pod.spec?.nodeName ?? ''));
  const image = pod.spec?.containers[0]?.image ?? '';
  const present = !collectedOn(node).includes(storeKey(image));
  try {
    await kube.mergePatch(paths.pod(pod.metadata.namespace ?? '', pod.metadata.name), {
      metadata: { annotations: { [PRESENT_ANNOTATION]: String(present) } },
    });
  } catch (error) {
    if (!(error instanceof KubeError && error.kind === 'not-found')) throw error;
  }
}

async function putBack(kube: Kube, pod: Pod): Promise<void> {
  const image = storeKey(pulledImage(pod) ?? '');
  const name = pod.spec?.nodeName ?? '';
  const node = await kube.get<Node>(paths.node(name));
  if (!collectedOn(node).includes(image)) return;
  await updateCollected(kube, name, (list) => list.filter((r) => r !== image));
}

async function updateCollected(
  kube: Kube,
  name: string,
  change: (list: string[]) => string[],
): Promise<void> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const node = await kube.get<Node>(paths.node(name));
    if (!node) return;
    try {
      await kube.mergePatch(paths.node(name), {
        metadata: {
          resourceVersion: node.metadata.resourceVersion,
          annotations: { [COLLECTED_ANNOTATION]: JSON.stringify(change(collectedOn(node))) },
        },
      });
      return;
    } catch (error) {
      if (!(error instanceof KubeError && error.kind === 'conflict')) throw error;
    }
  }
}
