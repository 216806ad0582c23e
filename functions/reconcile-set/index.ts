import type { Hono } from 'hono';
import {
  type CachedImage,
  type CachedImageSet,
  type DiscoveryPolicy,
  IMAGESET_LABEL,
  type PullPolicy,
} from '../../lib/api/index.ts';
import { type DropEvent, eventApp, firstRetryOr, type Outcome } from '../../lib/events/index.ts';
import { inBatches } from '../../lib/in-batches.ts';
import { type Kube, paths } from '../../lib/kube/index.ts';
import { labelValue } from '../../lib/pull-pod.ts';
import { deleteChildren, reconcileSet, type SetDeps, type SharedReads } from './apply.ts';

export const FUNCTION = 'reconcile-set';

export interface ReconcileSetOptions {
  readonly kube: Kube;
  readonly now?: () => Date;
}

type ObjectEvent = Extract<DropEvent, { type: 'object' }>;

/** The reconcile-set function: sets, their children, the policies they reference, and the resync ping. */
export function createReconcileSetApp(options: ReconcileSetOptions): Hono {
  return eventApp({
    name: FUNCTION,
    handle: (event, ctx) => {
      const deps: SetDeps = {
        kube: options.kube.session(FUNCTION, ctx.countRequest),
        now: options.now ?? (() => new Date()),
      };
      if (event.type === 'ping') return resyncAll(deps);
      switch (event.ref.kind) {
        case 'CachedImageSet':
          return reconcileSet(deps, event.ref.name);
        case 'CachedImage':
          return onChild(deps, event);
        case 'DiscoveryPolicy':
          return onReferenced(deps, event, (set) => set.spec?.discoveryPolicyRef?.name);
        case 'PullPolicy':
          // Only whether the policy exists matters to a set; its settings are the pacer's.
          if (event.action === 'update')
            return Promise.resolve({ result: 'ignored', detail: 'policy settings' });
          return onReferenced(deps, event, (set) => set.spec?.policyRef?.name);
        default:
          ctx.log.warn('event for a kind this function does not watch', { kind: event.ref.kind });
          return Promise.resolve({
            result: 'ignored',
            detail: `kind ${event.ref.kind} is not handled by ${FUNCTION}`,
          });
      }
    },
  });
}

/** A child changed (its status, a hand edit, a deletion): reconcile the set that controls it. */
async function onChild(deps: SetDeps, event: ObjectEvent): Promise<Outcome> {
  const child =
    (event.object as CachedImage | undefined) ??
    (await deps.kube.get<CachedImage>(paths.cachedImage(event.ref.name)));
  const owner = child?.metadata.ownerReferences?.find((o) => o.controller && o.kind === 'CachedImageSet');
  if (!owner) return { result: 'ignored', detail: `CachedImage ${event.ref.name} is not a set's child` };
  return reconcileSet(deps, owner.name);
}

/** A referenced policy changed: reconcile every set that references it. */
async function onReferenced(
  deps: SetDeps,
  event: ObjectEvent,
  reference: (set: CachedImageSet) => string | undefined,
): Promise<Outcome> {
  const sets = await deps.kube.list<CachedImageSet>(paths.cachedImageSets());
  const affected = sets.items.filter((set) => reference(set) === event.ref.name);
  const outcomes = await inBatches(affected, (set) => reconcileSet(deps, set.metadata.name));
  return firstRetryOr(outcomes, `${event.ref.kind} ${event.ref.name}: ${affected.length} sets reference it`);
}

/** The ping: every set, with one list of each kind shared by all, and children whose set is gone. */
async function resyncAll(deps: SetDeps): Promise<Outcome> {
  const [sets, children, discoveryPolicies, pullPolicies] = await Promise.all([
    deps.kube.list<CachedImageSet>(paths.cachedImageSets()),
    deps.kube.list<CachedImage>(paths.cachedImages(), { labelSelector: IMAGESET_LABEL }),
    deps.kube.list<DiscoveryPolicy>(paths.discoveryPolicies()),
    deps.kube.list<PullPolicy>(paths.pullPolicies()),
  ]);
  const shared: SharedReads = {
    children: children.items,
    discoveryPolicies: discoveryPolicies.items,
    pullPolicies: pullPolicies.items,
  };
  const orphaned = orphanSets(sets.items, children.items);
  await inBatches(orphaned, (set) => deleteChildren(deps.kube, set));
  const outcomes = await inBatches(sets.items, (set) => reconcileSet(deps, set.metadata.name, shared));
  return firstRetryOr(
    outcomes,
    `resynced ${sets.items.length} sets; removed children of ${orphaned.length} deleted sets`,
  );
}

/** Names of sets that children point to (by controller, else by label) but that no longer exist. */
function orphanSets(sets: readonly CachedImageSet[], children: readonly CachedImage[]): string[] {
  const names = new Set(sets.map((s) => s.metadata.name));
  const labels = new Set(sets.map((s) => labelValue(s.metadata.name)));
  const gone = new Set<string>();
  for (const child of children) {
    const controller = child.metadata.ownerReferences?.find((o) => o.controller);
    if (controller?.kind === 'CachedImageSet' && !names.has(controller.name)) gone.add(controller.name);
    const label = child.metadata.labels?.[IMAGESET_LABEL];
    if (!controller && label && !labels.has(label)) gone.add(label);
  }
  return [...gone].sort();
}
