export type { Blocker, BlockingLimit } from './blockers.ts';
export type { ImageDemand, InFlightPull, NodeFailure, NodeFailures, PullStart } from './demand.ts';
export { backoffEndsAt } from './demand.ts';
export { backoffDelayMs, DEFAULT_PACING_LIMITS, type FailureBackoff, type PacingLimits } from './limits.ts';
export {
  type ConvergenceBounds,
  type ConvergenceWorkload,
  convergenceBounds,
  convergenceLowerBoundMs,
  imageBoundMs,
} from './lower-bound.ts';
export { type NextPullsInput, nextPulls, type PacingDecision } from './next-pulls.ts';
export type { PacingCursor } from './rotation.ts';
export type { WaitingPull, WaitReason } from './waiting.ts';
