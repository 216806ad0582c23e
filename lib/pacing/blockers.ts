import { backoffEndsAt } from '../policy/backoff.ts';
import type { PacingLimits } from '../policy/limits.ts';
import { failureOn, type HostState, type ImageDemand } from './demand.ts';
import { type HostBlocker, hostBlockers, withStarts } from './hosts.ts';
import type { Occupancy } from './occupancy.ts';

/** One reason an (image, node) cannot start now; `until` marks the reasons that pass with time alone. */
export type Blocker =
  | { readonly limit: 'failureBackoff'; readonly until: number; readonly failures: number }
  | { readonly limit: 'alreadyPulling' }
  | { readonly limit: 'maxConcurrentPullsPerNode'; readonly inFlight: number; readonly max: number }
  | { readonly limit: 'maxConcurrentNodes'; readonly inFlight: number; readonly max: number }
  | { readonly limit: 'minDelayBetweenPulls'; readonly until: number }
  | { readonly limit: 'maxConcurrentPulls'; readonly inFlight: number; readonly max: number }
  | HostBlocker;

/** The name of the limit (or the backoff, or the pull already there) behind a blocker. */
export type BlockingLimit = Blocker['limit'];

export type TimedBlocker = Extract<Blocker, { readonly until: number }>;

/** What one call of nextPulls decides against: the limits, the clock and the pulls counted so far. */
export interface DraftState {
  readonly policy: string;
  readonly limits: PacingLimits;
  readonly occupancy: Occupancy;
  readonly now: number;
  /** Starts may be spread until `now + horizonMs` (NextPullsInput.horizonMs); 0: all now. */
  readonly horizonMs: number;
  /** The registry hosts with a cap or a pause; absent: no host limit applies. */
  readonly hosts?: ReadonlyMap<string, HostState> | undefined;
  /** Starts decided in this call per host. */
  hostStarts(host: string): number;
}

/** The limits that keep this image from starting on any node now: per image and per policy. */
export function imageBlockers(image: ImageDemand, state: DraftState): readonly Blocker[] {
  const { limits, occupancy, now } = state;
  const blockers: Blocker[] = [];
  const pulling = occupancy.pullsOfImage(image.name);
  if (pulling >= limits.maxConcurrentNodes) {
    blockers.push({ limit: 'maxConcurrentNodes', inFlight: pulling, max: limits.maxConcurrentNodes });
  }
  const lastStart = lastStartOf(image, state);
  // Within the horizon a start may wait for its minDelay (Draft.start says when it starts).
  if (lastStart !== undefined && now + state.horizonMs < lastStart + limits.minDelayBetweenPullsMs) {
    blockers.push({ limit: 'minDelayBetweenPulls', until: lastStart + limits.minDelayBetweenPullsMs });
  }
  const policyCap = limits.maxConcurrentPulls;
  if (policyCap !== undefined && occupancy.pullsOfPolicy() >= policyCap) {
    blockers.push({ limit: 'maxConcurrentPulls', inFlight: occupancy.pullsOfPolicy(), max: policyCap });
  }
  const host = image.host === undefined ? undefined : state.hosts?.get(image.host);
  if (host !== undefined && image.host !== undefined) {
    // This call's own starts count as in flight and as started this hour.
    const started = state.hostStarts(image.host);
    const record = started > 0 ? withStarts(host.record, started, now) : host.record;
    blockers.push(...hostBlockers(image.host, host.cap, record, host.inFlight + started, now));
  }
  return blockers;
}

/** The limits that keep this image off this node now: its failure backoff, a pull already there, the node's cap. */
export function nodeBlockers(image: ImageDemand, node: string, state: DraftState): readonly Blocker[] {
  const { limits, occupancy, now } = state;
  const blockers: Blocker[] = [];
  const failure = failureOn(image, node);
  const backoffEnd = backoffEndsAt(failure, limits.failureBackoff);
  if (failure !== undefined && backoffEnd !== undefined && now < backoffEnd) {
    blockers.push({ limit: 'failureBackoff', until: backoffEnd, failures: failure.failures });
  }
  if (occupancy.isPulling(image.name, node)) blockers.push({ limit: 'alreadyPulling' });
  const onNode = occupancy.pullsOnNode(node);
  if (onNode >= limits.maxConcurrentPullsPerNode) {
    blockers.push({
      limit: 'maxConcurrentPullsPerNode',
      inFlight: onNode,
      max: limits.maxConcurrentPullsPerNode,
    });
  }
  return blockers;
}

/**
 * The first of `nodeBlockers` without building them (the summary counts every waiting pair, the
 * full blockers are only needed for the few it words): the limit, and when a timed one ends.
 */
export function firstNodeBlock(
  image: ImageDemand,
  node: string,
  state: DraftState,
): { readonly limit: BlockingLimit; readonly until?: number } | undefined {
  const { limits, occupancy, now } = state;
  const backoffEnd = backoffEndsAt(failureOn(image, node), limits.failureBackoff);
  if (backoffEnd !== undefined && now < backoffEnd) return { limit: 'failureBackoff', until: backoffEnd };
  if (occupancy.isPulling(image.name, node)) return ALREADY_PULLING;
  if (occupancy.pullsOnNode(node) >= limits.maxConcurrentPullsPerNode) return NODE_FULL;
  return undefined;
}

// Shared: a round asks this of every pending node of an image, most of them held.
const ALREADY_PULLING = Object.freeze({ limit: 'alreadyPulling' as const });
const NODE_FULL = Object.freeze({ limit: 'maxConcurrentPullsPerNode' as const });

/** Whether a node-level limit other than a backoff holds this pair (then only a finishing pull frees it). */
export function heldOnNode(image: ImageDemand, node: string, state: DraftState): boolean {
  return (
    state.occupancy.isPulling(image.name, node) ||
    state.occupancy.pullsOnNode(node) >= state.limits.maxConcurrentPullsPerNode
  );
}

export function isTimed(blocker: Blocker): blocker is TimedBlocker {
  return 'until' in blocker;
}

/**
 * The latest known start of the image: the caller's record or the newest pull in flight, whichever
 * is later — so minDelay holds even when the caller lost track of `lastStartAt`.
 */
export function lastStartOf(image: ImageDemand, state: DraftState): number | undefined {
  const inFlight = state.occupancy.lastStartOf(image.name);
  if (image.lastStartAt === undefined) return inFlight;
  if (inFlight === undefined) return image.lastStartAt;
  return Math.max(image.lastStartAt, inFlight);
}
