import {
  type CachedImage,
  type CachedImageSetSpec,
  type CachedImageSetStatus,
  type SetPhase,
  statusWord,
} from '../../lib/api/index.ts';
import { ConditionSet } from '../../lib/controller/conditions.ts';
import { counted, fraction } from '../../lib/words.ts';
import type { ObservedSet } from './observed.ts';

// Ready: every child is cached; ReferencesFound: the policies the set names exist.
const SET_CONDITIONS = new ConditionSet('Ready', 'ReferencesFound');

/** The STATUS word of a set (its Ready reason); `phase` is Go Drop's coarser state. */
type Word = 'AllReady' | 'Progressing' | 'Degraded';

const PHASE_OF: Readonly<Record<Word, SetPhase>> = {
  AllReady: 'Ready',
  Progressing: 'Pending',
  Degraded: 'Degraded',
};

/** A child the set wants, as the planner left it. */
export interface Managed {
  readonly name: string;
  readonly child?: CachedImage;
  /** Created or changed by this plan: its status describes an older spec. */
  readonly fresh: boolean;
}

// STATUS words of a child that is on its way; Cached is done, every other word is a problem to show.
const PROGRESSING = new Set(['', 'Pending', 'Pulling']);
const MAX_LISTED = 3;

/** The status of a set whose spec could be read: counts, the problems to show, and the conditions. */
export function statusOf(
  observed: ObservedSet,
  spec: CachedImageSetSpec,
  managed: readonly Managed[],
  notes: readonly string[],
  foreign: readonly string[],
): CachedImageSetStatus {
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
  const word: Word =
    problems.length > 0 || failing.length > 0
      ? 'Degraded'
      : ready.length === managed.length && !awaitingSync
        ? 'AllReady'
        : 'Progressing';
  const message = [
    ...problems,
    `${fraction(ready.length, managed.length, 'image')} cached`,
    ...(awaitingSync ? [`waiting for the first sync of DiscoveryPolicy "${discovery.name}"`] : []),
    ...failing
      .slice(0, MAX_LISTED)
      .map((m) => `${m.name}: ${statusWord(m.child?.status)} (${m.child?.status?.message ?? ''})`),
    ...(failing.length > MAX_LISTED ? [`${counted(failing.length - MAX_LISTED, 'more image')} failing`] : []),
    ...notes,
  ].join('; ');
  const marks = SET_CONDITIONS.manage(observed.set.status?.conditions, when(observed)).markHappy(
    word === 'AllReady',
    word,
    message,
  );
  if (missing[0]) {
    marks.markFalse('ReferencesFound', missing[0].reason, missing.map((m) => m.message).join('; '));
  } else {
    marks.markTrue('ReferencesFound', 'Found', 'every referenced policy exists');
  }
  return {
    phase: PHASE_OF[word],
    ready: `${ready.length}/${managed.length}`,
    message,
    imagesManaged: managed.length,
    imagesReady: ready.length,
    ...(spec.discoveryPolicyRef ? { source: spec.discoveryPolicyRef.name } : {}),
    conditions: [...marks.conditions],
    observedGeneration: observed.set.metadata.generation ?? 0,
  };
}

/** The status of a set whose spec cannot be read: Degraded, saying why, with the last counts kept. */
export function invalidStatus(observed: ObservedSet, message: string): CachedImageSetStatus {
  const previous = observed.set.status;
  const conditions = SET_CONDITIONS.manage(previous?.conditions, when(observed)).markHappy(
    false,
    'Degraded',
    `invalid spec: ${message}`,
  ).conditions;
  return {
    phase: 'Degraded',
    ready: previous?.ready ?? '0/0',
    message: `invalid spec: ${message}`,
    imagesManaged: previous?.imagesManaged ?? 0,
    imagesReady: previous?.imagesReady ?? 0,
    conditions: [...conditions],
    observedGeneration: observed.set.metadata.generation ?? 0,
  };
}

function when(observed: ObservedSet): { now: Date; observedGeneration: number } {
  return { now: observed.now, observedGeneration: observed.set.metadata.generation ?? 0 };
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
  return child !== undefined && isCurrent(child) && statusWord(child.status) === 'Cached';
}

function isFailing(child: CachedImage): boolean {
  const word = statusWord(child.status);
  return isCurrent(child) && !PROGRESSING.has(word) && word !== 'Cached';
}
