import type { Hono } from 'hono';
import { eventApp, eventRecorder, type HandlerContext } from '../../lib/controller/index.ts';
import type { Kube } from '../../lib/kube/index.ts';
import { createLogger } from '../../lib/log.ts';
import { type ImageDeps, reconcileImage, resyncImages } from './reconcile.ts';
import { imageWatches } from './watches.ts';

export const FUNCTION = 'reconcile-image';

export interface ReconcileImageOptions {
  readonly kube: Kube;
  readonly namespace: string;
  readonly now?: () => Date;
}

/** The reconcile-image function: CachedImage, pull-pod and Node events, and the resync ping. */
export function createReconcileImageApp(options: ReconcileImageOptions): Hono {
  const events = eventRecorder(`drop-${FUNCTION}`, createLogger({ function: FUNCTION }));
  const deps = (ctx: HandlerContext): ImageDeps => ({
    kube: ctx.kube,
    namespace: options.namespace,
    now: ctx.now,
    events,
  });
  return eventApp({
    name: FUNCTION,
    kube: options.kube,
    ...(options.now ? { now: options.now } : {}),
    watches: imageWatches(options.namespace),
    reconcile: (key, ctx) => reconcileImage(deps(ctx), key),
    resync: (ctx) => resyncImages(deps(ctx)),
  });
}
