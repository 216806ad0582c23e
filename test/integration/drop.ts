import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { createPaceApp, createPacer, type Pacer } from '../../functions/pace/index.ts';
import { createReconcileImageApp } from '../../functions/reconcile-image/index.ts';
import { createReconcileSetApp } from '../../functions/reconcile-set/index.ts';
import { createKube, type Kube, loadKubeConfig } from '../../lib/kube/index.ts';
import { createLogger } from '../../lib/log.ts';
import { readSources } from '../../standalone/config-files.ts';
import { type Standalone, startStandalone } from '../../standalone/standalone.ts';
import { optionsOfSource, startApiServerSource } from '../controlplane/index.ts';

export const NAMESPACE = 'drop-system';
const CONFIG_DIR = new URL('../../config/', import.meta.url).pathname;

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

/** Drop as `npm start` runs it (the standalone runner with config/'s sources), on a free loopback port. */
export function startStandaloneOnLoopback(kube: Kube): Promise<Standalone> {
  return startStandalone({
    kube,
    namespace: NAMESPACE,
    sources: readSources(CONFIG_DIR, NAMESPACE),
    log: createLogger({ component: 'standalone' }),
    port: 0,
    hostname: '127.0.0.1',
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
  readonly reconcileSetUrl: string;
  readonly paceUrl: string;
  readonly pacer: Pacer;
  /** Sends a PingSource tick to every function. */
  pingAll(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * reconcile-image, reconcile-set and pace as separate HTTP servers, fed by the real
 * ApiServerSource adapter (events: true) or only by pings the test sends (events: false).
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
  const servers = {
    reconcileImage: await serveOnLoopback(createReconcileImageApp({ kube, namespace: NAMESPACE })),
    reconcileSet: await serveOnLoopback(createReconcileSetApp({ kube })),
    pace: await serveOnLoopback(createPaceApp(pacer, { kube, namespace: NAMESPACE })),
  };
  const copies = options.duplicateEvents ? 2 : 1;
  // What each function is fed is what config/ deploys: its ApiServerSource, filters and all.
  const configured = readSources(CONFIG_DIR, NAMESPACE).eventSources;
  const sinks = [
    ['reconcile-image', servers.reconcileImage.url],
    ['reconcile-set', servers.reconcileSet.url],
    ['pace', servers.pace.url],
  ] as const;
  const sources = options.events
    ? await Promise.all(
        Array.from({ length: copies }, () =>
          sinks.flatMap(([fn, url]) =>
            configured
              .filter((source) => source.function === fn)
              .map((source) => startApiServerSource(optionsOfSource(source, options.kubeconfigPath, url))),
          ),
        ).flat(),
      )
    : [];
  const all = Object.values(servers);
  return {
    kube,
    reconcileImageUrl: servers.reconcileImage.url,
    reconcileSetUrl: servers.reconcileSet.url,
    paceUrl: servers.pace.url,
    pacer,
    async pingAll() {
      await Promise.all(all.map((s) => ping(s.url)));
    },
    async stop() {
      await Promise.all(sources.map((s) => s.stop()));
      await pacer.close();
      await Promise.all(all.map((s) => new Promise((r) => s.server.close(r))));
    },
  };
}
