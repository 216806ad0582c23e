import type { CachedImage } from '../../lib/api/index.ts';
import type { HandlerContext, ObjectEvent, Wake, Watch } from '../../lib/controller/index.ts';
import { type Pod, paths } from '../../lib/kube/index.ts';
import { policyOf } from '../../lib/policy/index.ts';
import { LABEL, PROBE_ANNOTATION, pullOutcome } from '../../lib/pull-pod.ts';
import { hasPacerWork } from './plan.ts';

// What wakes pace: the key is a PullPolicy name, and waking it means "run a pace round for it"
// (round.ts) — on this replica if none holds the policy's Lease, else by asking the holder for one
// more round. Only what can let a pull start wakes it:
//   * a pull pod that shows its outcome, or is deleted while pulling: a slot freed;
//   * a CachedImage whose status lists waiting nodes: new work (reconcile-image wrote it);
//   * a PullPolicy created or changed: new limits;
//   * the resync ping (every minute): every policy with waiting nodes, for any event lost.

/** The watches of pace, for pull pods in the Drop namespace. */
export function paceWatches(namespace: string): Readonly<Record<string, Watch>> {
  return {
    Pod: (event, ctx) => onPod(event, ctx, namespace),
    CachedImage: onImage,
    PullPolicy: (event) => [event.ref.name],
  };
}

/** The ping: every policy that has an image with waiting nodes or nodes due a probe. */
export async function policiesWithWork(
  ctx: HandlerContext,
): Promise<readonly string[] | { readonly skip: string }> {
  const images = await ctx.kube.list<CachedImage>(paths.cachedImages());
  const policies = [...new Set(images.items.filter(hasPacerWork).map(policyOf))].sort();
  return policies.length > 0 ? policies : { skip: 'no policy has work' };
}

async function onImage(event: ObjectEvent, ctx: HandlerContext): Promise<Wake> {
  if (event.action === 'delete') return { skip: 'a deleted image frees nothing its pods do not' };
  const image =
    (event.object as CachedImage | undefined) ??
    (await ctx.kube.get<CachedImage>(paths.cachedImage(event.ref.name)));
  return image && hasPacerWork(image) ? [policyOf(image)] : { skip: 'no policy has work' };
}

async function onPod(event: ObjectEvent, ctx: HandlerContext, namespace: string): Promise<Wake> {
  const pod =
    (event.object as Pod | undefined) ?? (await ctx.kube.get<Pod>(paths.pod(namespace, event.ref.name)));
  const policy = pod?.metadata.labels?.[LABEL.policy];
  return policy && freesSlot(event.action, pod) ? [policy] : { skip: 'no policy has work' };
}

/**
 * A slot frees when a pull ends: its pod shows an outcome, or a pod still pulling is deleted. The
 * other events of a pull pod (our create, the kubelet's progress, a deletion after the outcome)
 * change no limit, and a round for each would only cost API requests.
 */
function freesSlot(action: ObjectEvent['action'], pod: Pod): boolean {
  const pulling = pullOutcome(pod).kind === 'pulling';
  // A probe that found the image gone keeps its node busy until it is deleted; then the node needs
  // its pull (a round that ran before the delete found the node busy and let the policy go).
  if (action === 'delete') return pulling || pod.metadata.annotations?.[PROBE_ANNOTATION] === 'true';
  return action === 'update' && !pulling && !pod.metadata.deletionTimestamp;
}
