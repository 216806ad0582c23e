import type { PacingLimits } from '../../policy/limits.ts';

/** A benchmark's workload: how many nodes each image must reach, and a fixed pull time. */
export interface ConvergenceWorkload {
  readonly limits: PacingLimits;
  readonly images: readonly { readonly nodes: number }[];
  /** Nodes in the fleet; an image's nodes are any `nodes` of them. */
  readonly nodesTotal: number;
  readonly pullMs: number;
}

/** Independent bounds; convergence cannot beat any of them. */
export interface ConvergenceBounds {
  /** The slowest image alone under maxConcurrentNodes and minDelayBetweenPulls. */
  readonly perImageMs: number;
  /** All pulls through the policy's maxConcurrentPulls slots. */
  readonly perPolicyMs: number;
  /** The busiest node's pulls through its maxConcurrentPullsPerNode slots. */
  readonly perNodeMs: number;
  /** The last node needing every image to get its first pull, then all of them. */
  readonly staggeredNodesMs: number;
}

/**
 * The least time the limits allow to pull every image on every node it needs, starting from
 * nothing in flight at t=0: the largest of `convergenceBounds`. Assumes every pull takes exactly
 * `pullMs`, none fails, the scheduler reacts the instant a slot frees, and no other policy's pulls
 * occupy the nodes.
 */
export function convergenceLowerBoundMs(workload: ConvergenceWorkload): number {
  const bounds = convergenceBounds(workload);
  return Math.max(bounds.perImageMs, bounds.perPolicyMs, bounds.perNodeMs, bounds.staggeredNodesMs);
}

export function convergenceBounds(workload: ConvergenceWorkload): ConvergenceBounds {
  const { limits, images, nodesTotal, pullMs } = workload;
  const pulls = images.reduce((sum, image) => sum + Math.max(0, image.nodes), 0);
  const perNodeSlots = limits.maxConcurrentPullsPerNode;
  return {
    perImageMs: images.reduce(
      (slowest, image) => Math.max(slowest, imageBoundMs(image.nodes, limits, pullMs)),
      0,
    ),
    perPolicyMs: slotsBoundMs(pulls, limits.maxConcurrentPulls ?? Number.POSITIVE_INFINITY, pullMs),
    // Pigeonhole: some node carries at least the average number of pulls, rounded up.
    perNodeMs: nodesTotal > 0 ? slotsBoundMs(Math.ceil(pulls / nodesTotal), perNodeSlots, pullMs) : 0,
    staggeredNodesMs: staggeredNodesBoundMs(workload),
  };
}

/**
 * One image on `nodes` nodes, with K = maxConcurrentNodes, D = minDelay, P = pullMs. The earliest
 * starts obey s(j) ≥ s(j−1) + D and s(j) ≥ s(j−K) + P (the j-th start needs one of the K slots
 * back), whose least solution is s(j) = ⌊j/K⌋·max(P, K·D) + (j mod K)·D. The image is done when its
 * last pull, j = nodes − 1, finishes: s(nodes − 1) + P.
 */
export function imageBoundMs(nodes: number, limits: PacingLimits, pullMs: number): number {
  if (nodes <= 0) return 0;
  const slots = limits.maxConcurrentNodes;
  if (slots < 1) return Number.POSITIVE_INFINITY;
  const delay = Math.max(0, limits.minDelayBetweenPullsMs);
  const last = nodes - 1;
  return Math.floor(last / slots) * Math.max(pullMs, slots * delay) + (last % slots) * delay + pullMs;
}

/**
 * With G images, at most G·(⌊t/D⌋ + 1) pulls start in [0, t]; so of the F nodes that every image
 * needs, the last gets its first pull no earlier than (⌈F/G⌉ − 1)·D, and still has all G images to
 * pull, ⌈G/L⌉ rounds with L = maxConcurrentPullsPerNode. F is at least the fleet minus every
 * image's missing nodes — all of it when every image targets every node.
 */
function staggeredNodesBoundMs(workload: ConvergenceWorkload): number {
  const { limits, images, nodesTotal, pullMs } = workload;
  const missing = images.reduce((sum, image) => sum + Math.max(0, nodesTotal - Math.max(0, image.nodes)), 0);
  const sharedByAll = nodesTotal - missing;
  if (images.length === 0 || sharedByAll <= 0) return 0;
  const lastFirstStart =
    (Math.ceil(sharedByAll / images.length) - 1) * Math.max(0, limits.minDelayBetweenPullsMs);
  return lastFirstStart + slotsBoundMs(images.length, limits.maxConcurrentPullsPerNode, pullMs);
}

/** `pulls` pulls of `pullMs` each through `slots` parallel slots take ⌈pulls/slots⌉ rounds. */
function slotsBoundMs(pulls: number, slots: number, pullMs: number): number {
  if (pulls <= 0) return 0;
  if (slots < 1) return Number.POSITIVE_INFINITY;
  return Math.ceil(pulls / slots) * pullMs;
}
