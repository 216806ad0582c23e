// Every fault, in the order `npm run chaos` runs them.
import type { Fault } from '../fault.ts';
import { api429, api500, apiPartition } from './api-errors.ts';
import { apiserverFrozen, apiserverRestart, etcdRestart } from './control-plane.ts';
import { sourceGarbage, sourceHangs, sourceHuge } from './discovery.ts';
import { killLeader, killMidPull } from './drop-kill.ts';
import { adapterRestart, dropHalfEvents, duplicateEvents, reorderEvents } from './events.ts';
import { nodeNotReady, nodesCordoned, nodesDeleted, nodesJoin } from './nodes.ts';
import { imageDeleted, policyChanged, policyDeleted, pullPodsDeleted, setDeleted } from './objects.ts';

export const ALL_FAULTS: readonly Fault[] = [
  killMidPull,
  killLeader,
  pullPodsDeleted,
  imageDeleted,
  setDeleted,
  policyChanged,
  policyDeleted,
  apiserverRestart,
  apiserverFrozen,
  etcdRestart,
  nodesJoin,
  nodesDeleted,
  nodesCordoned,
  nodeNotReady,
  api429,
  api500,
  apiPartition,
  sourceHangs,
  sourceGarbage,
  sourceHuge,
  adapterRestart,
  duplicateEvents,
  reorderEvents,
  dropHalfEvents,
];
