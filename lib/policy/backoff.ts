/** A PullPolicy's failureBackoff, in milliseconds. */
export interface FailureBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** The failure record of one (image, node): consecutive failures and when the last one was seen. */
export interface NodeFailure {
  readonly failures: number;
  /** Epoch ms. */
  readonly lastFailedAt: number;
}

/** The wait after `failures` consecutive failures: initial · 2^(failures−1), capped at max; 0 without failures. */
export function backoffDelayMs(failures: number, backoff: FailureBackoff): number {
  if (!(failures > 0)) return 0;
  // 2 ** 1100 is Infinity, which the cap absorbs, so no overflow guard is needed.
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failures - 1));
}

/** When the backoff of this (image, node) ends, or undefined when it has no failures. */
export function backoffEndsAt(failure: NodeFailure | undefined, backoff: FailureBackoff): number | undefined {
  if (failure === undefined || !(failure.failures > 0)) return undefined;
  return failure.lastFailedAt + backoffDelayMs(failure.failures, backoff);
}
