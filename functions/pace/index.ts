import type { Hono } from 'hono';
import { counted, eventApp, reconcileEach } from '../../lib/controller/index.ts';
import type { Kube } from '../../lib/kube/index.ts';
import type { Pacer } from './reconcile.ts';
import { paceWatches, policiesWithWork } from './watches.ts';

export { createPacer, type Pacer, type PacerOptions } from './reconcile.ts';

export const FUNCTION = 'pace';
/** drop_reconcile_total's controller label: pace reconciles PullPolicies. */
const CONTROLLER = 'pullpolicy';

/** The pace function: CachedImages (new work, outcomes recorded), PullPolicies, and the ping. */
export function createPaceApp(pacer: Pacer, options: { kube: Kube; namespace: string }): Hono {
  return eventApp({
    name: FUNCTION,
    kube: options.kube,
    watches: paceWatches(),
    reconcile: (policy, ctx) => counted(CONTROLLER, pacer.request(policy, ctx.kube)),
    resync: async (ctx) => {
      const wake = await policiesWithWork(ctx);
      if ('skip' in wake) return { result: 'ignored', detail: wake.skip };
      return reconcileEach(
        wake,
        (policy) => counted(CONTROLLER, pacer.request(policy, ctx.kube)),
        `paced ${wake.join(', ')}`,
      );
    },
  });
}
