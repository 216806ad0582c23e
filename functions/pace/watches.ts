import type { CachedImage } from '../../lib/api/index.ts';
import {
  type HandlerContext,
  informers,
  type ObjectEvent,
  type Wake,
  type Watch,
} from '../../lib/controller/index.ts';
import { paths } from '../../lib/kube/index.ts';
import { policyOf } from '../../lib/policy/index.ts';
import { cachedImages } from '../../lib/watched.ts';
import { hasPacerWork } from './plan.ts';

// What wakes pace: the key is a PullPolicy name, and waking it means "run a pace round for it"
// (round.ts) — on this replica if none holds the policy's Lease, else by asking the holder for one
// more round. Only what can let a pull start wakes it:
//   * a CachedImage whose status lists waiting nodes: new work, or a pull's outcome recorded
//     (reconcile-image records each at once), which is also a slot freed;
//   * a PullPolicy created or changed: new limits;
//   * the resync ping (every 5 minutes): every policy with waiting nodes, for any event lost.
// Pull pods are not sent (config/pace/sources.yaml): a pod changes five times or so per pull, and
// while a holder serves, the process's own pod watch (view.ts) wakes it the moment a slot frees.

/** The watches of pace. */
export function paceWatches(): Readonly<Record<string, Watch>> {
  return {
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

/**
 * Any change of an image: new work, or an outcome recorded, which frees a slot other images of its
 * policy may wait for; a deleted image's pods go with it. Most come while a holder serves the policy,
 * and wake it only for one more round (PolicyHolder.nudge).
 */
async function onImage(event: ObjectEvent, ctx: HandlerContext): Promise<Wake> {
  const image =
    (event.object as CachedImage | undefined) ??
    (event.action === 'delete'
      ? undefined
      : await ctx.kube.get<CachedImage>(paths.cachedImage(event.ref.name)));
  if (!image) return { skip: `CachedImage ${event.ref.name} is gone` };
  // Rounds read images from this process's watch, which may not have this version yet. A status
  // that lists a node again (a probe found the image gone) read stale would start nothing, and no
  // later event would tell pace: the round reads at least what the event carried.
  informers(ctx.kube)
    .opened(cachedImages)
    ?.observe(image, event.action === 'delete');
  return [policyOf(image)];
}
