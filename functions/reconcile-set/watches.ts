import type { CachedImage, CachedImageSet } from '../../lib/api/index.ts';
import type { HandlerContext, ObjectEvent, Wake, Watch } from '../../lib/controller/index.ts';
import { paths } from '../../lib/kube/index.ts';

/** Which sets an event wakes: the set itself, the set controlling a child, the sets referencing a policy. */
export const watches: Readonly<Record<string, Watch>> = {
  CachedImageSet: (event) => [event.ref.name],
  CachedImage: controllingSet,
  DiscoveryPolicy: (event, ctx) => referencing(event, ctx, (set) => set.spec?.discoveryPolicyRef?.name),
  PullPolicy: (event, ctx) =>
    // Only whether the policy exists matters to a set; its settings are the pacer's.
    event.action === 'update'
      ? { skip: 'policy settings' }
      : referencing(event, ctx, (set) => set.spec?.policyRef?.name),
};

// A child changed (its status, a hand edit, a deletion): the set that controls it.
async function controllingSet(event: ObjectEvent, ctx: HandlerContext): Promise<Wake> {
  const child =
    (event.object as CachedImage | undefined) ??
    (await ctx.kube.get<CachedImage>(paths.cachedImage(event.ref.name)));
  const owner = child?.metadata.ownerReferences?.find((o) => o.controller && o.kind === 'CachedImageSet');
  if (!owner) return { skip: `CachedImage ${event.ref.name} is not a set's child` };
  return [owner.name];
}

// A referenced policy changed: every set that references it (none is an empty list, not a skip:
// the event was looked at and concerns no set).
async function referencing(
  event: ObjectEvent,
  ctx: HandlerContext,
  reference: (set: CachedImageSet) => string | undefined,
): Promise<Wake> {
  const sets = await ctx.kube.list<CachedImageSet>(paths.cachedImageSets());
  return sets.items.filter((set) => reference(set) === event.ref.name).map((set) => set.metadata.name);
}
