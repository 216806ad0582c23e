import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HostState } from './demand.ts';
import { HOUR_MS, hostBudget } from './hosts.ts';
import { type NextPullsInput, nextPulls } from './next-pulls.ts';
import { PROPERTY_TEST_TIMEOUT_MS, pacingInputArb, runs } from './testing/arbitraries.ts';

const RUNS = 1_500;
const HOSTS = ['docker.io', 'ghcr.io', 'registry.example:5000'];

/** A pacing input whose images come from a few hosts, some capped, some paused, some with starts this hour. */
const withHostsArb = pacingInputArb.chain((input) =>
  fc
    .record({
      hostOf: fc.array(fc.constantFrom(...HOSTS), {
        minLength: input.images.length,
        maxLength: input.images.length,
      }),
      states: fc.tuple(
        ...HOSTS.map(() =>
          fc.record({
            cap: fc.option(
              fc.record(
                {
                  maxConcurrentPulls: fc.integer({ min: 1, max: 5 }),
                  maxPullsPerHour: fc.integer({ min: 1, max: 8 }),
                },
                { requiredKeys: [] },
              ),
              { nil: undefined },
            ),
            paused: fc.option(fc.integer({ min: -60_000, max: 600_000 }), { nil: undefined }),
            startsAgo: fc.array(fc.integer({ min: 0, max: 2 * HOUR_MS }), { maxLength: 8 }),
            inFlight: fc.integer({ min: 0, max: 4 }),
          }),
        ),
      ),
    })
    .map(({ hostOf, states }): NextPullsInput => {
      const hosts = new Map<string, HostState>(
        HOSTS.map((host, i) => {
          const s = states[i]!;
          return [
            host,
            {
              ...(s.cap ? { cap: s.cap } : {}),
              record: {
                starts: s.startsAgo.map((ago) => input.now - ago),
                ...(s.paused !== undefined ? { pausedUntil: input.now + s.paused } : {}),
              },
              inFlight: s.inFlight,
            },
          ];
        }),
      );
      return {
        ...input,
        images: input.images.map((image, i) => ({ ...image, host: hostOf[i] })),
        hosts,
      };
    }),
);

function hostOfStart(input: NextPullsInput, image: string): string {
  return input.images.find((i) => i.name === image)?.host ?? '';
}

describe('nextPulls with registry host limits, for random fleets, hosts, caps, pauses and clocks', {
  timeout: PROPERTY_TEST_TIMEOUT_MS,
}, () => {
  it('starts from a host no more than its cap and its hour leave, and nothing while it is paused', () => {
    fc.assert(
      fc.property(withHostsArb, (input) => {
        const decision = nextPulls(input);
        for (const [host, state] of input.hosts ?? []) {
          const started = decision.starts.filter((s) => hostOfStart(input, s.image) === host).length;
          expect(started).toBeLessThanOrEqual(hostBudget(state.cap, state.record, state.inFlight, input.now));
        }
      }),
      runs(RUNS),
    );
  });

  it('a host limit only ever takes starts away: without host states the decision is the one without hosts', () => {
    fc.assert(
      fc.property(withHostsArb, (input) => {
        const { hosts: _, ...unlimited } = input;
        const plain = nextPulls({ ...unlimited, images: input.images.map(({ host: _h, ...i }) => i) });
        expect(nextPulls(unlimited).starts).toEqual(plain.starts);
        expect(nextPulls(input).starts.length).toBeLessThanOrEqual(plain.starts.length);
      }),
      runs(RUNS),
    );
  });

  it('every waiting pull of a paused host is said to wait for the registry, and wakes when the pause ends', () => {
    fc.assert(
      fc.property(withHostsArb, (input) => {
        const decision = nextPulls({ ...input, explain: 'each' });
        for (const waiting of decision.waiting) {
          const host = hostOfStart(input, waiting.image);
          const until = input.hosts?.get(host)?.record.pausedUntil;
          if (until === undefined || input.now >= until) continue;
          const image = input.images.find((i) => i.name === waiting.image);
          // An image-wide limit of its own may come first; the node's backoff or slot may too.
          if (waiting.limit === 'registryRateLimited') {
            expect(waiting.reason).toBe('RegistryRateLimited');
            expect(waiting.message).toContain(`registry ${host} rate-limited`);
          }
          expect(image).toBeDefined();
        }
        if (decision.nextWakeAt !== undefined) expect(decision.nextWakeAt).toBeGreaterThan(input.now);
      }),
      runs(RUNS),
    );
  });
});
