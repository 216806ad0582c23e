import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  afterThrottle,
  EMPTY_HOST_RECORD,
  HOUR_MS,
  type HostCap,
  type HostRecord,
  hostBlockers,
  hostBudget,
  recentStarts,
  withStarts,
} from './hosts.ts';
import { EPOCH, PROPERTY_TEST_TIMEOUT_MS, runs } from './testing/arbitraries.ts';

const RUNS = 1_000;

const capArb: fc.Arbitrary<HostCap> = fc.record(
  {
    maxConcurrentPulls: fc.integer({ min: 1, max: 6 }),
    maxPullsPerHour: fc.integer({ min: 1, max: 20 }),
  },
  { requiredKeys: [] },
);

/** One step of a cluster: time passes, pulls end, rounds of several policies ask to start, a throttle. */
const stepArb = fc.record({
  advanceMs: fc.oneof(fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 0, max: 2 * HOUR_MS })),
  finished: fc.integer({ min: 0, max: 4 }),
  wanted: fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 3 }),
  throttle: fc.option(fc.constantFrom('429 Too Many Requests', 'toomanyrequests: Retry-After: 90'), {
    freq: 8,
    nil: undefined,
  }),
});

type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

/**
 * Replays the steps as the pacer does: each round of each policy reads the host's record, starts
 * as many as the budget allows (or fewer, if it wants fewer), and writes the starts back.
 */
function replay(cap: HostCap, steps: Step[]) {
  let now = EPOCH;
  let record: HostRecord = EMPTY_HOST_RECORD;
  let inFlight = 0;
  const log: {
    now: number;
    inFlight: number;
    admitted: number;
    wanted: number;
    budget: number;
    record: HostRecord;
  }[] = [];
  for (const step of steps) {
    now += step.advanceMs;
    inFlight = Math.max(0, inFlight - step.finished);
    if (step.throttle) record = afterThrottle(record, now, step.throttle);
    for (const wanted of step.wanted) {
      const budget = hostBudget(cap, record, inFlight, now);
      const admitted = Math.min(wanted, budget);
      log.push({ now, inFlight, admitted, wanted, budget, record });
      record = withStarts(record, admitted, now);
      inFlight += admitted;
    }
  }
  return { log, record };
}

describe('registry host limits, for random caps, rounds across policies, throttles and clocks', {
  timeout: PROPERTY_TEST_TIMEOUT_MS,
}, () => {
  const stepsArb = fc.array(stepArb, {
    minLength: 1,
    maxLength: 40,
  });

  it('never more pulls at once than maxConcurrentPulls, never more starts in any hour than maxPullsPerHour', () => {
    fc.assert(
      fc.property(capArb, stepsArb, (cap, steps) => {
        const { log } = replay(cap, steps);
        const starts = log.flatMap((l) => Array.from({ length: l.admitted }, () => l.now));
        for (const entry of log) {
          if (cap.maxConcurrentPulls !== undefined && entry.admitted > 0)
            expect(entry.inFlight + entry.admitted).toBeLessThanOrEqual(cap.maxConcurrentPulls);
        }
        if (cap.maxPullsPerHour !== undefined)
          for (const at of starts)
            expect(starts.filter((s) => s > at - HOUR_MS && s <= at).length).toBeLessThanOrEqual(
              cap.maxPullsPerHour,
            );
      }),
      runs(RUNS),
    );
  });

  it('starts nothing while a throttle pauses the host; otherwise exactly what the caps leave', () => {
    fc.assert(
      fc.property(capArb, stepsArb, (cap, steps) => {
        for (const entry of replay(cap, steps).log) {
          const paused = entry.record.pausedUntil !== undefined && entry.now < entry.record.pausedUntil;
          if (paused) expect(entry.admitted).toBe(0);
          // Maximal: a round that wanted more than it got was held by a limit that says so.
          const blockers = hostBlockers('h', cap, entry.record, entry.inFlight, entry.now);
          expect(entry.budget === 0).toBe(blockers.length > 0);
          if (entry.budget > 0) expect(entry.admitted).toBe(Math.min(entry.wanted, entry.budget));
        }
      }),
      runs(RUNS),
    );
  });

  it('a timed blocker ends exactly when it says: one millisecond before it still holds', () => {
    fc.assert(
      fc.property(capArb, stepsArb, (cap, steps) => {
        const { log } = replay(cap, steps);
        const last = log.at(-1)!;
        const record = withStarts(last.record, last.admitted, last.now);
        // With nothing in flight, only the hour and the pause can hold the host.
        for (const blocker of hostBlockers('h', cap, record, 0, last.now)) {
          if (!('until' in blocker)) continue;
          const held = (t: number) =>
            hostBlockers('h', cap, record, 0, t).some((b) => b.limit === blocker.limit);
          expect(held(blocker.until - 1)).toBe(true);
          expect(held(blocker.until)).toBe(false);
        }
        expect(recentStarts(record, last.now + HOUR_MS)).toEqual([]);
      }),
      runs(RUNS),
    );
  });
});
