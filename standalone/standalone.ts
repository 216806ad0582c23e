import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createDiscoverApp } from '../functions/discover/index.ts';
import { createPaceApp, createPacer } from '../functions/pace/index.ts';
import { createReconcileImageApp } from '../functions/reconcile-image/index.ts';
import { createReconcileSetApp } from '../functions/reconcile-set/index.ts';
import { drainQueues, informers, readinessCheck, readyzResponse } from '../lib/controller/index.ts';
import type { Kube } from '../lib/kube/index.ts';
import type { Logger } from '../lib/log.ts';
import { registry } from '../lib/metrics.ts';
import { exportStatusMetrics } from '../lib/status-metrics.ts';
import { type LeaderTiming, startLeaderElection } from './leader.ts';
import { type Subscription, startRunner, type Tick } from './runner.ts';
import type { Sources } from './sources.ts';

export interface StandaloneOptions {
  readonly kube: Kube;
  readonly namespace: string;
  readonly sources: Sources;
  readonly log: Logger;
  /** Port for /healthz and /metrics; 0 picks a free one. */
  readonly port: number;
  readonly hostname?: string;
  /** Run Drop only while holding the Lease drop-standalone (several replicas; standalone/leader.ts). */
  readonly leaderElection?: {
    readonly identity: string;
    readonly timing?: LeaderTiming;
    /** Default drop-standalone. */
    readonly lease?: string;
  };
}

export interface Standalone {
  readonly port: number;
  /** GET /readyz: ready when the API answers, the CRDs are served and (leading) every watch has listed. */
  ready(): Promise<boolean>;
  /** Whether this process runs Drop now (always, without leader election). */
  leading(): boolean;
  stop(): Promise<void>;
}

/**
 * Every function in one process, fed the CloudEvents Knative would send them: its own watches
 * (with the initial list the Knative adapter leaves out) and the PingSource ticks, as config/
 * describes them.
 */
export async function startStandalone(options: StandaloneOptions): Promise<Standalone> {
  const { kube, namespace, log } = options;
  // Read from status at scrape time, so a standby replica shows the same figures (lib/status-metrics.ts).
  exportStatusMetrics(kube, log);
  const running: Running = {};
  const election = options.leaderElection
    ? startLeaderElection({
        kube,
        namespace,
        log,
        ...options.leaderElection,
        lead: () => runDrop(options, running),
      })
    : undefined;
  const stopDrop = election ? undefined : await runDrop(options, running);
  const health = new Hono();
  const apiReady = readinessCheck(kube);
  health.get('/healthz', (c) => c.json({ status: 'ok' }));
  // Ready when the API answers and Drop's CRDs are served, and, while running Drop, once every
  // watch has listed; a standby replica is ready to take over.
  health.get('/readyz', () =>
    readyzResponse(async () =>
      !running.listed || running.listed()
        ? apiReady()
        : { ready: false, reason: 'the watches have not listed yet' },
    ),
  );
  health.get('/metrics', async (c) =>
    c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }),
  );
  const server = await listen(health, options.port, options.hostname ?? '0.0.0.0');
  return {
    port: server.port,
    ready: async () => (await health.request('/readyz')).status === 200,
    leading: () => election?.leading() ?? true,
    async stop() {
      await (election ? election.stop() : stopDrop?.());
      await new Promise((resolve) => server.server.close(resolve));
    },
  };
}

/** While Drop runs in this process: whether every watch has listed. */
interface Running {
  listed?: () => boolean;
}

/** The four functions and what feeds them; returns what stops them. */
async function runDrop(options: StandaloneOptions, running: Running): Promise<() => Promise<void>> {
  const { kube, namespace, log } = options;
  const pacer = createPacer({ kube, namespace, log: log.child({ function: 'pace' }) });
  const apps: Record<string, Hono> = {
    'reconcile-image': createReconcileImageApp({ kube, namespace }),
    'reconcile-set': createReconcileSetApp({ kube }),
    pace: createPaceApp(pacer, { kube, namespace }),
    discover: createDiscoverApp({ kube, namespace }),
  };
  const runner = startRunner({
    kube,
    namespace,
    apps,
    subscriptions: subscriptionsOf(options.sources),
    ticks: ticksOf(options.sources),
    onError: (context, error) => log.warn('runner', { context, error: String(error) }),
  });
  running.listed = runner.listed;
  return async () => {
    running.listed = undefined;
    runner.stop();
    // What this process owes (status writes deferred to record several outcomes at once) is
    // written now rather than left to the next holder's resync.
    await drainQueues();
    await pacer.close();
    informers(kube).close();
  };
}

function listen(app: Hono, port: number, hostname: string): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname }, (info) =>
      resolve({ server, port: info.port }),
    );
  });
}

function subscriptionsOf(sources: Sources): Subscription[] {
  return sources.eventSources.map((source) => ({
    app: source.function,
    mode: source.mode,
    filters: source.filters,
    targets: source.resources.map((r) => ({
      apiVersion: r.apiVersion,
      kind: r.kind,
      plural: r.plural,
      path: collectionPath(r, source.namespace),
      ...(r.selector ? { labelSelector: r.selector } : {}),
    })),
  }));
}

function ticksOf(sources: Sources): Tick[] {
  return sources.pings.map((ping) => ({
    app: ping.function,
    name: ping.name,
    everyMs: ping.everyMs,
    data: jsonOrText(ping.data),
  }));
}

/** The list/watch path of a kind: namespaced kinds in the source's namespace only. */
export function collectionPath(
  kind: { apiVersion: string; plural: string; namespaced: boolean },
  namespace: string,
): string {
  const base = kind.apiVersion.includes('/') ? `/apis/${kind.apiVersion}` : `/api/${kind.apiVersion}`;
  return kind.namespaced ? `${base}/namespaces/${namespace}/${kind.plural}` : `${base}/${kind.plural}`;
}

function jsonOrText(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}
