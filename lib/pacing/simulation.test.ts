import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PACING_LIMITS, type PacingLimits } from '../policy/limits.ts';
import { limitsArb, names, POLICY, PROPERTY_TEST_TIMEOUT_MS, runs } from './testing/arbitraries.ts';
import { convergenceLowerBoundMs } from './testing/lower-bound.ts';
import { type SimulatedImage, type SimulationResult, simulate } from './testing/simulate.ts';

const S = 1_000;

/** A fleet with work to do and limits that let it finish (every cap at least 1). */
const fleetArb = fc
  .record({ nodeCount: fc.integer({ min: 1, max: 12 }), imageCount: fc.integer({ min: 1, max: 5 }) })
  .chain(({ nodeCount, imageCount }) => {
    const nodes = names('node', nodeCount);
    return fc.record({
      nodes: fc.constant(nodes),
      limits: limitsArb.map((l) => ({
        ...l,
        maxConcurrentNodes: Math.max(1, l.maxConcurrentNodes),
        maxConcurrentPullsPerNode: Math.max(1, l.maxConcurrentPullsPerNode),
        maxConcurrentPulls:
          l.maxConcurrentPulls === undefined ? undefined : Math.max(1, l.maxConcurrentPulls),
      })),
      images: fc.tuple(
        ...names('img', imageCount).map((name) =>
          fc.record({
            name: fc.constant(name),
            priority: fc.integer({ min: 0, max: 1 }),
            nodes: fc.subarray(nodes),
          }),
        ),
      ),
      pullSeconds: fc.integer({ min: 1, max: 60 }),
      seed: fc.integer({ min: 0, max: 1_000 }),
      foreign: fc.array(
        fc.record({ node: fc.constantFrom(...nodes), until: fc.integer({ min: 1, max: 120 * S }) }),
        { maxLength: 4 },
      ),
      extraCallsAt: fc.array(fc.integer({ min: 0, max: 600 * S }), { maxLength: 10 }),
    });
  });

// Deterministic per pair, so a failing run replays: pull time varies around pullSeconds, and
// roughly one pair in four fails its first one to three attempts.
function spread(image: string, node: string, seed: number): number {
  let h = seed;
  for (const c of `${image}/${node}`) h = (Math.imul(h ^ c.charCodeAt(0), 16_777_619) >>> 0) % 1_000_003;
  return h;
}

describe('a pacer driven by finishing pulls, wake-ups and stray events', {
  timeout: PROPERTY_TEST_TIMEOUT_MS,
}, () => {
  it('never exceeds a limit, converges, and takes no less than the lower bound', () => {
    fc.assert(
      fc.property(fleetArb, (fleet) => {
        const run = simulate({
          policy: POLICY,
          limits: fleet.limits,
          images: fleet.images,
          pullMs: (start) =>
            (fleet.pullSeconds * S * (50 + (spread(start.image, start.node, fleet.seed) % 100))) / 100,
          failingAttempts: (start) => {
            const h = spread(start.node, start.image, fleet.seed);
            return h % 4 === 0 ? 1 + (h % 3) : 0;
          },
          foreign: fleet.foreign,
          extraCallsAt: fleet.extraCallsAt,
        });
        expect(run.violations).toEqual([]);
        expect(run.converged).toBe(true);
        const served = new Set(run.calls.flatMap((c) => c.starts.map((s) => s.image)));
        expect([...served].sort()).toEqual(fleet.images.filter((i) => i.nodes.length > 0).map((i) => i.name));
        const bound = convergenceLowerBoundMs({
          limits: fleet.limits,
          images: fleet.images.map((i) => ({ nodes: i.nodes.length })),
          nodesTotal: fleet.nodes.length,
          pullMs: fleet.pullSeconds * S * 0.5, // the shortest pull the run can have
        });
        expect(run.finishedAt).toBeGreaterThanOrEqual(bound);
      }),
      runs(500),
    );
  });

  it('images of equal priority are each served within ⌈images / maxConcurrentPulls⌉ rounds, evenly', () => {
    const roundsArb = fc.integer({ min: 1, max: 15 }).chain((nodeCount) => {
      const nodes = names('node', nodeCount);
      return fc.record({
        images: fc
          .integer({ min: 2, max: 8 })
          .chain((n) =>
            fc.tuple(
              ...names('img', n).map((name) =>
                fc.subarray(nodes, { minLength: 1 }).map((ns) => ({ name, priority: 0, nodes: ns })),
              ),
            ),
          ),
        symmetric: fc.boolean(),
        maxConcurrentNodes: fc.integer({ min: 1, max: 4 }),
        maxConcurrentPulls: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
        nodes: fc.constant(nodes),
      });
    });
    fc.assert(
      fc.property(
        roundsArb,
        ({ images: drawn, symmetric, maxConcurrentNodes, maxConcurrentPulls, nodes }) => {
          const images: SimulatedImage[] = symmetric ? drawn.map((i) => ({ ...i, nodes })) : drawn;
          // No node contention (a node takes every image at once) and no minDelay: every pull
          // started in a round ends when the next round begins, so rounds are calls.
          const limits: PacingLimits = {
            ...DEFAULT_PACING_LIMITS,
            maxConcurrentNodes,
            maxConcurrentPulls,
            minDelayBetweenPullsMs: 0,
            maxConcurrentPullsPerNode: images.length,
          };
          const run = simulate({ policy: POLICY, limits, images, pullMs: () => 30 * S });
          expect(run.violations).toEqual([]);
          const within = Math.ceil(images.length / (maxConcurrentPulls ?? images.length));
          run.calls.forEach((call, index) => {
            for (const image of call.pendingImages) {
              const window = run.calls.slice(index, index + within);
              expect(window.some((c) => c.starts.some((s) => s.image === image))).toBe(true);
            }
          });
          if (symmetric) {
            const served = new Map(images.map((i) => [i.name, 0]));
            for (const call of run.calls) {
              for (const start of call.starts) served.set(start.image, (served.get(start.image) ?? 0) + 1);
              expect(Math.max(...served.values()) - Math.min(...served.values())).toBeLessThanOrEqual(1);
            }
          }
        },
      ),
      runs(500),
    );
  });
});

/**
 * Simulates `imageCount` images each wanted on all of `nodeCount` nodes, checks the run kept every
 * rule and converged, and returns it with its time ÷ the lower bound.
 */
function everyImageEverywhere(
  nodeCount: number,
  imageCount: number,
  overrides: Partial<PacingLimits>,
  pullMs: number,
  sharedBandwidth = false,
): { run: SimulationResult; ratio: number } {
  const nodes = names('node', nodeCount);
  const images = names('img', imageCount).map((name) => ({ name, priority: 0, nodes }));
  const limits = { ...DEFAULT_PACING_LIMITS, ...overrides };
  const run = simulate({ policy: POLICY, limits, images, pullMs: () => pullMs, sharedBandwidth });
  const bound = convergenceLowerBoundMs({
    limits,
    images: images.map(() => ({ nodes: nodeCount })),
    nodesTotal: nodeCount,
    pullMs,
  });
  expect(run.violations).toEqual([]);
  expect(run.converged).toBe(true);
  return { run, ratio: run.finishedAt / bound };
}

describe('100 nodes × 10 images, every image on every node, 30 s pulls', {
  timeout: PROPERTY_TEST_TIMEOUT_MS,
}, () => {
  const cases: [string, Partial<PacingLimits>, number][] = [
    ['the default policy', {}, 1.0],
    ['10 nodes per image, no delay', { maxConcurrentNodes: 10, minDelayBetweenPullsMs: 0 }, 1.0],
    ['10 nodes per image, 1 s apart', { maxConcurrentNodes: 10, minDelayBetweenPullsMs: 1 * S }, 1.05],
    [
      '5 nodes per image, 2 s apart, 20 per policy',
      { maxConcurrentNodes: 5, minDelayBetweenPullsMs: 2 * S, maxConcurrentPulls: 20 },
      1.05,
    ],
    [
      '20 nodes per image, two pulls per node',
      { maxConcurrentNodes: 20, minDelayBetweenPullsMs: 0, maxConcurrentPullsPerNode: 2 },
      1.0,
    ],
  ];
  for (const [name, overrides, within] of cases) {
    it(`converges within ${Math.round((within - 1) * 100)}% of the lower bound under ${name}`, () => {
      expect(everyImageEverywhere(100, 10, overrides, 30 * S).ratio).toBeLessThanOrEqual(within);
    });
  }
});

describe('200 nodes × 10 images at 8 nodes per image, 5 s pulls: more nodes than image slots', {
  timeout: PROPERTY_TEST_TIMEOUT_MS,
}, () => {
  it('pulls each node’s images back to back, without slowing convergence', () => {
    const pullMs = 5 * S;
    const limits = { maxConcurrentNodes: 8, minDelayBetweenPullsMs: 100 };
    const { run, ratio } = everyImageEverywhere(200, 10, limits, pullMs);
    expect(ratio).toBeLessThanOrEqual(1.02);
    // A node busy a fifth of the time, its pulls spread evenly, would wait ~5 s between them.
    const startsByNode = new Map<string, number[]>();
    for (const call of run.calls)
      for (const start of call.starts) {
        const starts = startsByNode.get(start.node) ?? [];
        starts.push(call.at);
        startsByNode.set(start.node, starts);
      }
    const gaps = [...startsByNode.values()]
      .flatMap((starts) => starts.slice(1).map((at, i) => at - (starts[i] ?? 0) - pullMs))
      .sort((a, b) => a - b);
    expect(gaps).toHaveLength(200 * 10 - 200);
    expect(gaps[Math.floor(gaps.length / 2)]).toBeLessThanOrEqual(1 * S);
  });
});

describe('400 nodes × 20 images at 20 nodes per image, three pulls per node sharing its bandwidth', {
  timeout: PROPERTY_TEST_TIMEOUT_MS,
}, () => {
  it('converges within 5% of the lower bound: a node’s pulls left each count a whole wave', () => {
    // Counting three pulls as one wave, as if they ran side by side at full speed, left the nodes
    // with the most work for last; pulls then shared those nodes and the run took 1.18 × the bound.
    const limits = { maxConcurrentNodes: 20, minDelayBetweenPullsMs: 100, maxConcurrentPullsPerNode: 3 };
    expect(everyImageEverywhere(400, 20, limits, 5 * S, true).ratio).toBeLessThanOrEqual(1.05);
  });
});
