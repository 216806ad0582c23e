import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { createPaceApp, createPacer, type Pacer } from '../../functions/pace/index.ts';
import { createReconcileImageApp } from '../../functions/reconcile-image/index.ts';
import { createKube, type Kube, loadKubeConfig } from '../../lib/kube/index.ts';
import { PULL_POD_SELECTOR } from '../../lib/pull-pod.ts';
import { startApiServerSource } from '../controlplane/index.ts';

export const NAMESPACE = 'drop-system';

interface Served {
  readonly url: string;
  readonly server: ServerType;
}

/** Serves a Hono app on a free loopback port. */
export async function serveOnLoopback(app: Hono): Promise<Served> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve({ url: `http://127.0.0.1:${info.port}/`, server }),
    );
  });
}

/** A ping exactly as PingSource sends it (binary mode, JSON data). */
export async function ping(url: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'ce-specversion': '1.0',
      'ce-id': crypto.randomUUID(),
      'ce-source': `/apis/v1/namespaces/${NAMESPACE}/pingsources/drop-resync`,
      'ce-type': 'dev.knative.sources.ping',
      'ce-time': new Date().toISOString(),
      'content-type': 'application/json',
    },
    body: JSON.stringify({ resync: true }),
  });
}

export interface RunningDrop {
  readonly kube: Kube;
  readonly reconcileImageUrl: string;
  readonly paceUrl: string;
  readonly pacer: Pacer;
  stop(): Promise<void>;
}

/**
 * reconcile-image and pace as separate HTTP servers, fed by the real ApiServerSource adapter
 * (events: true) or only by pings the test sends (events: false).
 */
export async function startDrop(options: {
  kubeconfigPath: string;
  events: boolean;
  windowMs?: number;
  /** Two adapters per sink: every event arrives twice. */
  duplicateEvents?: boolean;
}): Promise<RunningDrop> {
  const kube = createKube(loadKubeConfig(options.kubeconfigPath), 'drop-test');
  const pacer = createPacer({ kube, namespace: NAMESPACE, windowMs: options.windowMs ?? 30_000 });
  const reconcile = await serveOnLoopback(
    createReconcileImageApp({
      kube,
      namespace: NAMESPACE,
      requestPulls: async (_k, policy) => void (await pacer.request(policy)),
    }),
  );
  const pace = await serveOnLoopback(createPaceApp(pacer, { kube, namespace: NAMESPACE }));
  const copies = options.duplicateEvents ? 2 : 1;
  const sources = options.events
    ? await Promise.all(
        Array.from({ length: copies }, () => [
          startApiServerSource({
            kubeconfigPath: options.kubeconfigPath,
            sink: reconcile.url,
            mode: 'Resource',
            resources: [
              { apiVersion: 'drop.corewire.io/v1alpha1', kind: 'CachedImage' },
              { apiVersion: 'v1', kind: 'Node' },
              { apiVersion: 'v1', kind: 'Pod', selector: PULL_POD_SELECTOR },
            ],
            namespaces: [NAMESPACE],
          }),
          startApiServerSource({
            kubeconfigPath: options.kubeconfigPath,
            sink: pace.url,
            mode: 'Reference',
            resources: [
              { apiVersion: 'drop.corewire.io/v1alpha1', kind: 'PullPolicy' },
              { apiVersion: 'v1', kind: 'Pod', selector: PULL_POD_SELECTOR },
            ],
            namespaces: [NAMESPACE],
          }),
        ]).flat(),
      )
    : [];
  return {
    kube,
    reconcileImageUrl: reconcile.url,
    paceUrl: pace.url,
    pacer,
    async stop() {
      await Promise.all(sources.map((s) => s.stop()));
      await pacer.close();
      await Promise.all([reconcile, pace].map((s) => new Promise((r) => s.server.close(r))));
    },
  };
}
