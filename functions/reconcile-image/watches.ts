import { type CachedImage, statusWord } from '../../lib/api/index.ts';
import type { HandlerContext, ObjectEvent, Wake, Watch } from '../../lib/controller/index.ts';
import { type Node, type Pod, paths } from '../../lib/kube/index.ts';
import { CACHED_IMAGE_ANNOTATION, pullOutcome } from '../../lib/pull-pod.ts';
import { isTarget } from '../../lib/targets.ts';
import type { ImageKey } from './reconcile.ts';

// What wakes reconcile-image: a CachedImage's spec, its pull pods' outcomes, nodes coming and
// going. The event only says which object to look at; the skips below say there is nothing new to
// look at. Most of what a pull does (the kubelet's intermediate updates, our own status writes, the
// deletion of a recorded pod) would otherwise cost a full reconcile each. Reference mode carries no
// object, so every such event is reconciled; the resync ping covers any event skipped or lost.

/** The watches of reconcile-image, for pods in the Drop namespace. */
export function imageWatches(namespace: string): Readonly<Record<string, Watch<ImageKey>>> {
  return {
    CachedImage: onImage,
    Pod: (event, ctx) => onPod(event, ctx, namespace),
    Node: onNode,
  };
}

function onImage(event: ObjectEvent): Wake<ImageKey> {
  const image = event.object as CachedImage | undefined;
  const settled =
    event.action === 'update' &&
    image?.metadata.generation !== undefined &&
    image.status?.observedGeneration === image.metadata.generation;
  if (settled) return { skip: 'status update of a settled spec' };
  return [{ name: event.ref.name }];
}

function isUninterestingPodEvent(event: ObjectEvent): boolean {
  const pod = event.object as Pod | undefined;
  if (!pod || event.action === 'add') return false;
  // Deleted after its outcome was recorded (the usual end of a pull): nothing left to record.
  if (event.action === 'delete') return pullOutcome(pod).kind !== 'pulling';
  // A deletion in progress: its delete event follows, and the status already left it out.
  if (pod.metadata.deletionTimestamp) return true;
  // Still pulling after the add event reported it as pulling (the kubelet's ContainerCreating).
  return pod.status?.containerStatuses !== undefined && pullOutcome(pod).kind === 'pulling';
}

/** A pull pod changed: the CachedImage it belongs to (its annotation names it). */
async function onPod(event: ObjectEvent, ctx: HandlerContext, namespace: string): Promise<Wake<ImageKey>> {
  if (isUninterestingPodEvent(event)) return { skip: 'pod still pulling or being deleted' };
  const pod =
    (event.object as Pod | undefined) ??
    (await ctx.kube.get<Pod>(paths.pod(event.ref.namespace || namespace, event.ref.name)));
  const owner = pod?.metadata.annotations?.[CACHED_IMAGE_ANNOTATION];
  if (!owner) return { skip: `pod ${event.ref.name} is gone or not a Drop pull pod` };
  return [{ name: owner, targetsFromStatus: true }];
}

/** A node joined, left or changed: the images whose targets it changes. */
async function onNode(event: ObjectEvent, ctx: HandlerContext): Promise<Wake<ImageKey>> {
  const node = event.action === 'delete' ? undefined : await ctx.kube.get<Node>(paths.node(event.ref.name));
  const images = await ctx.kube.list<CachedImage>(paths.cachedImages());
  return images.items
    .filter((image) => nodeChangesTargets(image, event.ref.name, node))
    .map((image) => ({ name: image.metadata.name }));
}

function nodeChangesTargets(image: CachedImage, nodeName: string, node: Node | undefined): boolean {
  const status = image.status;
  const known = [
    ...(status?.cachedNodes ?? []),
    // A node that leaves mid-pull must wake the image too, or it stays counted as pulling there.
    ...(status?.pullingNodes ?? []),
    ...(status?.failedNodes ?? []).map((f) => f.node),
    ...(status?.waitingNodes ?? []).map((w) => w.node),
  ].includes(nodeName);
  const target =
    node !== undefined &&
    isTarget(node, { nodeSelector: image.spec?.nodeSelector, tolerations: image.spec?.tolerations });
  // A target the status does not list is new or pulling; a listed node that is no longer a target left.
  return target !== known || (target && statusWord(status) !== 'Cached');
}
