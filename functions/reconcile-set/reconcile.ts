import {
  type CachedImage,
  type CachedImageSet,
  type CachedImageSetStatus,
  type DiscoveryPolicy,
  discoveredReferences,
  IMAGESET_LABEL,
  type PullPolicy,
  statusWord,
} from '../../lib/api/index.ts';
import {
  type HandlerContext,
  inBatches,
  type Outcome,
  reconcileByName,
  reconcileEach,
  type Synced,
} from '../../lib/controller/index.ts';
import { type Kube, KubeError, labelValue, paths } from '../../lib/kube/index.ts';
import {
  adopted,
  type DiscoveryView,
  isLabelledFor,
  isOurs,
  type Lookup,
  type ObservedSet,
  orphanedSets,
  planSet,
} from './plan.ts';

/** Reads shared by every set of one resync ping; absent for a single set. */
interface SharedReads {
  readonly children: readonly CachedImage[];
  readonly discoveryPolicies: readonly DiscoveryPolicy[];
  readonly pullPolicies: readonly PullPolicy[];
}

/** Reconciles one CachedImageSet: its children follow its spec and discovery, its status says how they are. */
export function reconcileSet(name: string, ctx: HandlerContext, shared?: SharedReads): Promise<Outcome> {
  return reconcileByName<CachedImageSet, CachedImageSetStatus>({
    kube: ctx.kube,
    kind: 'CachedImageSet',
    name,
    path: paths.cachedImageSet(name),
    finalize: async () => `removed ${await deleteChildren(ctx.kube, name)} children`,
    // After a conflict the ping's lists are older than what made it: read them again.
    sync: (set, attempt) => syncSet(ctx, set, attempt === 0 ? shared : undefined),
  });
}

/** The ping: every set, with one list of each kind shared by all, and children whose set is gone. */
export async function resyncSets(ctx: HandlerContext): Promise<Outcome> {
  const [sets, children, discoveryPolicies, pullPolicies] = await Promise.all([
    ctx.kube.list<CachedImageSet>(paths.cachedImageSets()),
    ctx.kube.list<CachedImage>(paths.cachedImages(), { labelSelector: IMAGESET_LABEL }),
    ctx.kube.list<DiscoveryPolicy>(paths.discoveryPolicies()),
    ctx.kube.list<PullPolicy>(paths.pullPolicies()),
  ]);
  const shared: SharedReads = {
    children: children.items,
    discoveryPolicies: discoveryPolicies.items,
    pullPolicies: pullPolicies.items,
  };
  const orphaned = orphanedSets(sets.items, children.items);
  await inBatches(orphaned, (set) => deleteChildren(ctx.kube, set));
  return reconcileEach(
    sets.items,
    (set) => reconcileSet(set.metadata.name, ctx, shared),
    `resynced ${sets.items.length} sets; removed children of ${orphaned.length} deleted sets`,
  );
}

async function syncSet(
  ctx: HandlerContext,
  set: CachedImageSet,
  shared: SharedReads | undefined,
): Promise<Synced<CachedImageSetStatus> | 'conflict'> {
  const observed = await observe(ctx, set, shared);
  const plan = planSet(observed);
  const conflicts: string[] = [];
  for (const child of plan.create) {
    const created = await ctx.kube.create(paths.cachedImages(), child);
    // The name is taken by a child this set lost track of (its label was removed) or by someone else's.
    if (!created && !(await adopt(ctx.kube, child, set))) conflicts.push(child.metadata.name);
  }
  for (const child of plan.update) {
    if ((await replaceChild(ctx.kube, child)) === 'conflict') return 'conflict';
  }
  await Promise.all(
    plan.delete.map((c) => ctx.kube.delete(paths.cachedImage(c.name), c.uid ? { uid: c.uid } : {})),
  );
  const final = conflicts.length > 0 ? planSet({ ...observed, conflicts }) : plan;
  return {
    status: final.status,
    detail: `${statusWord(final.status)} ${final.status.ready}; created ${plan.create.length - conflicts.length}, updated ${plan.update.length}, deleted ${plan.delete.length}`,
  };
}

async function observe(
  ctx: HandlerContext,
  set: CachedImageSet,
  shared: SharedReads | undefined,
): Promise<ObservedSet> {
  const discoveryRef = set.spec?.discoveryPolicyRef?.name;
  const policyRef = set.spec?.policyRef?.name;
  const [children, discovery, pullPolicy] = await Promise.all([
    shared
      ? shared.children.filter((c) => isLabelledFor(c, set.metadata.name))
      : listChildren(ctx.kube, set.metadata.name),
    discoveryRef
      ? lookup(discoveryRef, shared?.discoveryPolicies, () =>
          ctx.kube.get<DiscoveryPolicy>(paths.discoveryPolicy(discoveryRef)),
        )
      : undefined,
    policyRef
      ? lookup(policyRef, shared?.pullPolicies, () => ctx.kube.get<PullPolicy>(paths.pullPolicy(policyRef)))
      : undefined,
  ]);
  return {
    set,
    children,
    ...(discovery
      ? {
          discovery: discovery.found ? { ...discovery, object: discoveryView(discovery.object) } : discovery,
        }
      : {}),
    ...(pullPolicy ? { pullPolicy } : {}),
    now: ctx.now(),
  };
}

function discoveryView(policy: DiscoveryPolicy): DiscoveryView {
  const status = policy.status;
  return {
    references: discoveredReferences(status),
    ...(status?.phase ? { phase: status.phase } : {}),
    ...(status?.message ? { message: status.message } : {}),
  };
}

async function lookup<T extends { metadata: { name: string } }>(
  name: string,
  listed: readonly T[] | undefined,
  get: () => Promise<T | undefined>,
): Promise<Lookup<T>> {
  const found = listed ? listed.find((o) => o.metadata.name === name) : await get();
  return found ? { name, found: true, object: found } : { name, found: false };
}

// Every CachedImage carrying the label of the set with this name (owners are checked by the planner).
async function listChildren(kube: Kube, set: string): Promise<readonly CachedImage[]> {
  const list = await kube.list<CachedImage>(paths.cachedImages(), {
    labelSelector: `${IMAGESET_LABEL}=${labelValue(set)}`,
  });
  return list.items.filter((c) => isLabelledFor(c, set));
}

// False when the name is someone else's (or the child changed meanwhile): the planner then says so.
async function adopt(kube: Kube, desired: CachedImage, set: CachedImageSet): Promise<boolean> {
  const current = await kube.get<CachedImage>(paths.cachedImage(desired.metadata.name));
  if (!current || !isOurs(current, set)) return false;
  return (await replaceChild(kube, adopted(current, desired))) === 'ok';
}

async function replaceChild(kube: Kube, child: CachedImage): Promise<'ok' | 'conflict'> {
  try {
    await kube.replace(paths.cachedImage(child.metadata.name), child);
    return 'ok';
  } catch (error) {
    if (error instanceof KubeError && (error.kind === 'conflict' || error.kind === 'not-found'))
      return 'conflict';
    throw error;
  }
}

// Kubernetes' garbage collector does the same through the controller reference, but not on
// clusters where it is slow or absent (a bare API server).
async function deleteChildren(kube: Kube, set: string): Promise<number> {
  const children = await listChildren(kube, set);
  await Promise.all(
    children.map((c) =>
      kube.delete(paths.cachedImage(c.metadata.name), c.metadata.uid ? { uid: c.metadata.uid } : {}),
    ),
  );
  return children.length;
}
