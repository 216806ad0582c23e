import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CachedImage } from '../lib/api/index.ts';
import { paths } from '../lib/kube/index.ts';
import { kubeRequestsTotal } from '../lib/metrics.ts';
import { convergenceLowerBoundMs, type PacingLimits } from '../lib/pacing/index.ts';
import { createNodes, startControlPlane } from '../test/controlplane/index.ts';
import { startDrop } from '../test/integration/drop.ts';

export interface PacingBenchOptions {
  readonly nodes: number;
  readonly images: number;
  readonly pullSeconds: number;
  readonly limits: PacingLimits;
}

export interface PacingBenchResult {
  readonly convergedMs: number;
  readonly lowerBoundMs: number;
  readonly ratio: number;
  readonly pulls: number;
  readonly apiRequests: number;
  readonly requestsPerPull: number;
}

async function totalRequests(): Promise<number> {
  const metric = await kubeRequestsTotal.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
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
    const before = await totalRequests();
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
      const ready = list.items.filter((i) => i.status?.phase === 'Cached').length;
      if (ready === names.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const convergedMs = Date.now() - started;
    const apiRequests = (await totalRequests()) - before;
    await drop.stop();
    const lowerBoundMs = convergenceLowerBoundMs({
      limits: options.limits,
      images: names.map(() => ({ nodes: options.nodes })),
      nodesTotal: options.nodes,
      pullMs: options.pullSeconds * 1000,
    });
    const pulls = options.nodes * options.images;
    return {
      convergedMs,
      lowerBoundMs,
      ratio: convergedMs / lowerBoundMs,
      pulls,
      apiRequests,
      requestsPerPull: apiRequests / pulls,
    };
  } finally {
    await plane.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
