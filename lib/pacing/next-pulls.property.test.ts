import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ImageDemand } from './demand.ts';
import { type NextPullsInput, nextPulls, type PacingDecision } from './next-pulls.ts';
import { PROPERTY_TEST_TIMEOUT_MS, pacingInputArb, runs } from './testing/arbitraries.ts';
import { at, backoffEnd, eligiblePairs, limitViolations, rotation, withStarts } from './testing/oracle.ts';

const RUNS = 2_000;

function property(check: (input: NextPullsInput, decision: PacingDecision) => void) {
  fc.assert(
    fc.property(pacingInputArb, (input) => {
      check(input, nextPulls(input));
    }),
    runs(RUNS),
  );
}

const priorities = (input: NextPullsInput) =>
  [...new Set(input.images.map((i) => i.priority))].sort((a, b) => b - a);
const priorityOf = (input: NextPullsInput, image: string) =>
  input.images.find((i) => i.name === image)?.priority;

describe('nextPulls, for random fleets, images, limits, in-flight sets and clocks', {
  timeout: PROPERTY_TEST_TIMEOUT_MS,
}, () => {
  it('never breaks a limit: each start is allowed by what is in flight plus the starts before it', () => {
    property((input, decision) => {
      expect(limitViolations(input, decision.starts)).toEqual([]);
    });
  });

  it('leaves no eligible slot idle', () => {
    property((input, decision) => {
      expect(eligiblePairs(withStarts(input, decision.starts))).toEqual([]);
    });
  });

  it('starts a lower priority only when no higher priority image could start', () => {
    property((input, decision) => {
      for (const priority of priorities(input)) {
        const higherOrEqual = decision.starts.filter((s) => (priorityOf(input, s.image) ?? 0) >= priority);
        const world = withStarts(input, higherOrEqual);
        expect(eligiblePairs(world, (i) => i.priority === priority)).toEqual([]);
      }
    });
  });

  it('serves each priority in turns: the first image after its cursor that can start, starts first', () => {
    property((input, decision) => {
      for (const priority of priorities(input)) {
        const higher = decision.starts.filter((s) => (priorityOf(input, s.image) ?? 0) > priority);
        const world = withStarts(input, higher);
        const group = input.images.filter((i) => i.priority === priority);
        const last =
          input.cursor && Object.hasOwn(input.cursor, String(priority))
            ? input.cursor[String(priority)]
            : undefined;
        const canStart = new Set(eligiblePairs(world, (i) => i.priority === priority).map((p) => p.image));
        const expectedFirst = rotation(
          group.map((i) => i.name),
          last,
        ).find((name) => canStart.has(name));
        const served = decision.starts.filter((s) => priorityOf(input, s.image) === priority);
        expect(served[0]?.image).toBe(expectedFirst);
        expect(decision.cursor[String(priority)]).toBe(served.at(-1)?.image ?? last);
      }
      expect(Object.keys(decision.cursor).sort()).toEqual(
        Object.keys(decision.cursor)
          .filter((key) => input.images.some((i) => String(i.priority) === key))
          .sort(),
      );
    });
  });

  it('explains every pending pull it does not start, once, and backoff with its retry time', () => {
    property((input, decision) => {
      const started = new Set(decision.starts.map((s) => `${s.image}/${s.node}`));
      const notStarted = input.images.flatMap((i) =>
        [...new Set(i.pendingNodes)]
          .filter((n) => !started.has(`${i.name}/${n}`))
          .map((n) => `${i.name}/${n}`),
      );
      expect(decision.waiting.map((w) => `${w.image}/${w.node}`).sort()).toEqual(notStarted.sort());
      for (const wait of decision.waiting) {
        const image = input.images.find((i) => i.name === wait.image) as ImageDemand;
        const end = backoffEnd(input, image, wait.node);
        const inBackoff = end !== undefined && input.now < end;
        expect(wait.reason === 'BackOff').toBe(inBackoff);
        if (inBackoff) expect(wait.retryAt).toBe(end);
        expect(wait.message).not.toBe('');
      }
    });
  });

  it('wakes exactly when time alone next lets a pull start', () => {
    property((input, decision) => {
      const after = withStarts(input, decision.starts);
      const wake = decision.nextWakeAt;
      if (wake === undefined) {
        expect(eligiblePairs(at(after, input.now + 10 ** 12))).toEqual([]);
        return;
      }
      expect(wake).toBeGreaterThan(input.now);
      expect(eligiblePairs(at(after, wake))).not.toEqual([]);
      if (wake - 1 > input.now) expect(eligiblePairs(at(after, wake - 1))).toEqual([]);
    });
  });

  it('summarises exactly what it would list: the same starts, wake, count and limit per pair', () => {
    fc.assert(
      fc.property(pacingInputArb, (input) => {
        const each = nextPulls({ ...input, explain: 'each' });
        const summary = nextPulls({ ...input, explain: 'summary' });
        expect(summary.starts).toEqual(each.starts);
        expect(summary.cursor).toEqual(each.cursor);
        expect(summary.nextWakeAt).toEqual(each.nextWakeAt);
        expect(summary.waitingCount).toBe(each.waiting.length);
        const counted = new Map<string, number>();
        for (const w of each.waiting)
          counted.set(`${w.image} ${w.limit}`, (counted.get(`${w.image} ${w.limit}`) ?? 0) + 1);
        expect(new Map(summary.waitingSummary.map((g) => [`${g.image} ${g.limit}`, g.nodes]))).toEqual(
          counted,
        );
        for (const group of summary.waitingSummary) {
          const pairs = each.waiting.filter((w) => w.image === group.image && w.limit === group.limit);
          expect(group.examples).toEqual(pairs.slice(0, 3).map((w) => w.node));
          expect(group.message).toBe(pairs[0]?.message);
        }
      }),
      runs(RUNS),
    );
  });

  it('says when to wake and how many wait exactly as it would list them, without listing', () => {
    fc.assert(
      fc.property(pacingInputArb, (input) => {
        const each = nextPulls({ ...input, explain: 'each' });
        const wake = nextPulls({ ...input, explain: 'wake' });
        expect(wake.starts).toEqual(each.starts);
        expect(wake.nextWakeAt).toEqual(each.nextWakeAt);
        expect(wake.waitingCount).toBe(each.waiting.length);
      }),
      runs(RUNS),
    );
  });

  it('decides the same for the same input, whatever order its lists come in', () => {
    fc.assert(
      fc.property(pacingInputArb, fc.integer(), (input, seed) => {
        const shuffled: NextPullsInput = {
          ...input,
          images: shuffle(
            input.images.map((i) => ({ ...i, pendingNodes: shuffle(i.pendingNodes, seed + 1) })),
            seed,
          ),
          inFlight: shuffle(input.inFlight, seed + 2),
        };
        const decision = nextPulls(input);
        expect(nextPulls(input)).toEqual(decision);
        expect(nextPulls(shuffled)).toEqual(decision);
      }),
      runs(RUNS),
    );
  });
});

/** A seeded Fisher–Yates shuffle (a small LCG), so a failing case replays. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('nextPulls over a horizon, for random inputs', { timeout: PROPERTY_TEST_TIMEOUT_MS }, () => {
  // Horizons of a few minDelays, so that most inputs have starts spread over them.
  const withHorizon = fc
    .tuple(pacingInputArb, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 999 }))
    .map(([input, delays, extra]) => [input, delays * input.limits.minDelayBetweenPullsMs + extra] as const);

  it('starts each pull within the horizon, an image’s starts minDelay apart, and breaks no other limit', () => {
    fc.assert(
      fc.property(withHorizon, ([input, horizonMs]) => {
        const decision = nextPulls({ ...input, horizonMs });
        const { now, limits } = input;
        const times = new Map<string, number[]>();
        for (const start of decision.starts) {
          const when = start.at ?? now;
          expect(when).toBeGreaterThanOrEqual(now);
          expect(when).toBeLessThanOrEqual(now + horizonMs);
          if (start.at !== undefined) expect(start.at).toBeGreaterThan(now);
          times.set(start.image, [...(times.get(start.image) ?? []), when]);
        }
        for (const [name, starts] of times) {
          const image = input.images.find((i) => i.name === name);
          const before = [
            image?.lastStartAt,
            ...input.inFlight.filter((p) => p.image === name).map((p) => p.startedAt),
          ].filter((t): t is number => t !== undefined);
          const all = [...(before.length > 0 ? [Math.max(...before)] : []), ...starts];
          for (let i = 1; i < all.length; i++)
            expect(all[i]! - all[i - 1]!).toBeGreaterThanOrEqual(limits.minDelayBetweenPullsMs);
        }
        // Every limit but the spacing, which the loop above checks with each start's own time.
        const counted = {
          ...input,
          limits: { ...limits, minDelayBetweenPullsMs: 0 },
          images: input.images.map((i) => ({ ...i, lastStartAt: undefined })),
          inFlight: input.inFlight.map((p) => ({ ...p, startedAt: now })),
        };
        expect(limitViolations(counted, decision.starts)).toEqual([]);
      }),
      runs(RUNS),
    );
  });

  it('decides exactly as without one when the horizon is 0', () => {
    property((input, decision) => {
      expect(nextPulls({ ...input, horizonMs: 0 })).toEqual(decision);
    });
  });
});
