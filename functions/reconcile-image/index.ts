import type { Hono } from 'hono';
import type { CachedImage, PullPolicy } from '../../lib/api/index.ts';
import {
  type DropEvent,
  eventApp,
  firstRetryOr,
  type HandlerContext,
  type Outcome,
} from '../../lib/events/index.ts';
import { inBatches } from '../../lib/in-batches.ts';
import { type Kube, type Node, type Pod, paths } from '../../lib/kube/index.ts';
import { CACHED_IMAGE_ANNOTATION, PULL_POD_SELECTOR, pullOutcome } from '../../lib/pull-pod.ts';
import { isTarget } from '../../lib/targets.ts';
import { deletePullPods, type ReconcileDeps, reconcileImage } from './apply.ts';

export const FUNCTION = 'reconcile-image';

export interface ReconcileImageOptions {
  readonly kube: Kube;
  readonly namespace: string;
  readonly now?: () => Date;
}

/** The reconcile-image function: CachedImage, pull-pod and Node events, and the resync ping. */
export function createReconcileImageApp(options: ReconcileImageOptions): Hono {
  return eventApp({
    name: FUNCTION,
    handle: (event, ctx) => {
      const kube = options.kube.session(FUNCTION, ctx.countRequest);
      const deps: ReconcileDeps = {
        kube,
        namespace: options.namespace,
        now: options.now ?? (() => new Date()),
      };
      return route(deps, event, ctx);
    },
  });
}

async function route(deps: ReconcileDeps, event: DropEvent, ctx: HandlerContext): Promise<Outcome> {
  if (event.type === 'ping') return resyncAll(deps);
  switch (event.ref.kind) {
    case 'CachedImage':
      if (isStatusWrite(event)) return { result: 'ignored', detail: 'status update of a settled spec' };
      return reconcileImage(deps, event.ref.name);
    case 'Pod':
      return onPod(deps, event);
    case 'Node':
      return onNode(deps, event);
    default:
      ctx.log.warn('event for a kind this function does not watch', { kind: event.ref.kind });
      return { result: 'ignored', detail: `kind ${event.ref.kind} is not handled by ${FUNCTION}` };
  }
}

type ObjectEvent = Extract<DropEvent, { type: 'object' }>;

// The event only says which object to look at; these say there is nothing new to look at. Most of
// what a pull does (the kubelet's intermediate updates, our own status writes, the deletion of a
// recorded pod) would otherwise cost a full reconcile each. Reference mode carries no object, so
// every such event is reconciled; the resync ping covers any event skipped or lost.
function isStatusWrite(event: ObjectEvent): boolean {
  const image = event.object as CachedImage | undefined;
  return (
    event.action === 'update' &&
    image?.metadata.generation !== undefined &&
    image.status?.observedGeneration === image.metadata.generation
  );
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

/** A pull pod changed: reconcile the CachedImage it belongs to (its annotation names it). */
async function onPod(deps: ReconcileDeps, event: ObjectEvent): Promise<Outcome> {
  if (isUninterestingPodEvent(event))
    return { result: 'ignored', detail: 'pod still pulling or being deleted' };
  const pod =
    (event.object as Pod | undefined) ??
    (await deps.kube.get<Pod>(paths.pod(event.ref.namespace || deps.namespace, event.ref.name)));
  const owner = pod?.metadata.annotations?.[CACHED_IMAGE_ANNOTATION];
  if (!owner) return { result: 'ignored', detail: `pod ${event.ref.name} is gone or not a Drop pull pod` };
  return reconcileImage(deps, owner, { targetsFromStatus: true });
}

/** A node joined, left or changed: reconcile the images whose targets it changes. */
async function onNode(deps: ReconcileDeps, event: ObjectEvent): Promise<Outcome> {
  const node = event.action === 'delete' ? undefined : await deps.kube.get<Node>(paths.node(event.ref.name));
  const images = await deps.kube.list<CachedImage>(paths.cachedImages());
  const affected = images.items.filter((image) => nodeChangesTargets(image, event.ref.name, node));
  const outcomes = await inBatches(affected, (image) => reconcileImage(deps, image.metadata.name));
  return firstRetryOr(
    outcomes,
    `node ${event.ref.name}: ${affected.length} of ${images.items.length} images affected`,
  );
}

function nodeChangesTargets(image: CachedImage, nodeName: string, node: Node | undefined): boolean {
  const status = image.status;
  const known = [
    ...(status?.cachedNodes ?? []),
    ...(status?.failedNodes ?? []).map((f) => f.node),
    ...(status?.waitingNodes ?? []).map((w) => w.node),
  ].includes(nodeName);
  const target =
    node !== undefined &&
    isTarget(node, { nodeSelector: image.spec?.nodeSelector, tolerations: image.spec?.tolerations });
  // A target the status does not list is new or pulling; a listed node that is no longer a target left.
  return target !== known || (target && status?.phase !== 'Cached');
}

/** The ping: every CachedImage, plus pull pods whose CachedImage no longer exists. */
async function resyncAll(deps: ReconcileDeps): Promise<Outcome> {
  const [images, nodes, pods, policies] = await Promise.all([
    deps.kube.list<CachedImage>(paths.cachedImages()),
    deps.kube.list<Node>(paths.nodes()),
    deps.kube.list<Pod>(paths.pods(deps.namespace), { labelSelector: PULL_POD_SELECTOR }),
    deps.kube.list<PullPolicy>(paths.pullPolicies()),
  ]);
  const names = new Set(images.items.map((i) => i.metadata.name));
  const orphans = new Set(
    pods.items
      .map((p) => p.metadata.annotations?.[CACHED_IMAGE_ANNOTATION] ?? '')
      .filter((n) => n && !names.has(n)),
  );
  await inBatches([...orphans], (name) => deletePullPods(deps, name));
  // One list of each kind serves every image: a steady-state resync costs four requests in all.
  const shared = { nodes: nodes.items, pods: pods.items, policies: policies.items };
  const outcomes = await inBatches(images.items, (image) =>
    reconcileImage(deps, image.metadata.name, { shared, listed: image }),
  );
  return firstRetryOr(
    outcomes,
    `resynced ${images.items.length} images, removed pods of ${orphans.size} deleted images`,
  );
}
