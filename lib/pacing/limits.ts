export interface FailureBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

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
}

/** The limits of the implicit default policy (DESIGN.md, PullPolicy defaults). */
export const DEFAULT_PACING_LIMITS: PacingLimits = Object.freeze({
  maxConcurrentNodes: 1,
  minDelayBetweenPullsMs: 10_000,
  maxConcurrentPulls: undefined,
  maxConcurrentPullsPerNode: 1,
  failureBackoff: Object.freeze({ initialMs: 30_000, maxMs: 300_000 }),
});

/** The wait after `failures` consecutive failures: initial · 2^(failures−1), capped at max; 0 without failures. */
export function backoffDelayMs(failures: number, backoff: FailureBackoff): number {
  if (!(failures > 0)) return 0;
  // 2 ** 1100 is Infinity, which the cap absorbs, so no overflow guard is needed.
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failures - 1));
}
