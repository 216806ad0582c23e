import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CachedImage, statusWord } from '../lib/api/index.ts';
import { paths } from '../lib/kube/index.ts';
import { kubeRequestsTotal, paceRoundDuration } from '../lib/metrics.ts';
import { convergenceLowerBoundMs } from '../lib/pacing/testing/lower-bound.ts';
import type { PacingLimits } from '../lib/policy/index.ts';
import { createNodes, startControlPlane } from '../test/controlplane/index.ts';
import { startDrop } from '../test/integration/drop.ts';
import { percentile, watchNodeIdle } from './node-idle.ts';

export interface PacingBenchOptions {
  readonly nodes: number;
  readonly images: number;
  readonly pullSeconds: number;
  readonly limits: PacingLimits;
}

export interface PacingBenchResult {
  readonly convergedMs: number;
  readonly pullsDoneMs: number;
  /** Observed pull times (creation to outcome): the simulated pull plus kwok's own reaction. */
  readonly pullMs: { readonly p50: number; readonly p90: number };
  /** Pacing rounds run, and their mean duration. */
  readonly rounds: { readonly count: number; readonly meanMs: number };
  /** From a pull's outcome to the next pull on that node, over every pull that had a successor. */
  readonly nodeIdleMs: { readonly p50: number; readonly p90: number; readonly max: number };
  readonly lowerBoundMs: number;
  readonly ratio: number;
  /** convergedMs over the bound at the median pull time observed (kwok adds its own reaction time). */
  readonly observedRatio: number;
  readonly pulls: number;
  readonly apiRequests: number;
  readonly requestsPerPull: number;
  readonly requestsPerPullByFunction: Readonly<Record<string, number>>;
}

async function requestsByFunction(): Promise<Record<string, number>> {
  const metric = await kubeRequestsTotal.get();
  const counts: Record<string, number> = {};
  for (const v of metric.values)
    counts[String(v.labels.function)] = (counts[String(v.labels.function)] ?? 0) + v.value;
  return counts;
}

function total(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/**
 * Converges `images` CachedImages on `nodes` kwok nodes whose pulls take a fixed time, with Drop's
 * functions fed by the real ApiServerSource adapter, and compares the time to the limits' bound.
 */
export async function benchPacing(
  options: PacingBenchOptions,
  log: (line: string) => void,
): Promise<PacingBenchResult> {
  const stateDir = mkdtempSync(join(tmpdir(), 'drop-bench-'));
  const plane = await startControlPlane({ stateDir, log, nodes: 0 });
  try {
    const pool = 'bench';
    await createNodes(options.nodes, {
      kubeconfigPath: plane.kubeconfigPath,
      prefix: pool,
      labels: { 'drop.test/pool': pool },
    });
    const drop = await startDrop({ kubeconfigPath: plane.kubeconfigPath, events: true, windowMs: 45_000 });
    const l = options.limits;
    await drop.kube.create(paths.pullPolicies(), {
      apiVersion: 'drop.corewire.io/v1alpha1',
      kind: 'PullPolicy',
      metadata: { name: 'bench' },
      spec: {
        maxConcurrentNodes: l.maxConcurrentNodes,
        minDelayBetweenPulls: `${l.minDelayBetweenPullsMs}ms`,
        maxConcurrentPullsPerNode: l.maxConcurrentPullsPerNode,
        ...(l.maxConcurrentPulls ? { maxConcurrentPulls: l.maxConcurrentPulls } : {}),
      },
    } as never);
    const idle = watchNodeIdle(drop.kube, 'drop-system');
    const before = await requestsByFunction();
    const started = Date.now();
    const names = Array.from({ length: options.images }, (_, i) => `bench-${i}`);
    await Promise.all(
      names.map((name, i) =>
        drop.kube.create(paths.cachedImages(), {
          apiVersion: 'drop.corewire.io/v1alpha1',
          kind: 'CachedImage',
          metadata: { name },
          spec: {
            image: `registry.example/bench/slow-${options.pullSeconds}s-image${i}`,
            tag: 'v1',
            nodeSelector: { 'drop.test/pool': pool },
            policyRef: { name: 'bench' },
          },
        } as never),
      ),
    );
    for (;;) {
      const list = await drop.kube.list<CachedImage>(paths.cachedImages());
      const ready = list.items.filter((i) => statusWord(i.status) === 'Cached').length;
      if (ready === names.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const convergedMs = Date.now() - started;
    // When the last pull finished (the kubelet's finishedAt, whole seconds), apart from when its
    // outcome reached the status: pacing and recording, measured separately.
    const finished = (await drop.kube.list<CachedImage>(paths.cachedImages())).items.map(
      (i) => Date.parse(i.status?.lastPulledAt ?? '') || started,
    );
    const pullsDoneMs = Math.max(...finished) - started;
    idle.stop();
    const gaps = idle.gaps();
    const pullTimes = idle.pullTimes();
    const rounds = (await paceRoundDuration.get()).values;
    const roundCount = rounds.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
    const roundSum = rounds.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
    const after = await requestsByFunction();
    const byFunction = Object.fromEntries(
      Object.entries(after).map(([fn, n]) => [fn, n - (before[fn] ?? 0)]),
    );
    const apiRequests = total(byFunction);
    await drop.stop();
    const lowerBoundMs = convergenceLowerBoundMs({
      limits: options.limits,
      images: names.map(() => ({ nodes: options.nodes })),
      nodesTotal: options.nodes,
      pullMs: options.pullSeconds * 1000,
    });
    const pulls = options.nodes * options.images;
    // The same bound at the pull time kwok actually delivered: what is left is Drop's own overhead.
    const observedBoundMs = convergenceLowerBoundMs({
      limits: options.limits,
      images: names.map(() => ({ nodes: options.nodes })),
      nodesTotal: options.nodes,
      pullMs: percentile(pullTimes, 50),
    });
    return {
      convergedMs,
      pullsDoneMs,
      rounds: { count: roundCount, meanMs: roundCount ? (roundSum / roundCount) * 1000 : 0 },
      pullMs: { p50: percentile(pullTimes, 50), p90: percentile(pullTimes, 90) },
      nodeIdleMs: { p50: percentile(gaps, 50), p90: percentile(gaps, 90), max: gaps.at(-1) ?? 0 },
      lowerBoundMs,
      ratio: convergedMs / lowerBoundMs,
      observedRatio: convergedMs / observedBoundMs,
      pulls,
      apiRequests,
      requestsPerPull: apiRequests / pulls,
      requestsPerPullByFunction: Object.fromEntries(
        Object.entries(byFunction).map(([fn, n]) => [fn, n / pulls]),
      ),
    };
  } finally {
    await plane.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
