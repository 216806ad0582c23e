export type { Blocker, BlockingLimit } from './blockers.ts';
export type { ImageDemand, InFlightPull, NodeFailure, NodeFailures, PullStart } from './demand.ts';
export { type NextPullsInput, nextPulls, type PacingDecision } from './next-pulls.ts';
export type { PacingCursor } from './rotation.ts';
export type { WaitingPull, WaitingSummary, WaitReason } from './waiting.ts';
