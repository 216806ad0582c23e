import { describe, expect, it } from 'vitest';
import { DEFAULT_PACING_LIMITS, type PacingLimits } from '../../policy/limits.ts';
import { convergenceBounds, convergenceLowerBoundMs, imageBoundMs } from './lower-bound.ts';

const S = 1_000;
const limits = (overrides: Partial<PacingLimits>): PacingLimits => ({
  ...DEFAULT_PACING_LIMITS,
  ...overrides,
});

describe('imageBoundMs (one image alone; hand-drawn timelines)', () => {
  it('one node takes one pull', () => {
    expect(imageBoundMs(1, DEFAULT_PACING_LIMITS, 30 * S)).toBe(30 * S);
  });

  it('one node at a time, pulls longer than minDelay: back to back', () => {
    // starts 0, 30, 60 → done at 90
    expect(imageBoundMs(3, limits({ maxConcurrentNodes: 1, minDelayBetweenPullsMs: 10 * S }), 30 * S)).toBe(
      90 * S,
    );
  });

  it('one node at a time, pulls shorter than minDelay: minDelay apart', () => {
    // starts 0, 10, 20 → done at 25
    expect(imageBoundMs(3, limits({ maxConcurrentNodes: 1, minDelayBetweenPullsMs: 10 * S }), 5 * S)).toBe(
      25 * S,
    );
  });

  it('two nodes at a time: waves bounded by the pull time', () => {
    // starts 0, 10 | 30, 40 | 60 → done at 90
    expect(imageBoundMs(5, limits({ maxConcurrentNodes: 2, minDelayBetweenPullsMs: 10 * S }), 30 * S)).toBe(
      90 * S,
    );
  });

  it('three nodes at a time: waves bounded by minDelay spacing', () => {
    // starts 0, 15, 30 | 45 (a slot is free at 30, but minDelay) → done at 75
    expect(imageBoundMs(4, limits({ maxConcurrentNodes: 3, minDelayBetweenPullsMs: 15 * S }), 30 * S)).toBe(
      75 * S,
    );
  });

  it('no nodes take no time; no slots never finish', () => {
    expect(imageBoundMs(0, DEFAULT_PACING_LIMITS, 30 * S)).toBe(0);
    expect(imageBoundMs(2, limits({ maxConcurrentNodes: 0 }), 30 * S)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('convergenceLowerBoundMs', () => {
  it('is bound by the slowest image under the default policy', () => {
    // 100 nodes one at a time, 30 s each, minDelay 10 s < 30 s: 100 pulls back to back.
    const workload = {
      limits: DEFAULT_PACING_LIMITS,
      images: Array(10).fill({ nodes: 100 }),
      nodesTotal: 100,
      pullMs: 30 * S,
    };
    expect(convergenceLowerBoundMs(workload)).toBe(3_000 * S);
  });

  it('is bound by the policy cap when it is the tightest', () => {
    // 20 pulls through 4 slots: 5 rounds of 30 s.
    const workload = {
      limits: limits({
        maxConcurrentNodes: 10,
        minDelayBetweenPullsMs: 0,
        maxConcurrentPulls: 4,
        maxConcurrentPullsPerNode: 2,
      }),
      images: [{ nodes: 10 }, { nodes: 10 }],
      nodesTotal: 10,
      pullMs: 30 * S,
    };
    expect(convergenceBounds(workload)).toEqual({
      perImageMs: 30 * S,
      perPolicyMs: 150 * S,
      perNodeMs: 30 * S,
      staggeredNodesMs: 30 * S,
    });
    expect(convergenceLowerBoundMs(workload)).toBe(150 * S);
  });

  it('is bound by each node pulling its images one at a time', () => {
    // 4 images on 3 nodes, one pull per node: every node pulls 4 times in a row.
    const workload = {
      limits: limits({ maxConcurrentNodes: 3, minDelayBetweenPullsMs: 0 }),
      images: Array(4).fill({ nodes: 3 }),
      nodesTotal: 3,
      pullMs: 30 * S,
    };
    expect(convergenceLowerBoundMs(workload)).toBe(120 * S);
  });

  it('counts the per-node bound on the busiest node when images target different nodes', () => {
    // 5 pulls on 2 nodes: one node has at least 3.
    const workload = {
      limits: limits({ maxConcurrentNodes: 5, minDelayBetweenPullsMs: 0 }),
      images: [{ nodes: 2 }, { nodes: 2 }, { nodes: 1 }],
      nodesTotal: 2,
      pullMs: 10 * S,
    };
    expect(convergenceBounds(workload).perNodeMs).toBe(30 * S);
  });

  it('adds the time until the last node gets its first pull when starts are spaced', () => {
    // 3 images × 20 nodes, minDelay 3 s: 3 starts per 3 s, so the 20th node starts at 18 s at
    // the earliest, then pulls 3 images one at a time: 18 + 90 = 108 s.
    const workload = {
      limits: limits({ maxConcurrentNodes: 10, minDelayBetweenPullsMs: 3 * S }),
      images: Array(3).fill({ nodes: 20 }),
      nodesTotal: 20,
      pullMs: 30 * S,
    };
    expect(convergenceBounds(workload)).toMatchObject({
      perImageMs: 87 * S,
      perNodeMs: 90 * S,
      staggeredNodesMs: 108 * S,
    });
    expect(convergenceLowerBoundMs(workload)).toBe(108 * S);
  });

  it('counts only the nodes every image must reach for the staggered bound', () => {
    // 10 nodes, images on 10 and 6: at least 6 nodes need both; 2 starts per 10 s → the 6th at 20 s.
    const workload = {
      limits: limits({ maxConcurrentNodes: 10, minDelayBetweenPullsMs: 10 * S }),
      images: [{ nodes: 10 }, { nodes: 6 }],
      nodesTotal: 10,
      pullMs: 5 * S,
    };
    expect(convergenceBounds(workload).staggeredNodesMs).toBe(30 * S);
  });

  it('is 0 for no work', () => {
    expect(
      convergenceLowerBoundMs({ limits: DEFAULT_PACING_LIMITS, images: [], nodesTotal: 5, pullMs: 30 * S }),
    ).toBe(0);
  });
});
