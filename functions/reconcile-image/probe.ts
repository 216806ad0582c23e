// Garbage-collection probes: where a node's image list cannot say whether the image is still there
// (it lists the kubelet's maximum, or nothing), a pull pod with imagePullPolicy Never asks the
// kubelet itself — it pulls nothing, and ends ErrImageNeverPull exactly when the image is gone. The
// pacer starts them (status.probeNodes), under the same limits as pulls. Pure.
import { KUBELET_MAX_IMAGES, type NodeImageReport } from '../../lib/node-images.ts';
import { repullCycle } from './repull.ts';

/** PullPolicy imageProbeInterval when unset: four probes a day per node that needs them. */
export const DEFAULT_PROBE_INTERVAL_MS = 6 * 3_600_000;

/** Where a probe cycle stands: nodes still to probe, when it started, when the next is due. */
export interface ProbeCycle {
  readonly nodes: readonly string[];
  readonly lastProbeAt?: string;
  readonly nextProbeAt?: string;
}

/** Cached nodes whose image list cannot prove an absence: none reported, or as many as the kubelet lists. */
export function undecidedNodes(
  cached: readonly string[],
  reports: ReadonlyMap<string, NodeImageReport> | undefined,
): string[] {
  return cached.filter((node) => {
    const report = reports?.get(node);
    return report === undefined || report.listed >= KUBELET_MAX_IMAGES;
  });
}

/**
 * Every interval, each cached node the lists cannot decide is probed once (a cycle, as re-pulls
 * have: it covers the nodes undecided when it starts, counted from the first pull before any).
 */
export function probeCycle(input: {
  readonly intervalMs: number | undefined;
  readonly remaining: readonly string[];
  readonly lastProbeAt: string | undefined;
  readonly lastPulledAt: string | undefined;
  readonly undecided: readonly string[];
  readonly now: Date;
}): ProbeCycle {
  const cycle = repullCycle({
    intervalMs: input.intervalMs,
    remaining: input.remaining,
    lastRepullAt: input.lastProbeAt,
    lastPulledAt: input.lastPulledAt,
    ready: input.undecided,
    now: input.now,
  });
  return {
    nodes: cycle.nodes,
    ...(cycle.lastRepullAt ? { lastProbeAt: cycle.lastRepullAt } : {}),
    ...(cycle.nextRepullAt ? { nextProbeAt: cycle.nextRepullAt } : {}),
  };
}
