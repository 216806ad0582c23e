import {
  type CachedImage,
  type CachedImageSet,
  type DiscoveryPolicy,
  IMAGESET_LABEL,
  type PullPolicy,
} from '../../lib/api/index.ts';
import type { Outcome } from '../../lib/events/index.ts';
import { type Kube, KubeError, paths, statusPath } from '../../lib/kube/index.ts';
import { labelValue } from '../../lib/pull-pod.ts';
import { sameJson } from '../../lib/same-json.ts';
import { type DiscoveryView, isOurs, type Lookup, type ObservedSet, planSet, type SetPlan } from './plan.ts';

export interface SetDeps {
  readonly kube: Kube;
  readonly now: () => Date;
}

/** Reads shared by every set of one resync ping; absent for a single set. */
export interface SharedReads {
  readonly children: readonly CachedImage[];
  readonly discoveryPolicies: readonly DiscoveryPolicy[];
  readonly pullPolicies: readonly PullPolicy[];
}

const ATTEMPTS = 3;

/** Reconciles one CachedImageSet: its children follow its spec and discovery, its status says how they are. */
export async function reconcileSet(deps: SetDeps, name: string, shared?: SharedReads): Promise<Outcome> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const set = await deps.kube.get<CachedImageSet>(paths.cachedImageSet(name));
    if (!set || set.metadata.deletionTimestamp) {
      const removed = await deleteChildren(deps.kube, name);
      return { result: 'ignored', detail: `CachedImageSet ${name} is gone; removed ${removed} children` };
    }
    const result = await reconcileExisting(deps, set, attempt === 0 ? shared : undefined);
    if (result !== 'conflict') return result;
  }
  return {
    result: 'retry',
    status: 503,
    detail: `CachedImageSet ${name} or its children kept changing under us`,
  };
}

async function reconcileExisting(
  deps: SetDeps,
  set: CachedImageSet,
  shared: SharedReads | undefined,
): Promise<Outcome | 'conflict'> {
  const observed = await observe(deps, set, shared);
  const plan = planSet(observed);
  const conflicts: string[] = [];
  for (const child of plan.create) {
    const created = await deps.kube.create(paths.cachedImages(), child);
    // The name is taken by a child this set lost track of (its label was removed) or by someone else's.
    if (!created && !(await adopt(deps.kube, child, set))) conflicts.push(child.metadata.name);
  }
  for (const child of plan.update) {
    const written = await replaceChild(deps.kube, child);
    if (written === 'conflict') return 'conflict';
  }
  await Promise.all(
    plan.delete.map((c) => deps.kube.delete(paths.cachedImage(c.name), c.uid ? { uid: c.uid } : {})),
  );
  const final: SetPlan = conflicts.length > 0 ? planSet({ ...observed, conflicts }) : plan;
  if (!sameJson(set.status, final.status)) {
    try {
      await deps.kube.replace(statusPath(paths.cachedImageSet(set.metadata.name)), {
        ...set,
        status: final.status,
      });
    } catch (error) {
      if (error instanceof KubeError && error.kind === 'conflict') return 'conflict';
      if (!(error instanceof KubeError && error.kind === 'not-found')) throw error;
    }
  }
  return {
    result: 'done',
    detail: `${final.status.phase} ${final.status.ready}; created ${plan.create.length - conflicts.length}, updated ${plan.update.length}, deleted ${plan.delete.length}`,
  };
}

async function observe(
  deps: SetDeps,
  set: CachedImageSet,
  shared: SharedReads | undefined,
): Promise<ObservedSet> {
  const discoveryRef = set.spec?.discoveryPolicyRef?.name;
  const policyRef = set.spec?.policyRef?.name;
  const [children, discovery, pullPolicy] = await Promise.all([
    shared
      ? shared.children.filter((c) => isLabelledFor(c, set.metadata.name))
      : listChildren(deps.kube, set.metadata.name),
    discoveryRef
      ? lookup(discoveryRef, shared?.discoveryPolicies, () =>
          deps.kube.get<DiscoveryPolicy>(paths.discoveryPolicy(discoveryRef)),
        )
      : undefined,
    policyRef
      ? lookup(policyRef, shared?.pullPolicies, () => deps.kube.get<PullPolicy>(paths.pullPolicy(policyRef)))
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
    now: deps.now(),
  };
}

function discoveryView(policy: DiscoveryPolicy): DiscoveryView {
  const status = policy.status;
  return {
    images: status?.images ?? [],
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

/** Every CachedImage carrying the label of the set with this name (owners are checked by the planner). */
export async function listChildren(kube: Kube, set: string): Promise<readonly CachedImage[]> {
  const list = await kube.list<CachedImage>(paths.cachedImages(), {
    labelSelector: `${IMAGESET_LABEL}=${labelValue(set)}`,
  });
  return list.items.filter((c) => isLabelledFor(c, set));
}

// Label values are shortened for long names, so the controller reference decides which set it is.
function isLabelledFor(child: CachedImage, set: string): boolean {
  if (child.metadata.labels?.[IMAGESET_LABEL] !== labelValue(set)) return false;
  const controller = child.metadata.ownerReferences?.find((o) => o.controller);
  return !controller || controller.name === set;
}

/** Takes back a child whose name we chose but whose label was removed; false if it is not ours. */
async function adopt(kube: Kube, desired: CachedImage, set: CachedImageSet): Promise<boolean> {
  const current = await kube.get<CachedImage>(paths.cachedImage(desired.metadata.name));
  if (!current) return false;
  if (!isOurs(current, set)) return false;
  const written = await replaceChild(kube, {
    ...current,
    metadata: {
      ...current.metadata,
      labels: { ...current.metadata.labels, ...desired.metadata.labels },
      ownerReferences: desired.metadata.ownerReferences,
    },
    spec: desired.spec,
  });
  return written === 'ok';
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

/**
 * Deletes the children of a set that is gone. Kubernetes' garbage collector does the same through
 * the controller reference, but not on clusters where it is slow or absent (a bare API server).
 */
export async function deleteChildren(kube: Kube, set: string): Promise<number> {
  const children = await listChildren(kube, set);
  await Promise.all(
    children.map((c) =>
      kube.delete(paths.cachedImage(c.metadata.name), c.metadata.uid ? { uid: c.metadata.uid } : {}),
    ),
  );
  return children.length;
}
