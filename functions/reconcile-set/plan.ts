import {
  API_VERSION,
  type CachedImage,
  type CachedImageSet,
  type CachedImageSetSpec,
  type CachedImageSetStatus,
  cachedImageSetSpecSchema,
  cachedImageSpecSchema,
  IMAGESET_LABEL,
  type ObjectMeta,
  parseSpec,
} from '../../lib/api/index.ts';
import { labelValue } from '../../lib/kube/labels.ts';
import { sameJson } from '../../lib/same-json.ts';
import { type ChildSource, type DesiredImage, desiredImages } from './desired.ts';
import { childName } from './naming.ts';
import type { ObservedSet } from './observed.ts';
import { invalidStatus, type Managed, statusOf } from './status.ts';

export type { DiscoveryView, Lookup, ObservedSet } from './observed.ts';

type OwnerReference = NonNullable<ObjectMeta['ownerReferences']>[number];

/** Says whether a child was listed by the set or found by discovery (`kubectl get ci -l …`). */
export const SOURCE_LABEL = `${IMAGESET_LABEL}-source`;

export interface ChildRef {
  readonly name: string;
  readonly uid?: string;
}

export interface SetPlan {
  readonly create: readonly CachedImage[];
  /** Whole objects with the resourceVersion read, so a concurrent edit makes the write a 409. */
  readonly update: readonly CachedImage[];
  readonly delete: readonly ChildRef[];
  readonly status: CachedImageSetStatus;
}

/** From the set, its children and what it references: the children to write and the set's status. */
export function planSet(observed: ObservedSet): SetPlan {
  const { set } = observed;
  const parsed = parseSpec(cachedImageSetSpecSchema, set.spec);
  if (!parsed.ok) {
    // Nothing lost: the children stay as they are until the spec can be read again.
    return { create: [], update: [], delete: [], status: invalidStatus(observed, parsed.message) };
  }
  const spec = parsed.spec;
  const discovery = observed.discovery;
  const discovered = discovery?.found ? discovery.object.references : [];
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
  const parsed = parseSpec(cachedImageSpecSchema, spec);
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

/** The child taken back after its label was removed: our labels, controller reference and spec. */
export function adopted(current: CachedImage, desired: CachedImage): CachedImage {
  return {
    ...current,
    metadata: {
      ...current.metadata,
      labels: { ...current.metadata.labels, ...desired.metadata.labels },
      ownerReferences: desired.metadata.ownerReferences,
    },
    spec: desired.spec,
  };
}

/** Whether a child carries this set's label and no other set controls it. */
export function isLabelledFor(child: CachedImage, set: string): boolean {
  // Label values are shortened for long names, so the controller reference decides which set it is.
  if (child.metadata.labels?.[IMAGESET_LABEL] !== labelValue(set)) return false;
  const controller = controllerOf(child);
  return !controller || controller.name === set;
}

/** Names of sets that children point to (by controller, else by label) but that no longer exist. */
export function orphanedSets(sets: readonly CachedImageSet[], children: readonly CachedImage[]): string[] {
  const names = new Set(sets.map((s) => s.metadata.name));
  const labels = new Set(sets.map((s) => labelValue(s.metadata.name)));
  const gone = new Set<string>();
  for (const child of children) {
    const controller = controllerOf(child);
    if (controller?.kind === 'CachedImageSet' && !names.has(controller.name)) gone.add(controller.name);
    const label = child.metadata.labels?.[IMAGESET_LABEL];
    if (!controller && label && !labels.has(label)) gone.add(label);
  }
  return [...gone].sort();
}
