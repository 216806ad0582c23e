export type { Blocker, BlockingLimit } from './blockers.ts';
export type {
  HostState,
  ImageDemand,
  InFlightPull,
  NodeFailure,
  NodeFailures,
  PullStart,
} from './demand.ts';
export {
  afterSuccess,
  afterThrottle,
  EMPTY_HOST_RECORD,
  type HostBlocker,
  type HostCap,
  type HostRecord,
  hostBlockers,
  hostBudget,
  hostCaps,
  inFlightOf,
  isThrottle,
  type PolicyHostCaps,
  RESERVATION_MS,
  retryAfterIn,
  withStarts,
} from './hosts.ts';
export { NEW_NODE_WINDOW_MS, newNodesOf } from './new-nodes.ts';
export { type NextPullsInput, nextPulls, type PacingDecision } from './next-pulls.ts';
export type { PacingCursor } from './rotation.ts';
export type { WaitingPull, WaitingSummary, WaitReason } from './waiting.ts';
