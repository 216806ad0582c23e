import fc from 'fast-check';
import type { PacingLimits } from '../../policy/limits.ts';
import type { ImageDemand, InFlightPull, NodeFailure } from '../demand.ts';
import type { NextPullsInput } from '../next-pulls.ts';

/** 2026-01-01T00:00:00Z: a clock far from 0, as real epoch times are. */
export const EPOCH = 1_767_225_600_000;

export const POLICY = 'fleet';

export function names(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}

const count = (max: number) =>
  fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 9, arbitrary: fc.integer({ min: 1, max }) });

export const limitsArb: fc.Arbitrary<PacingLimits> = fc.record({
  maxConcurrentNodes: count(4),
  minDelayBetweenPullsMs: fc.oneof(fc.constant(0), fc.constant(10_000), fc.integer({ min: 0, max: 30_000 })),
  maxConcurrentPulls: fc.option(count(12), { nil: undefined }),
  maxConcurrentPullsPerNode: count(3),
  failureBackoff: fc.integer({ min: 1_000, max: 60_000 }).chain((initialMs) =>
    fc.record({
      initialMs: fc.constant(initialMs),
      maxMs: fc.integer({ min: initialMs, max: initialMs * 16 }),
    }),
  ),
});

function failuresArb(nodes: readonly string[], now: number) {
  const record: fc.Arbitrary<NodeFailure> = fc.record({
    failures: fc.integer({ min: 0, max: 6 }),
    lastFailedAt: fc.integer({ min: now - 600_000, max: now }),
  });
  const entries = fc.uniqueArray(fc.tuple(fc.constantFrom(...nodes), record), {
    selector: ([node]) => node,
    maxLength: 8,
  });
  // Both shapes the API accepts: a Map, or a plain object as built from status.
  return fc.option(
    fc.oneof(
      entries.map((e) => new Map(e)),
      entries.map((e) => Object.fromEntries(e)),
    ),
    { nil: undefined },
  );
}

function imageArb(name: string, nodes: readonly string[], now: number): fc.Arbitrary<ImageDemand> {
  return fc.record({
    name: fc.constant(name),
    priority: fc.integer({ min: 0, max: 2 }),
    // Mostly clean subsets; sometimes shuffled with duplicates, which the caller should not send but may.
    pendingNodes: fc.oneof(
      { weight: 4, arbitrary: fc.subarray([...nodes]) },
      { weight: 1, arbitrary: fc.array(fc.constantFrom(...nodes), { maxLength: nodes.length + 3 }) },
    ),
    failures: failuresArb(nodes, now),
    lastStartAt: fc.option(fc.integer({ min: now - 40_000, max: now + 5_000 }), { nil: undefined }),
  });
}

function inFlightArb(
  images: readonly string[],
  nodes: readonly string[],
  now: number,
): fc.Arbitrary<InFlightPull[]> {
  const pull = fc.record({
    image: fc.constantFrom(...images, 'foreign-a', 'foreign-b'),
    node: fc.constantFrom(...nodes),
    policy: fc.constantFrom(POLICY, POLICY, 'other'),
    startedAt: fc.integer({ min: now - 60_000, max: now }),
  });
  // Up to 40 pulls on at most 30 nodes: often at or over some limit already.
  return fc.array(pull, { maxLength: 40 });
}

/** Random fleets (1–30 nodes), images (1–8), limits, in-flight sets, cursors and clocks. */
export const pacingInputArb: fc.Arbitrary<NextPullsInput> = fc
  .record({
    nodeCount: fc.integer({ min: 1, max: 30 }),
    imageCount: fc.integer({ min: 1, max: 8 }),
    now: fc.integer({ min: EPOCH, max: EPOCH + 86_400_000 }),
  })
  .chain(({ nodeCount, imageCount, now }) => {
    const nodes = names('node', nodeCount);
    const images = names('img', imageCount);
    return fc.record({
      policy: fc.constant(POLICY),
      limits: limitsArb,
      images: fc.tuple(...images.map((name) => imageArb(name, nodes, now))),
      inFlight: inFlightArb(images, nodes, now),
      cursor: fc.option(
        fc.dictionary(fc.constantFrom('0', '1', '2', '9'), fc.constantFrom(...images, 'img-', 'zzz')),
        {
          nil: undefined,
        },
      ),
      now: fc.constant(now),
    });
  });

/**
 * fast-check parameters: `numRuns` runs, or FC_RUNS for a longer soak; the seed from FC_SEED when
 * set, to replay a failure.
 */
/**
 * What a property test may take: thousands of runs take a second on an idle machine and many
 * times that on a busy one (CI shares its cores), so the budget is generous and explicit rather
 * than vitest's 5 s default. The run count, not the clock, is what the test promises.
 */
export const PROPERTY_TEST_TIMEOUT_MS = 300_000;

export function runs(numRuns: number): fc.Parameters<unknown> {
  const soak = Number(process.env.FC_RUNS);
  const seed = process.env.FC_SEED;
  const params = { numRuns: soak > 0 ? soak : numRuns };
  return seed === undefined ? params : { ...params, seed: Number(seed) };
}
