import type { FailureBackoff } from './backoff.ts';

/** A PullPolicy's pacing settings with defaults applied; every duration in milliseconds. */
export interface PacingLimits {
  /** Per image: nodes pulling it at once. */
  readonly maxConcurrentNodes: number;
  /** Per image: least time between two successive pull starts. */
  readonly minDelayBetweenPullsMs: number;
  /** Per policy: pulls in flight across all its images; undefined means no cap. */
  readonly maxConcurrentPulls?: number | undefined;
  /** Per node: Drop pulls in flight on one node, whatever policy started them. */
  readonly maxConcurrentPullsPerNode: number;
  /** Per failed (image, node): exponential wait before the next attempt. */
  readonly failureBackoff: FailureBackoff;
  /** How long a node that joined is served first (lib/pacing/new-nodes.ts); undefined: the default, 0: never. */
  readonly newNodeWindowMs?: number | undefined;
}

/** The limits of the implicit default policy (docs/design.md §API, PullPolicy defaults). */
export const DEFAULT_PACING_LIMITS: PacingLimits = Object.freeze({
  maxConcurrentNodes: 1,
  minDelayBetweenPullsMs: 10_000,
  maxConcurrentPulls: undefined,
  maxConcurrentPullsPerNode: 1,
  failureBackoff: Object.freeze({ initialMs: 30_000, maxMs: 300_000 }),
});
