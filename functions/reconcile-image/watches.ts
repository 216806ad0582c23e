import { type CachedImage, type PullPolicy, statusWord } from '../../lib/api/index.ts';
import type { HandlerContext, ObjectEvent, Wake, Watch } from '../../lib/controller/index.ts';
import { type Node, type Pod, paths } from '../../lib/kube/index.ts';
import type { Informer } from '../../lib/kube/informer.ts';
import { imageReportIn, imageReportOf, type NodeImageReport } from '../../lib/node-images.ts';
import { policyOf, startupTaintOf } from '../../lib/policy/index.ts';
import { CACHED_IMAGE_ANNOTATION, pullOutcome } from '../../lib/pull-pod.ts';
import { isSelected, isTarget, type Placement, placed, placementOf, skipReason } from '../../lib/targets.ts';
import { goneFromNodeStatus } from './collected.ts';
import { type ImageView, withImageView } from './reconcile.ts';

// What wakes reconcile-image: a CachedImage's spec, its pull pods' outcomes, nodes coming, going
// or changing what makes them a target. The event only says which object to look at; the skips
// below say there is nothing new to look at. Most of what a pull does (the kubelet's intermediate
// updates, our own status writes, the deletion of a recorded pod) and most of what a node does
// (heartbeats) would otherwise cost a reconcile each. Reference mode carries no object, so every
// such event is reconciled; the resync ping covers any event skipped or lost.

/** The watches of reconcile-image, for pods in the Drop namespace. */
export function imageWatches(namespace: string): Readonly<Record<string, Watch>> {
  const targetsSeen = new Map<string, string>();
  return {
    CachedImage: (event, ctx) => onImage(event, ctx, namespace),
    Pod: (event, ctx) => onPod(event, ctx, namespace),
    Node: (event, ctx) => onNode(event, ctx, namespace, targetsSeen),
    PullPolicy: (event, ctx) => onPolicy(event, ctx, namespace),
  };
}

/**
 * A PullPolicy came, went or changed: the images it paces. Its backoff and repullInterval shape
 * their status, and an image that names a policy which did not exist yet says PolicyNotFound
 * until it does — with no pull of its own to wake it.
 */
async function onPolicy(event: ObjectEvent, ctx: HandlerContext, namespace: string): Promise<Wake> {
  return withImageView(ctx, namespace, async (view) => {
    absorb(view.policies, event, event.object as PullPolicy | undefined);
    return view.images
      .list()
      .filter((image) => policyOf(image) === event.ref.name)
      .map((image) => image.metadata.name);
  });
}

// An event can come before the watches this process keeps have seen the change it reports (they
// are other watches than the adapter's): what it carries goes into them, so the reconcile it
// wakes reads at least that.
function absorb<T extends CachedImage | Pod | Node | PullPolicy>(
  cache: Informer<T>,
  event: ObjectEvent,
  object: T | undefined,
): void {
  if (object) cache.observe(object, event.action === 'delete');
}

async function onImage(event: ObjectEvent, ctx: HandlerContext, namespace: string): Promise<Wake> {
  const carried = event.object as CachedImage | undefined;
  const settled =
    event.action === 'update' &&
    carried?.metadata.generation !== undefined &&
    carried.status?.observedGeneration === carried.metadata.generation;
  // The pacer's summary says a registry paused the image's host, or no longer does: the STATUS
  // word follows it (RegistryRateLimited), so that status update is looked at.
  const paused = carried?.status?.pacing?.waiting.some((w) => w.limit === 'registryRateLimited') ?? false;
  const says = statusWord(carried?.status) === 'RegistryRateLimited';
  if (settled && paused === says) return { skip: 'status update of a settled spec' };
  const image =
    carried ??
    (event.action === 'delete'
      ? undefined
      : await ctx.kube.get<CachedImage>(paths.cachedImage(event.ref.name)));
  await withImageView(ctx, namespace, async (view) => absorb(view.images, event, image));
  return [event.ref.name];
}

function isUninterestingPodEvent(event: ObjectEvent): boolean {
  const pod = event.object as Pod | undefined;
  if (!pod || event.action === 'add') return false;
  // Deleted after its outcome was recorded (the usual end of a pull): nothing left to record.
  if (event.action === 'delete') return pullOutcome(pod).kind !== 'pulling';
  // A deletion in progress: its delete follows, and the status already left it out.
  return pod.metadata.deletionTimestamp !== undefined;
}

/**
 * A pull pod changed: the CachedImage it belongs to (its annotation names it). Its source sends
 * neither the pod's creation nor its deletion (config/reconcile-image/sources.yaml): the kubelet's
 * first status of a pull (ContainerCreating) says it started, its last the outcome; a deletion is
 * seen by the process's own pod watch while it is up.
 */
async function onPod(event: ObjectEvent, ctx: HandlerContext, namespace: string): Promise<Wake> {
  if (isUninterestingPodEvent(event)) return { skip: 'pod being deleted, or deleted once recorded' };
  const pod =
    (event.object as Pod | undefined) ??
    (await ctx.kube.get<Pod>(paths.pod(event.ref.namespace || namespace, event.ref.name)));
  const owner = pod?.metadata.annotations?.[CACHED_IMAGE_ANNOTATION];
  if (!owner) return { skip: `pod ${event.ref.name} is gone or not a Drop pull pod` };
  await withImageView(ctx, namespace, async (view) => absorb(view.pods, event, pod));
  // A pull that starts or goes on only moves a count: recorded with whatever else happens in the
  // next second (pulls start in bursts). An outcome is recorded at once, but not on the sender's
  // time: it waits for each answer, and under load one that waited on reconciles fell behind its
  // watch and lost events (docs/design.md §Events). This process retries the reconcile itself.
  if (event.action === 'delete') return [owner];
  if (pullOutcome(pod).kind === 'pulling') return { later: [owner], afterMs: 1_000, why: 'a pull started' };
  return { later: [owner], afterMs: 0, why: 'a pull ended' };
}

/**
 * A node joined, left or changed: the images whose targets it changes. A node's status is
 * rewritten by its kubelet all the time; only what decides whether it is a target (labels,
 * taints, cordon, readiness) can change an image, so an event that changes none of that since
 * the last one this process saw wakes nothing.
 */
async function onNode(
  event: ObjectEvent,
  ctx: HandlerContext,
  namespace: string,
  targetsSeen: Map<string, string>,
): Promise<Wake> {
  const name = event.ref.name;
  const node =
    event.action === 'delete'
      ? undefined
      : ((event.object as Node | undefined) ?? (await ctx.kube.get<Node>(paths.node(name))));
  const print = node ? fingerprint(node) : '';
  const report = node ? (imageReportOf(node) ?? imageReportIn(node)) : undefined;
  if (event.action === 'update' && targetsSeen.get(name) === print) {
    // Nothing a target depends on changed, but the kubelet's image list may have lost an image.
    const gone = report ? await imagesGoneFrom(ctx, namespace, event, node, report) : [];
    return gone.length > 0 ? gone : { skip: `node ${name}: nothing a target depends on changed` };
  }
  if (node) targetsSeen.set(name, print);
  else targetsSeen.delete(name);
  // A node joins NotReady and turns Ready in an update its event source does not send: the node
  // watch stays open a while after a join, so that the function sees it while it is up.
  if (event.action === 'add') keepNodeWatchOpen(ctx, namespace);
  return withImageView(ctx, namespace, async (view: ImageView) => {
    if (node) absorb(view.nodes, event, node);
    else if (event.object) absorb(view.nodes, event, event.object as Node);
    return view.images
      .list()
      .filter(
        (image) =>
          nodeChangesTargets(
            image,
            placementOf(image.spec, startupTaintOf(view.policies.get(policyOf(image)))),
            name,
            node,
            node ?? (event.object as Node | undefined),
          ) ||
          (report !== undefined && listsImageGone(image, name, report)),
      )
      .map((image) => image.metadata.name);
  });
}

/** The images the node's status recorded as cached there that its image list proves gone. */
async function imagesGoneFrom(
  ctx: HandlerContext,
  namespace: string,
  event: ObjectEvent,
  node: Node | undefined,
  report: NodeImageReport,
): Promise<string[]> {
  return withImageView(ctx, namespace, async (view: ImageView) => {
    const gone = view.images
      .list()
      .filter((image) => listsImageGone(image, event.ref.name, report))
      .map((image) => image.metadata.name);
    // The reconcile reads the node from the cache: at least this version of its list.
    if (gone.length > 0 && node) absorb(view.nodes, event, node);
    return gone;
  });
}

function listsImageGone(image: CachedImage, node: string, report: NodeImageReport): boolean {
  const status = image.status;
  if (!status?.reference || !(status.cachedNodes ?? []).includes(node)) return false;
  const gone = goneFromNodeStatus({
    cached: [node],
    reports: new Map([[node, report]]),
    reference: status.reference,
    digests: status.digests,
    resolvedDigest: status.resolvedDigest,
    lastPulledAt: status.lastPulledAt,
  });
  return gone.length > 0;
}

/** How long the node watch stays open after a node joins: about as long as Knative keeps the pod. */
const JOINING_NODE_WATCH_MS = 120_000;

/**
 * Holds the image view (and with it the node watch) for JOINING_NODE_WATCH_MS. A function of its
 * own: a closure made inside onNode would keep onNode's whole scope — the node object as the event
 * brought it, image list and managedFields included — for those two minutes, a thousand of them
 * when a runner starts beside a thousand nodes.
 */
function keepNodeWatchOpen(ctx: HandlerContext, namespace: string): void {
  void withImageView(ctx, namespace, () => delay(JOINING_NODE_WATCH_MS));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function fingerprint(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? '';
  return JSON.stringify([
    node.metadata.labels ?? {},
    node.spec?.taints ?? [],
    node.spec?.unschedulable ?? false,
    ready,
    Boolean(node.metadata.deletionTimestamp),
    skipReason(node) ?? '',
  ]);
}

function nodeChangesTargets(
  image: CachedImage,
  placement: Placement,
  nodeName: string,
  node: Node | undefined,
  last: Node | undefined,
): boolean {
  const status = image.status;
  const recorded =
    (status?.cachedNodes ?? []).includes(nodeName) ||
    (status?.failedNodes ?? []).some((f) => f.node === nodeName);
  // A node the status names as skipped that changed: it may be a target again, or gone. A placed
  // node that is skipped now, or while the image has skipped nodes (not all named): the count moves.
  if ((status?.skipped ?? []).some((g) => g.examples.includes(nodeName))) return true;
  if (node && placed(node, placement) && (skipReason(node) || (status?.skipped ?? []).length > 0))
    return true;
  const target = node !== undefined && isTarget(node, placement);
  // A node that stops being a target mid-pull (cordoned, NotReady, deleted) is recorded nowhere: the
  // status counts pulls in flight, it does not list them. An image still on its way is woken for
  // any node its selector picks, or it would go on counting that pull.
  const selected = last !== undefined && isSelected(last, { nodeSelector: image.spec?.nodeSelector });
  // A target the status does not record is new or waiting; a recorded node that is no longer a target left.
  return target !== recorded || ((target || selected) && statusWord(status) !== 'Cached');
}
