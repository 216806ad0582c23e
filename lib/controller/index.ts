export {
  directDispatch,
  type EventAppOptions,
  eventApp,
  type HandlerContext,
  type Wake,
  type Watch,
} from './app.ts';
export {
  type Condition,
  ConditionSet,
  type ConditionTime,
  type ConditionUpdate,
  setCondition,
} from './conditions.ts';
export type { DropEvent, ObjectEvent, ObjectRef, PingEvent } from './event.ts';
export {
  type EventRecorder,
  eventRecorder,
  type Occurrence,
  type Regarding,
  regardingOf,
} from './events.ts';
export { informers } from './informers.ts';
export {
  acquireLease,
  heldElsewhere,
  isLeaseFree,
  type Lease,
  type LeaseAttempt,
  leaseName,
  leaseState,
  pokeLease,
  releaseLease,
  replicaIdentity,
  writeLease,
} from './lease-holder.ts';
export type { Outcome } from './outcome.ts';
export { drainQueues, KeyQueue } from './queue.ts';
export { type Readiness, readinessCheck, readyzResponse } from './readiness.ts';
export {
  counted,
  type ReconcileByName,
  reconcileByName,
  type StatusObject,
  type Synced,
  writeStatus,
} from './reconcile.ts';
export { inBatches, reconcileEach } from './resync.ts';
export { serveApp } from './serve.ts';
