import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newNodesOf } from './new-nodes.ts';
import { type NextPullsInput, nextPulls } from './next-pulls.ts';
import { EPOCH, POLICY, PROPERTY_TEST_TIMEOUT_MS, pacingInputArb, runs } from './testing/arbitraries.ts';
import { eligiblePairs, limitViolations, withStarts } from './testing/oracle.ts';

const RUNS = 2_000;

/** The random inputs of the scheduler's own properties, with a random subset of their nodes new. */
const withNewNodesArb: fc.Arbitrary<NextPullsInput> = pacingInputArb.chain((input) => {
  const nodes = [
    ...new Set([...input.images.flatMap((i) => i.pendingNodes), ...input.inFlight.map((p) => p.node)]),
  ].sort();
  return fc.subarray(nodes).map((fresh) => ({ ...input, newNodes: new Set(fresh) }));
});

function property(check: (input: NextPullsInput & { newNodes: ReadonlySet<string> }) => void) {
  fc.assert(
    fc.property(withNewNodesArb, (input) =>
      check(input as NextPullsInput & { newNodes: ReadonlySet<string> }),
    ),
    runs(RUNS),
  );
}

const priorityOf = (input: NextPullsInput, image: string) =>
  input.images.find((i) => i.name === image)?.priority ?? 0;

describe('new nodes first, for random fleets, limits, in-flight sets and new nodes', {
  timeout: PROPERTY_TEST_TIMEOUT_MS,
}, () => {
  it('never breaks a limit', () => {
    property((input) => {
      expect(limitViolations(input, nextPulls(input).starts)).toEqual([]);
    });
  });

  it('leaves no eligible slot idle', () => {
    property((input) => {
      expect(eligiblePairs(withStarts(input, nextPulls(input).starts))).toEqual([]);
    });
  });

  it('starts a lower priority only when no higher priority image could start', () => {
    property((input) => {
      const { starts } = nextPulls(input);
      for (const priority of new Set(input.images.map((i) => i.priority))) {
        const world = withStarts(
          input,
          starts.filter((s) => priorityOf(input, s.image) >= priority),
        );
        expect(eligiblePairs(world, (i) => i.priority === priority)).toEqual([]);
      }
    });
  });

  it('routine work never takes a slot a new node of its priority could have used', () => {
    property((input) => {
      const { starts } = nextPulls(input);
      for (const priority of new Set(input.images.map((i) => i.priority))) {
        // Without the starts on older nodes of this priority (and everything below it), no pending
        // pull on a new node of this priority could start: they were not what held it back.
        const world = withStarts(
          input,
          starts.filter((s) => {
            const p = priorityOf(input, s.image);
            return p > priority || (p === priority && input.newNodes.has(s.node));
          }),
        );
        const waitingOnNew = eligiblePairs(world, (i) => i.priority === priority).filter((pair) =>
          input.newNodes.has(pair.node),
        );
        expect(waitingOnNew).toEqual([]);
      }
    });
  });

  it('when every pending node is new, decides exactly as without the rule', () => {
    property((input) => {
      const { newNodes: _ignored, ...plain } = input;
      const everyNode = new Set(input.images.flatMap((i) => i.pendingNodes));
      expect(nextPulls({ ...input, newNodes: everyNode })).toEqual(nextPulls(plain));
    });
  });

  it('with no new node, decides exactly as before', () => {
    property((input) => {
      const { newNodes: _ignored, ...plain } = input;
      expect(nextPulls({ ...input, newNodes: new Set() })).toEqual(nextPulls(plain));
    });
  });
});

describe('new nodes first, by example', () => {
  const limits = {
    maxConcurrentNodes: 1,
    minDelayBetweenPullsMs: 0,
    maxConcurrentPullsPerNode: 1,
    failureBackoff: { initialMs: 30_000, maxMs: 300_000 },
  };
  const image = (name: string, pendingNodes: string[], priority = 0) => ({ name, priority, pendingNodes });

  it("an image's one slot goes to the node that just joined, ahead of the older nodes of a rollout", () => {
    const decision = nextPulls({
      policy: POLICY,
      limits,
      images: [image('app', ['a', 'b', 'c', 'z-new'])],
      inFlight: [],
      now: EPOCH,
      newNodes: new Set(['z-new']),
    });
    expect(decision.starts).toEqual([{ image: 'app', node: 'z-new' }]);
  });

  it('a policy cap goes to the new node first, whichever image is next in turn', () => {
    const decision = nextPulls({
      policy: POLICY,
      limits: { ...limits, maxConcurrentPulls: 1 },
      images: [image('a-tools', ['old-1', 'old-2']), image('b-app', ['old-1', 'new-1'])],
      inFlight: [],
      now: EPOCH,
      newNodes: new Set(['new-1']),
    });
    expect(decision.starts).toEqual([{ image: 'b-app', node: 'new-1' }]);
  });

  it('a node is new for fifteen minutes after it joined', () => {
    const now = EPOCH + 60 * 60_000;
    const joined = new Map([
      ['joined-now', now - 1_000],
      ['joined-14m', now - 14 * 60_000],
      ['joined-15m', now - 15 * 60_000],
    ]);
    const nodes = [...joined.keys(), 'unknown'];
    expect([...newNodesOf(nodes, (n) => joined.get(n), now)].sort()).toEqual(['joined-14m', 'joined-now']);
  });
});
