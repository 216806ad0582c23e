import type { Hono } from 'hono';
import { eventApp, eventRecorder } from '../../lib/controller/index.ts';
import type { Kube } from '../../lib/kube/index.ts';
import { createLogger } from '../../lib/log.ts';
import { type ImageScope, reconcileImage, resyncImages, withImageView } from './reconcile.ts';
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
    reconcile: (name, ctx) => withImageView(ctx, namespace, (view) => reconcileImage(ctx, scope, name, view)),
    resync: (ctx) => withImageView(ctx, namespace, (view) => resyncImages(ctx, namespace, view)),
  });
}
