import type { Hono } from 'hono';
import { eventApp, eventRecorder, type Outcome } from '../../lib/controller/index.ts';
import type { Kube } from '../../lib/kube/index.ts';
import { createLogger } from '../../lib/log.ts';
import { type ImageScope, reconcileImage, resyncImages, withImageView } from './reconcile.ts';
import { untaintNodes } from './untaint.ts';
import { imageWatches } from './watches.ts';

export const FUNCTION = 'reconcile-image';

export interface ReconcileImageOptions {
  readonly kube: Kube;
  readonly namespace: string;
  readonly now?: () => Date;
}

/** The reconcile-image function: CachedImage, pull-pod and Node events, and the resync ping. */
export function createReconcileImageApp(options: ReconcileImageOptions): Hono {
  const { namespace } = options;
  const scope: ImageScope = {
    namespace,
    events: eventRecorder(`drop-${FUNCTION}`, createLogger({ function: FUNCTION })),
  };
  return eventApp({
    name: FUNCTION,
    kube: options.kube,
    ...(options.now ? { now: options.now } : {}),
    watches: imageWatches(namespace),
    reconcile: (name, ctx) =>
      withImageView(ctx, namespace, async (view) => {
        const outcome = await reconcileImage(ctx, scope, name, view);
        return withDetail(outcome, await untaintNodes(ctx, scope, view, name));
      }),
    resync: (ctx) =>
      withImageView(ctx, namespace, async (view) => {
        const outcome = await resyncImages(ctx, namespace, view);
        return withDetail(outcome, await untaintNodes(ctx, scope, view));
      }),
  });
}

/** The outcome with what the startup-taint step did added to its log line. */
function withDetail(outcome: Outcome, more: string): Outcome {
  if (!more) return outcome;
  return { ...outcome, detail: outcome.detail ? `${outcome.detail}; ${more}` : more };
}
