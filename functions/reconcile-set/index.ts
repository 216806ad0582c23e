import type { Hono } from 'hono';
import { eventApp } from '../../lib/controller/index.ts';
import type { Kube } from '../../lib/kube/index.ts';
import { reconcileSet, resyncSets } from './reconcile.ts';
import { watches } from './watches.ts';

export const FUNCTION = 'reconcile-set';

export interface ReconcileSetOptions {
  readonly kube: Kube;
  readonly now?: () => Date;
}

/** The reconcile-set function: sets, their children, the policies they reference, and the resync ping. */
export function createReconcileSetApp(options: ReconcileSetOptions): Hono {
  return eventApp({
    name: FUNCTION,
    kube: options.kube,
    now: options.now,
    watches,
    reconcile: reconcileSet,
    resync: resyncSets,
  });
}
