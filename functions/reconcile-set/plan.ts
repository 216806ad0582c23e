import {
  API_VERSION,
  type CachedImage,
  type CachedImageSet,
  type CachedImageSetSpec,
  type DiscoveredImage,
  IMAGESET_LABEL,
  type ObjectMeta,
  parseSpec,
} from '../../lib/api/index.ts';
import { type Condition, setCondition } from '../../lib/conditions.ts';
import { labelValue } from '../../lib/pull-pod.ts';
import { sameJson } from '../../lib/same-json.ts';
import { type ChildSource, type DesiredImage, desiredImages } from './desired.ts';
import { childName } from './naming.ts';

type OwnerReference = NonNullable<ObjectMeta['ownerReferences']>[number];

/** Says whether a child was listed by the set or found by discovery (`kubectl get ci -l …`). */
export const SOURCE_LABEL = `${IMAGESET_LABEL}-source`;

/** A referenced object: absent when the set does not reference one. */
export type Lookup<T> =
  | { readonly name: string; readonly found: false }
  | { readonly name: string; readonly found: true; readonly object: T };

export interface ObservedSet {
  readonly set: CachedImageSet;
  /** CachedImages labelled with this set's name, whoever owns them. */
  readonly children: readonly CachedImage[];
  readonly discovery?: Lookup<DiscoveryView>;
  readonly pullPolicy?: Lookup<unknown>;
  /** Child names that turned out to be taken by a CachedImage this set does not manage. */
  readonly conflicts?: readonly string[];
  readonly now: Date;
}

/** What a set reads of its DiscoveryPolicy: the images, and whether the last sync worked. */
export interface DiscoveryView {
  readonly images: readonly DiscoveredImage[];
  /** The policy's STATUS word (`Synced`, or why the last sync failed); absent before the first sync. */
  readonly phase?: string;
  readonly message?: string;
}

export interface ChildRef {
  readonly name: string;
  readonly uid?: string;
}

/** The status reconcile-set owns (shape defined in lib/api). */
export interface SetStatus {
  readonly phase: 'AllReady' | 'Progressing' | 'Degraded';
  readonly ready: string;
  readonly message: string;
  readonly imagesManaged: number;
  readonly imagesReady: number;
  readonly source?: string;
  readonly conditions: readonly Condition[];
  readonly observedGeneration: number;
}

export interface SetPlan {
  readonly create: readonly CachedImage[];
  /** Whole objects with the resourceVersion read, so a concurrent edit makes the write a 409. */
  readonly update: readonly CachedImage[];
  readonly delete: readonly ChildRef[];
  readonly status: SetStatus;
}

// Phases of a child that is on its way; Cached is done, every other word is a problem to show.
const PROGRESSING = new Set(['', 'Pending', 'Pulling']);
const MAX_LISTED = 3;

/** From the set, its children and what it references: the children to write and the set's status. */
export function planSet(observed: ObservedSet): SetPlan {
  const { set } = observed;
  const parsed = parseSpec('CachedImageSet', set.spec);
  if (!parsed.ok) {
    // Nothing lost: the children stay as they are until the spec can be read again.
    return { create: [], update: [], delete: [], status: invalidStatus(observed, parsed.message) };
  }
  const spec = parsed.spec;
  const discovery = observed.discovery;
  const discovered = discovery?.found ? discovery.object.images : [];
  const wanted = desiredImages(spec, discovered);
  const conflicts = new Set(observed.conflicts ?? []);
  const existing = new Map(observed.children.map((c) => [c.metadata.name, c]));

  const create: CachedImage[] = [];
  const update: CachedImage[] = [];
  const managed: Managed[] = [];
  const foreign: string[] = [];
  for (const image of wanted.images) {
    const name = childName(set.metadata.name, image.reference);
    const desired = childFor(set, spec, image, name);
    const current = existing.get(name);
    if (conflicts.has(name) || (current && !isOurs(current, set))) {
      foreign.push(name);
      continue;
    }
    if (!current) {
      create.push(desired);
      managed.push({ name, fresh: true });
    } else if (!matches(current, desired, set)) {
      update.push(restored(current, desired, set));
      managed.push({ name, child: current, fresh: true });
    } else {
      managed.push({ name, child: current, fresh: false });
    }
  }

  // A broken discovery reference must not empty the cache: discovered children stay until it resolves.
  const keepDiscovered = discovery !== undefined && !discovery.found;
  const wantedNames = new Set([...managed.map((m) => m.name), ...foreign]);
  const remove: ChildRef[] = [];
  for (const child of observed.children) {
    if (wantedNames.has(child.metadata.name) || !isOurs(child, set)) continue;
    if (keepDiscovered && child.metadata.labels?.[SOURCE_LABEL] === 'discovery') {
      managed.push({ name: child.metadata.name, child, fresh: false });
    } else {
      remove.push({ name: child.metadata.name, uid: child.metadata.uid });
    }
  }

  return { create, update, delete: remove, status: statusOf(observed, spec, managed, wanted.notes, foreign) };
}

function childFor(
  set: CachedImageSet,
  spec: CachedImageSetSpec,
  image: DesiredImage,
  name: string,
): CachedImage {
  return {
    apiVersion: API_VERSION,
    kind: 'CachedImage',
    metadata: { name, labels: labelsFor(set, image.source), ownerReferences: [ownerRefOf(set)] },
    spec: {
      image: image.parts.image,
      ...(image.parts.digest ? { digest: image.parts.digest } : { tag: image.parts.tag ?? 'latest' }),
      imagePullPolicy: spec.imagePullPolicy ?? 'Always',
      priority: spec.priority ?? 0,
      ...(spec.imagePullSecrets ? { imagePullSecrets: spec.imagePullSecrets } : {}),
      ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
      ...(spec.tolerations ? { tolerations: spec.tolerations } : {}),
      ...(spec.policyRef ? { policyRef: spec.policyRef } : {}),
    },
  };
}

function labelsFor(set: CachedImageSet, source: ChildSource): Record<string, string> {
  return { [IMAGESET_LABEL]: labelValue(set.metadata.name), [SOURCE_LABEL]: source };
}

/** The controller reference: Kubernetes' garbage collector deletes children with their set. */
export function ownerRefOf(set: CachedImageSet): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: 'CachedImageSet',
    name: set.metadata.name,
    uid: set.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

function controllerOf(child: CachedImage): OwnerReference | undefined {
  return child.metadata.ownerReferences?.find((o) => o.controller);
}

/**
 * Ours: controlled by this set, by an earlier set of the same name (deleted and re-created before
 * its children were collected), or by nothing (a label alone is a claim a user may have copied,
 * but an uncontrolled child with our label and our deterministic name is one we created).
 */
export function isOurs(child: CachedImage, set: CachedImageSet): boolean {
  const controller = controllerOf(child);
  if (!controller) return true;
  return controller.kind === 'CachedImageSet' && controller.name === set.metadata.name;
}

function matches(current: CachedImage, desired: CachedImage, set: CachedImageSet): boolean {
  const controller = controllerOf(current);
  const labels = current.metadata.labels ?? {};
  return (
    controller?.uid === set.metadata.uid &&
    Object.entries(desired.metadata.labels ?? {}).every(([k, v]) => labels[k] === v) &&
    sameJson(withDefaults(current.spec), withDefaults(desired.spec))
  );
}

// The API server fills in the CRD defaults, so compare what the specs mean, not how they are spelled.
function withDefaults(spec: unknown): unknown {
  const parsed = parseSpec('CachedImage', spec);
  return parsed.ok ? parsed.spec : spec;
}

/** The child put back as the set says: spec, our labels and our controller reference; the rest is kept. */
function restored(current: CachedImage, desired: CachedImage, set: CachedImageSet): CachedImage {
  const others = (current.metadata.ownerReferences ?? []).filter((o) => !o.controller);
  return {
    ...current,
    metadata: {
      ...current.metadata,
      labels: { ...current.metadata.labels, ...desired.metadata.labels },
      ownerReferences: [ownerRefOf(set), ...others],
    },
    spec: desired.spec,
  };
}

interface Managed {
  readonly name: string;
  readonly child?: CachedImage;
  /** Created or changed by this plan: its status describes an older spec. */
  readonly fresh: boolean;
}

function statusOf(
  observed: ObservedSet,
  spec: CachedImageSetSpec,
  managed: readonly Managed[],
  notes: readonly string[],
  foreign: readonly string[],
): SetStatus {
  const ready = managed.filter((m) => !m.fresh && isCached(m.child));
  const failing = managed.filter((m) => !m.fresh && m.child && isFailing(m.child));
  const missing = missingReferences(observed);
  const discovery = observed.discovery?.found ? observed.discovery : undefined;
  // A failing source keeps its last good images (children stay), but the set says so.
  const sourceFailing = discovery?.object.phase && discovery.object.phase !== 'Synced';
  const problems = [
    ...missing.map((m) => m.message),
    ...(sourceFailing
      ? [
          `DiscoveryPolicy "${discovery.name}" is ${discovery.object.phase}: ${discovery.object.message ?? ''}`,
        ]
      : []),
    ...foreign.map(
      (n) => `CachedImage ${n} exists and is not managed by this set; delete it or rename the set`,
    ),
  ];
  // Before the first sync the set cannot know its images yet.
  const awaitingSync = discovery !== undefined && !discovery.object.phase;
  const phase: SetStatus['phase'] =
    problems.length > 0 || failing.length > 0
      ? 'Degraded'
      : ready.length === managed.length && !awaitingSync
        ? 'AllReady'
        : 'Progressing';
  const message = [
    ...problems,
    `${ready.length}/${managed.length} images cached`,
    ...(awaitingSync ? [`waiting for the first sync of DiscoveryPolicy "${discovery.name}"`] : []),
    ...failing
      .slice(0, MAX_LISTED)
      .map((m) => `${m.name}: ${m.child?.status?.phase} (${m.child?.status?.message ?? ''})`),
    ...(failing.length > MAX_LISTED ? [`${failing.length - MAX_LISTED} more images failing`] : []),
    ...notes,
  ].join('; ');
  const when = { now: observed.now, observedGeneration: observed.set.metadata.generation ?? 0 };
  let conditions = setCondition(
    observed.set.status?.conditions ?? [],
    { type: 'Ready', status: phase === 'AllReady' ? 'True' : 'False', reason: phase, message },
    when,
  );
  conditions = setCondition(
    conditions,
    missing[0]
      ? {
          type: 'ReferencesFound',
          status: 'False',
          reason: missing[0].reason,
          message: missing.map((m) => m.message).join('; '),
        }
      : {
          type: 'ReferencesFound',
          status: 'True',
          reason: 'Found',
          message: 'every referenced policy exists',
        },
    when,
  );
  return {
    phase,
    ready: `${ready.length}/${managed.length}`,
    message,
    imagesManaged: managed.length,
    imagesReady: ready.length,
    ...(spec.discoveryPolicyRef ? { source: spec.discoveryPolicyRef.name } : {}),
    conditions,
    observedGeneration: observed.set.metadata.generation ?? 0,
  };
}

function missingReferences(observed: ObservedSet): { reason: string; message: string }[] {
  const missing: { reason: string; message: string }[] = [];
  if (observed.discovery && !observed.discovery.found) {
    missing.push({
      reason: 'DiscoveryPolicyNotFound',
      message: `DiscoveryPolicy "${observed.discovery.name}" (spec.discoveryPolicyRef) does not exist; discovered images are kept until it does`,
    });
  }
  if (observed.pullPolicy && !observed.pullPolicy.found) {
    missing.push({
      reason: 'PullPolicyNotFound',
      message: `PullPolicy "${observed.pullPolicy.name}" (spec.policyRef) does not exist; no new pulls start`,
    });
  }
  return missing;
}

function isCurrent(child: CachedImage): boolean {
  return child.status?.observedGeneration === child.metadata.generation;
}

function isCached(child: CachedImage | undefined): boolean {
  return child !== undefined && isCurrent(child) && child.status?.phase === 'Cached';
}

function isFailing(child: CachedImage): boolean {
  return isCurrent(child) && !PROGRESSING.has(child.status?.phase ?? '') && child.status?.phase !== 'Cached';
}

function invalidStatus(observed: ObservedSet, message: string): SetStatus {
  const previous = observed.set.status;
  const when = { now: observed.now, observedGeneration: observed.set.metadata.generation ?? 0 };
  return {
    phase: 'Degraded',
    ready: previous?.ready ?? '0/0',
    message: `invalid spec: ${message}`,
    imagesManaged: previous?.imagesManaged ?? 0,
    imagesReady: previous?.imagesReady ?? 0,
    conditions: setCondition(
      previous?.conditions ?? [],
      { type: 'Ready', status: 'False', reason: 'Degraded', message: `invalid spec: ${message}` },
      when,
    ),
    observedGeneration: observed.set.metadata.generation ?? 0,
  };
}
