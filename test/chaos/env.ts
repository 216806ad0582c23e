// Everything a fault acts on: a control plane of its own (temp dir), ~50 kwok nodes, the real
// registry and Prometheus, the watcher, the proxies, Drop, and the workload converged once.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CachedImage } from '../../lib/api/index.ts';
import { type Lease, leaseState } from '../../lib/controller/index.ts';
import { createKube, type Kube, type KubeObject, loadKubeConfig, paths } from '../../lib/kube/index.ts';
import { CACHED_IMAGE_ANNOTATION } from '../../lib/pull-pod.ts';
import { targetNodes } from '../../lib/targets.ts';
import { bundleFunctions } from '../../scripts/build-functions.ts';
import {
  type ControlPlane,
  createNodes,
  startControlPlane,
  startRegistryPulls,
} from '../controlplane/index.ts';
import { type DiscoveryServers, startDiscoveryServers } from '../discovery/servers.ts';
import { notConverged } from './convergence.ts';
import { DropFleet } from './drop-fleet.ts';
import { type ApiProxy, startApiProxy } from './proxies/api-proxy.ts';
import { type BadSources, startBadSources } from './proxies/bad-sources.ts';
import { createEventProxy, type EventProxy } from './proxies/event-proxy.ts';
import { ChaosWatcher, observedPull } from './watcher.ts';
import {
  APP_IMAGES,
  createWorkload,
  DISCOVERED_SET,
  NAMESPACE,
  newSentinels,
  POOL_LABEL,
  ROLE_LABEL,
  type Sentinels,
  STATIC_SET,
  TOOL_IMAGES,
} from './workload.ts';

export interface ChaosEnv {
  readonly plane: ControlPlane;
  /** The real API server, for the suite itself. */
  readonly kube: Kube;
  readonly watcher: ChaosWatcher;
  readonly drop: DropFleet;
  readonly events: EventProxy;
  /** Between Drop and the API server. */
  readonly apiProxy: ApiProxy;
  /** Discovery sources that hang, answer garbage or a gigabyte. */
  readonly badSources: BadSources;
  readonly sentinels: Sentinels;
  readonly discovery: DiscoveryServers;
  /** The pool nodes created so far (faults add and delete some). */
  readonly nodes: string[];
  readonly log: (line: string) => void;
  /** What keeps the workload from having converged now (empty: converged). */
  waiting(): string[];
  stop(): Promise<void>;
}

export const POOL_NODES = 50;

export async function startChaosEnv(log: (line: string) => void, poolNodes = POOL_NODES): Promise<ChaosEnv> {
  const stateDir = mkdtempSync(join(tmpdir(), 'drop-chaos-'));
  const stops: (() => Promise<unknown>)[] = [async () => rmSync(stateDir, { recursive: true, force: true })];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const plane = await startControlPlane({ stateDir, log, nodes: 0 });
    stops.push(() => plane.stop());
    // kwok's pulls of images on the real registry wait for this resolver (test/controlplane/README.md).
    const registryPulls = startRegistryPulls({ kubeconfigPath: plane.kubeconfigPath });
    stops.push(() => registryPulls.stop());
    log(`chaos: control plane up; creating ${poolNodes} kwok nodes`);
    const nodes = await createNodes(poolNodes, {
      kubeconfigPath: plane.kubeconfigPath,
      prefix: 'chaos',
      labels: { [POOL_LABEL]: 'chaos' },
      timeoutMs: 600_000,
    });
    // Half the pool are build nodes (the tool images and the discovered set go there).
    const kube = createKube(loadKubeConfig(plane.kubeconfigPath), 'drop-chaos');
    for (const [i, node] of nodes.entries())
      if (i % 2 === 0)
        await kube.mergePatch(`/api/v1/nodes/${node}`, { metadata: { labels: { [ROLE_LABEL]: 'build' } } });
    const sentinels = newSentinels();
    const discovery = await startDiscoveryServers({
      registry: sentinels.registryPassword,
      prometheus: sentinels.prometheusPassword,
    });
    stops.push(() => discovery.stop());
    const watcher = new ChaosWatcher(plane.kubeconfigPath, NAMESPACE, sentinels.all());
    stops.push(async () => watcher.close());
    await watcher.synced();
    await bundleFunctions();
    const events = createEventProxy();
    stops.push(() => events.close());
    const badSources = await startBadSources();
    stops.push(() => badSources.close());
    const apiProxy = await startApiProxy(stateDir, plane.server);
    stops.push(() => apiProxy.close());
    // CHAOS_DROP_LOG: a file that gets every line Drop writes, to read after a failed convergence.
    const dropLog = process.env.CHAOS_DROP_LOG;
    const drop = new DropFleet(kube, {
      kubeconfigPath: kubeconfigFor(plane.kubeconfigPath, apiProxy.url, join(stateDir, 'drop.kubeconfig')),
      adapterKubeconfigPath: plane.kubeconfigPath,
      onLine: (process, line) => {
        watcher.logLine(process, line);
        if (dropLog) appendFileSync(dropLog, `${process} ${line}\n`);
      },
      sinkFor: (_, url) => events.front(url),
    });
    stops.push(() => drop.stop());
    const env: ChaosEnv = {
      plane,
      kube,
      watcher,
      drop,
      events,
      apiProxy,
      badSources,
      sentinels,
      discovery,
      nodes,
      log,
      waiting: () => waitingOf(watcher),
      stop,
    };
    return env;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Creates the workload and waits until it has converged a first time. */
export async function startWorkload(env: ChaosEnv, withinMs: number): Promise<number> {
  const started = Date.now();
  await createWorkload(env.kube, {
    sentinels: env.sentinels,
    registryUrl: env.discovery.basicRegistry.url,
    registryHost: env.discovery.basicRegistry.host,
    registryCa: env.discovery.pki.caPem,
  });
  await untilConverged(env, withinMs);
  return Date.now() - started;
}

/** Waits until the workload has converged; rejects with what still waits after `withinMs`. */
export async function untilConverged(env: ChaosEnv, withinMs: number): Promise<number> {
  const started = Date.now();
  let waiting: string[] = [];
  let said = started;
  while (Date.now() - started < withinMs) {
    waiting = env.waiting();
    if (waiting.length === 0) return Date.now() - started;
    if (Date.now() - said > 30_000) {
      env.log(
        `chaos: converging for ${Math.round((Date.now() - started) / 1000)} s: ${waiting.slice(0, 3).join('; ')}`,
      );
      said = Date.now();
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  for (const line of stuckDetail(env.watcher)) env.log(`chaos: not converged: ${line}`);
  // The pacers' memory (last starts, cursor) is kept in their Leases.
  const leases = await env.kube.list<Lease>(paths.leases(NAMESPACE)).catch(() => ({ items: [] as Lease[] }));
  for (const lease of leases.items.filter((l) => l.metadata.name.startsWith('drop-pace-')))
    env.log(
      `chaos: not converged: Lease ${lease.metadata.name} held by ${lease.spec?.holderIdentity ?? 'nobody'}: ${JSON.stringify(leaseState(lease)).slice(0, 600)}`,
    );
  throw new Error(`not converged within ${Math.round(withinMs / 1000)} s: ${waiting.slice(0, 4).join('; ')}`);
}

/**
 * For an image short of READY n/n: what its status and the pull pods say about each target node
 * it lacks (a failure record, a pod and its phase), and why the pacer last said pulls wait — so a
 * failed convergence names its cause rather than only its symptom (logged, not in the table).
 */
function stuckDetail(watcher: ChaosWatcher): string[] {
  const nodes = watcher.nodes.list();
  const lines: string[] = [];
  for (const image of watcher.images.list()) {
    const status = image.status;
    const targets = targetNodes(nodes, {
      nodeSelector: image.spec?.nodeSelector,
      tolerations: image.spec?.tolerations,
    });
    const missing = targets.filter((node) => !(status?.cachedNodes ?? []).includes(node));
    if (missing.length === 0) continue;
    for (const node of missing.slice(0, 3)) {
      const failed = status?.failedNodes?.find((f) => f.node === node);
      const pods = watcher.pods
        .list()
        .filter(
          (p) =>
            p.spec?.nodeName === node &&
            p.metadata.annotations?.[CACHED_IMAGE_ANNOTATION] === image.metadata.name,
        )
        .map(
          (p) =>
            `${p.metadata.name} ${p.status?.phase ?? '-'}${p.metadata.deletionTimestamp ? ' deleting' : ''}`,
        );
      lines.push(
        `${image.metadata.name} on ${node}: ${failed ? `failed ${JSON.stringify(failed)}` : 'no failure record'}; pods: ${pods.join(', ') || 'none'}`,
      );
    }
    lines.push(
      `${image.metadata.name}: reference ${status?.reference ?? '-'}, waiting ${status?.nodesWaiting ?? '-'}, pacing ${JSON.stringify(status?.pacing ?? null)}`,
    );
  }
  return lines;
}

function waitingOf(watcher: ChaosWatcher): string[] {
  const nodes = watcher.nodes.list();
  const images = watcher.images.list().map((image: CachedImage) => ({
    name: image.metadata.name,
    generation: image.metadata.generation ?? 0,
    observedGeneration: image.status?.observedGeneration,
    phase: image.status?.phase,
    nodesReady: image.status?.nodesReady,
    nodesTargeted: image.status?.nodesTargeted,
    targets: targetNodes(nodes, {
      nodeSelector: image.spec?.nodeSelector,
      tolerations: image.spec?.tolerations,
    }).length,
  }));
  const sets = watcher.sets.list().map((set: KubeObject) => {
    const ready = (
      set as { status?: { conditions?: { type: string; status: string; message?: string }[] } }
    ).status?.conditions?.find((c) => c.type === 'Ready');
    return { name: set.metadata.name, ready: ready?.status === 'True', message: ready?.message };
  });
  return notConverged(images, sets, watcher.pods.list().map(observedPull), {
    images: [...APP_IMAGES, ...TOOL_IMAGES],
    sets: [STATIC_SET, DISCOVERED_SET],
  });
}

/** A kubeconfig like `path` whose server is `server` (Drop's, pointed at a proxy). */
export function kubeconfigFor(path: string, server: string, out: string): string {
  const text = readFileSync(path, 'utf8').replace(/server: .*/, `server: ${server}`);
  writeFileSync(out, text, { mode: 0o600 });
  return out;
}
