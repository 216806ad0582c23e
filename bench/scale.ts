// The scale bench (bench/README.md): a fleet of kwok nodes × images converged by Drop running as
// it ships — the bundled standalone runner, or the four bundled functions as separate processes fed
// by the real ApiServerSource adapter — measured from outside: the API server's audit log counts
// the requests, /proc the memory and CPU, the cluster the status sizes.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CachedImage } from '../lib/api/index.ts';
import { createKube, loadKubeConfig, paths } from '../lib/kube/index.ts';
import { convergenceLowerBoundMs } from '../lib/pacing/testing/lower-bound.ts';
import { DEFAULT_PACING_LIMITS, type PacingLimits } from '../lib/policy/index.ts';
import { bundleFunctions } from '../scripts/build-functions.ts';
import { readSources } from '../standalone/config-files.ts';
import { createNodes, startControlPlane } from '../test/controlplane/index.ts';
import { type AuditCounts, countAudit } from './audit.ts';
import { CONFIG_DIR, type DropShape, NAMESPACE, type Running, startShape } from './drop-processes.ts';
import { percentile, watchNodeIdle } from './node-idle.ts';
import { type FunctionEvents, processUsage, scrapeEvents, type Usage } from './usage.ts';

export type PullModel = 'fixed' | 'bandwidth';
export type { DropShape } from './drop-processes.ts';

export interface ScaleWorkload {
  readonly nodes: number;
  readonly images: number;
  readonly pullSeconds: number;
  readonly maxConcurrentNodes: number;
  readonly perNode: number;
  readonly model: PullModel;
  readonly shape: DropShape;
  /** Minutes to stay after convergence counting what an idle Drop does (0: none). */
  readonly idleMinutes: number;
}

export interface ScaleResult {
  readonly workload: ScaleWorkload;
  readonly convergedMs: number;
  readonly lowerBoundMs: number;
  readonly ratio: number;
  /** The machine's 1-minute load average as the run converged: kwok and the API server share its cores. */
  readonly load: number;
  readonly observedRatio: number;
  readonly pullMs: { readonly p50: number; readonly p90: number };
  readonly nodeIdleMs: { readonly p50: number; readonly p90: number };
  /** Image pull slots kept busy while the image had nodes left to start (bench/node-idle.ts). */
  readonly slotOccupancy: number;
  readonly usage: Usage;
  readonly audit: AuditCounts;
  readonly pulls: number;
  readonly largestStatusBytes: number;
  readonly events: {
    readonly received: number;
    readonly work: number;
    readonly coalesced: number;
    /** By function (`drop_events_total`'s function label). */
    readonly byFunction: Readonly<Record<string, FunctionEvents>>;
  };
  readonly idle?: {
    readonly minutes: number;
    /** Events received, by function: the runner's four counted apart. */
    readonly invocations: Record<string, number>;
    readonly writes: Record<string, number>;
  };
}

const POOL_LABEL = 'drop.test/pool';
/** The bandwidth model's node bandwidth; an image of pullSeconds × this takes pullSeconds alone on a node. */
const BANDWIDTH_MIB = 10;

/** Runs one workload end to end and measures it. */
export async function benchScale(workload: ScaleWorkload, log: (line: string) => void): Promise<ScaleResult> {
  const stateDir = mkdtempSync(join(tmpdir(), 'drop-scale-'));
  const plane = await startControlPlane({
    stateDir,
    log,
    nodes: 0,
    auditLog: true,
    bandwidthModel: workload.model === 'bandwidth',
  });
  const running: Running[] = [];
  try {
    log(`scale: creating ${workload.nodes} kwok nodes`);
    await createNodes(workload.nodes, {
      kubeconfigPath: plane.kubeconfigPath,
      prefix: 'scale',
      labels: { [POOL_LABEL]: 'scale' },
      ...(workload.model === 'bandwidth' ? { bandwidth: `${BANDWIDTH_MIB}Mi` } : {}),
      timeoutMs: 600_000,
    });
    const kube = createKube(loadKubeConfig(plane.kubeconfigPath), 'drop-bench');
    await bundleFunctions();
    running.push(...(await startShape(workload.shape, { kubeconfigPath: plane.kubeconfigPath })));
    const limits: PacingLimits = {
      ...DEFAULT_PACING_LIMITS,
      maxConcurrentNodes: workload.maxConcurrentNodes,
      minDelayBetweenPullsMs: 100,
      maxConcurrentPullsPerNode: workload.perNode,
    };
    await kube.create(paths.pullPolicies(), {
      apiVersion: 'drop.corewire.io/v1alpha1',
      kind: 'PullPolicy',
      metadata: { name: 'scale' },
      spec: {
        maxConcurrentNodes: limits.maxConcurrentNodes,
        minDelayBetweenPulls: '100ms',
        maxConcurrentPullsPerNode: workload.perNode,
      },
    } as never);
    const idle = watchNodeIdle(kube, NAMESPACE);
    const started = Date.now();
    const names = Array.from({ length: workload.images }, (_, i) => `scale-${i}`);
    log(`scale: ${workload.images} images on ${workload.nodes} nodes (${describe(workload)})`);
    await Promise.all(
      names.map((name, i) => kube.create(paths.cachedImages(), imageOf(name, i, workload) as never)),
    );
    let largestStatusBytes = 0;
    let lastReport = started;
    for (;;) {
      const list = await kube.list<CachedImage>(paths.cachedImages());
      for (const image of list.items)
        largestStatusBytes = Math.max(largestStatusBytes, JSON.stringify(image.status ?? {}).length);
      const cached = list.items.filter((i) => i.status?.phase === 'Ready').length;
      if (Date.now() - lastReport > 30_000) {
        const ready = list.items.reduce((sum, i) => sum + (i.status?.nodesReady ?? 0), 0);
        log(
          `scale: ${Math.round((Date.now() - started) / 1000)} s: ${ready} of ${names.length * workload.nodes} pulls recorded, ${cached} images cached`,
        );
        lastReport = Date.now();
      }
      if (cached === names.length) break;
      await new Promise((r) => setTimeout(r, 2_000));
    }
    const converged = Date.now();
    const [load = 0] = loadavg();
    idle.stop();
    const usage = await usageOf(running);
    const events = await eventsOf(running);
    const pullTimes = idle.pullTimes();
    const gaps = idle.gaps();
    const images = names.map(() => ({ nodes: workload.nodes }));
    const bound = (pullMs: number) =>
      Math.max(
        convergenceLowerBoundMs({ limits, images, nodesTotal: workload.nodes, pullMs }),
        // Shared bandwidth: a node pulls its images' bytes no faster than one after another.
        workload.model === 'bandwidth' ? workload.images * pullMs : 0,
      );
    const lowerBoundMs = bound(workload.pullSeconds * 1000);
    const idleFigures =
      workload.idleMinutes > 0 ? await idleFor(workload, running, plane.auditLogPath ?? '', log) : undefined;
    for (const r of running) await r.stop();
    running.length = 0;
    const audit = await countAudit(plane.auditLogPath ?? '', started, converged);
    return {
      workload,
      convergedMs: converged - started,
      lowerBoundMs,
      ratio: (converged - started) / lowerBoundMs,
      load,
      observedRatio: (converged - started) / bound(percentile(pullTimes, 50)),
      pullMs: { p50: percentile(pullTimes, 50), p90: percentile(pullTimes, 90) },
      nodeIdleMs: { p50: percentile(gaps, 50), p90: percentile(gaps, 90) },
      slotOccupancy: idle.slotOccupancy(workload.maxConcurrentNodes),
      usage,
      audit,
      pulls: workload.nodes * workload.images,
      largestStatusBytes,
      events,
      ...(idleFigures ? { idle: idleFigures } : {}),
    };
  } finally {
    for (const r of running) await r.stop();
    await plane.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function describe(w: ScaleWorkload): string {
  return `${w.model} ${w.pullSeconds}s pulls, maxConcurrentNodes ${w.maxConcurrentNodes}, ${w.perNode} per node, ${w.shape}`;
}

function imageOf(name: string, index: number, w: ScaleWorkload): unknown {
  // A repository path is lower case (the CRD's pattern); the size marker is read case-insensitively.
  const marker =
    w.model === 'bandwidth' ? `size-${w.pullSeconds * BANDWIDTH_MIB}mi` : `slow-${w.pullSeconds}s`;
  return {
    apiVersion: 'drop.corewire.io/v1alpha1',
    kind: 'CachedImage',
    metadata: { name },
    spec: {
      image: `registry.example/scale/${marker}-image${index}`,
      tag: 'v1',
      nodeSelector: { [POOL_LABEL]: 'scale' },
      policyRef: { name: 'scale' },
    },
  };
}

async function usageOf(running: readonly Running[]): Promise<Usage> {
  const all = running.map((r) => ({ name: r.name, ...processUsage(r.child.pid ?? 0) }));
  const adapters = running.flatMap((r) => {
    const pid = r.adapterPid?.();
    return pid ? [[r.name, processUsage(pid)] as const] : [];
  });
  return {
    peakRssMb: Math.max(...all.map((u) => u.peakRssMb)),
    cpuSeconds: all.reduce((sum, u) => sum + u.cpuSeconds, 0),
    byProcess: Object.fromEntries(
      all.map((u) => [u.name, { peakRssMb: u.peakRssMb, cpuSeconds: u.cpuSeconds }]),
    ),
    ...(adapters.length > 0 ? { adapters: Object.fromEntries(adapters) } : {}),
  };
}

async function eventsOf(running: readonly Running[]): Promise<ScaleResult['events']> {
  const scraped = await Promise.all(running.map((r) => scrapeEvents(r.port)));
  return scraped.reduce(
    (sum, e) => ({
      received: sum.received + e.received,
      work: sum.work + e.work,
      coalesced: sum.coalesced + e.coalesced,
      byFunction: { ...sum.byFunction, ...e.byFunction },
    }),
    { received: 0, work: 0, coalesced: 0, byFunction: {} },
  );
}

/**
 * Everything cached and nothing due: what Drop does for `idleMinutes`. The functions get the
 * PingSource ticks config/ schedules (the bench sends them, as PingSource would); the standalone
 * runner keeps its own.
 */
/** What may still be written after convergence: three status/Event write intervals. */
const SETTLE_MS = 15_000;

async function idleFor(
  workload: ScaleWorkload,
  running: readonly Running[],
  auditLogPath: string,
  log: (line: string) => void,
): Promise<NonNullable<ScaleResult['idle']>> {
  // Convergence is read from the statuses; what trails them — an Event series or a status write
  // paced to every 5 s — lands within three such intervals, and belongs to the work, not to idling.
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  log(`scale: idle for ${workload.idleMinutes} minutes`);
  const before = await Promise.all(running.map((r) => scrapeEvents(r.port)));
  const from = Date.now();
  const pings = readSources(CONFIG_DIR, NAMESPACE).pings;
  const timers =
    workload.shape === 'functions'
      ? pings.map((p) => {
          const target = running.find((r) => r.name === p.function);
          return setInterval(() => void sendPing(target?.port ?? 0), p.everyMs);
        })
      : [];
  await new Promise((r) => setTimeout(r, workload.idleMinutes * 60_000));
  for (const t of timers) clearInterval(t);
  const to = Date.now();
  const after = await Promise.all(running.map((r) => scrapeEvents(r.port)));
  const audit = await countAudit(auditLogPath, from, to);
  return {
    minutes: workload.idleMinutes,
    invocations: wokenByFunction(before, after),
    writes: audit.writesByAgent,
  };
}

/**
 * The events each function received between two scrapes of every process, by function: the target
 * is each function's wake-ups, also in the runner, which serves all four in one process and resyncs
 * each on its own timer.
 */
function wokenByFunction(
  before: readonly Awaited<ReturnType<typeof scrapeEvents>>[],
  after: readonly Awaited<ReturnType<typeof scrapeEvents>>[],
): Record<string, number> {
  const woken: Record<string, number> = {};
  for (const [i, scrape] of after.entries())
    for (const [name, counts] of Object.entries(scrape.byFunction))
      woken[name] = (woken[name] ?? 0) + counts.received - (before[i]?.byFunction[name]?.received ?? 0);
  return woken;
}

async function sendPing(port: number): Promise<void> {
  await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    headers: {
      'ce-specversion': '1.0',
      'ce-id': crypto.randomUUID(),
      'ce-source': `/apis/v1/namespaces/${NAMESPACE}/pingsources/bench`,
      'ce-type': 'dev.knative.sources.ping',
      'content-type': 'application/json',
    },
    body: '{"resync":true}',
  }).catch(() => undefined);
}
