import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../policy/backoff.ts';
import { DEFAULT_PACING_LIMITS, type PacingLimits } from '../policy/limits.ts';
import type { ImageDemand, InFlightPull } from './demand.ts';
import { type NextPullsInput, nextPulls } from './next-pulls.ts';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const SECOND = 1_000;

function image(name: string, pendingNodes: readonly string[], extra: Partial<ImageDemand> = {}): ImageDemand {
  return { name, priority: 0, pendingNodes, ...extra };
}

function pulling(image: string, node: string, extra: Partial<InFlightPull> = {}): InFlightPull {
  return { image, node, policy: 'fleet', startedAt: NOW - 5 * SECOND, ...extra };
}

function decide(input: Partial<Omit<NextPullsInput, 'limits'>> & { limits?: Partial<PacingLimits> }) {
  return nextPulls({
    policy: 'fleet',
    images: [],
    inFlight: [],
    now: NOW,
    ...input,
    limits: { ...DEFAULT_PACING_LIMITS, ...input.limits },
  });
}

describe('nextPulls', () => {
  it('starts one node per image under the default policy', () => {
    const decision = decide({ images: [image('ci', ['node-a', 'node-b'])] });
    expect(decision.starts).toEqual([{ image: 'ci', node: 'node-a' }]);
    expect(decision.waiting).toMatchObject([{ image: 'ci', node: 'node-b', reason: 'WaitingForSlot' }]);
  });

  it('a second image waits while the node pulls the first', () => {
    const decision = decide({
      images: [image('ci', []), image('tools', ['node-a'])],
      inFlight: [pulling('ci', 'node-a')],
    });
    expect(decision.starts).toEqual([]);
    expect(decision.waiting).toEqual([
      {
        image: 'tools',
        node: 'node-a',
        reason: 'WaitingForSlot',
        limit: 'maxConcurrentPullsPerNode',
        message: 'waiting for pacing slot: node has 1 Drop pull in flight (maxConcurrentPullsPerNode: 1)',
      },
    ]);
  });

  it("counts other policies' pulls on a node", () => {
    const decision = decide({
      images: [image('ci', ['node-a'])],
      inFlight: [pulling('web', 'node-a', { policy: 'other' })],
    });
    expect(decision.starts).toEqual([]);
  });

  it("does not count other policies' pulls against maxConcurrentPulls", () => {
    const decision = decide({
      limits: { maxConcurrentPulls: 1 },
      images: [image('ci', ['node-a'])],
      inFlight: [pulling('web', 'node-b', { policy: 'other' })],
    });
    expect(decision.starts).toEqual([{ image: 'ci', node: 'node-a' }]);
  });

  it('a failed node waits for its backoff, then is retried', () => {
    const failedAt = NOW - 40 * SECOND;
    const demand = image('ci', ['node-a'], {
      failures: { 'node-a': { failures: 2, lastFailedAt: failedAt } },
    });
    const retryAt = failedAt + 60 * SECOND; // 30s · 2^(2−1)
    const waiting = decide({ images: [demand] });
    expect(waiting.starts).toEqual([]);
    expect(waiting.waiting).toMatchObject([
      { node: 'node-a', reason: 'BackOff', limit: 'failureBackoff', retryAt },
    ]);
    expect(waiting.nextWakeAt).toBe(retryAt);
    expect(decide({ images: [demand], now: retryAt }).starts).toEqual([{ image: 'ci', node: 'node-a' }]);
  });

  it('accepts failures as a Map', () => {
    const failures = new Map([['node-a', { failures: 1, lastFailedAt: NOW }]]);
    const decision = decide({ images: [image('ci', ['node-a', 'node-b'], { failures })] });
    expect(decision.starts).toEqual([{ image: 'ci', node: 'node-b' }]);
  });

  it('keeps successive starts of one image minDelayBetweenPulls apart and says when to wake', () => {
    const decision = decide({
      limits: { maxConcurrentNodes: 5, minDelayBetweenPullsMs: 10 * SECOND },
      images: [image('ci', ['node-a', 'node-b'], { lastStartAt: NOW - 4 * SECOND })],
    });
    expect(decision.starts).toEqual([]);
    expect(decision.nextWakeAt).toBe(NOW + 6 * SECOND);
    expect(decision.waiting[0]).toMatchObject({ reason: 'WaitingForSlot', limit: 'minDelayBetweenPulls' });
  });

  it('counts the start of a pull in flight as the last start, even when the caller lost lastStartAt', () => {
    const decision = decide({
      limits: { maxConcurrentNodes: 5 },
      images: [image('ci', ['node-b'])],
      inFlight: [pulling('ci', 'node-a', { startedAt: NOW - 2 * SECOND })],
    });
    expect(decision.starts).toEqual([]);
    expect(decision.nextWakeAt).toBe(NOW + 8 * SECOND);
  });

  it('starts several nodes of one image at once when minDelay is 0', () => {
    const decision = decide({
      limits: { maxConcurrentNodes: 2, minDelayBetweenPullsMs: 0 },
      images: [image('ci', ['node-a', 'node-b', 'node-c'])],
    });
    expect(decision.starts).toEqual([
      { image: 'ci', node: 'node-a' },
      { image: 'ci', node: 'node-b' },
    ]);
    expect(decision.waiting).toMatchObject([{ node: 'node-c', limit: 'maxConcurrentNodes' }]);
    expect(decision.nextWakeAt).toBeUndefined();
  });

  it('stops at the policy-wide cap', () => {
    const decision = decide({
      limits: { maxConcurrentPulls: 2 },
      images: [image('a', ['n1']), image('b', ['n2']), image('c', ['n3'])],
      inFlight: [pulling('gone', 'n9')],
    });
    expect(decision.starts).toEqual([{ image: 'a', node: 'n1' }]);
    expect(decision.waiting).toMatchObject([
      { image: 'b', limit: 'maxConcurrentPulls' },
      { image: 'c', limit: 'maxConcurrentPulls' },
    ]);
  });

  it('higher priority images start first', () => {
    const decision = decide({
      images: [image('low', ['node-a']), image('high', ['node-a'], { priority: 10 })],
    });
    expect(decision.starts).toEqual([{ image: 'high', node: 'node-a' }]);
  });

  it('images of equal priority take turns', () => {
    const images = [image('a', ['n1']), image('b', ['n1']), image('c', ['n1'])];
    const served: string[] = [];
    let cursor = decide({ images }).cursor;
    for (let round = 0; round < 4; round++) {
      const decision = decide({ images, cursor });
      served.push(...decision.starts.map((s) => s.image));
      cursor = decision.cursor;
    }
    expect(served).toEqual(['b', 'c', 'a', 'b']);
  });

  it('keeps a turn per priority, so a lower-priority start does not reset the higher rotation', () => {
    const images = [
      image('a', ['n1'], { priority: 1 }),
      image('c', ['n1'], { priority: 1 }),
      image('b', ['n2']),
    ];
    const first = decide({ images });
    expect(first.starts).toEqual([
      { image: 'a', node: 'n1' },
      { image: 'b', node: 'n2' },
    ]);
    expect(first.cursor).toEqual({ '1': 'a', '0': 'b' });
    expect(decide({ images, cursor: first.cursor }).starts[0]).toEqual({ image: 'c', node: 'n1' });
  });

  it('drops cursor entries of priorities no image has any more', () => {
    expect(decide({ images: [image('a', [])], cursor: { '0': 'a', '5': 'x' } }).cursor).toEqual({ '0': 'a' });
  });

  it('prefers idle nodes, then the nodes with the most pending work', () => {
    const decision = decide({
      limits: { maxConcurrentPullsPerNode: 2, minDelayBetweenPullsMs: 0, maxConcurrentNodes: 1 },
      images: [image('a', ['n1', 'n2', 'n3']), image('b', ['n3'])],
      inFlight: [pulling('x', 'n1', { policy: 'other' })],
    });
    expect(decision.starts).toEqual([
      { image: 'a', node: 'n3' },
      { image: 'b', node: 'n3' },
    ]);
  });

  it('among nodes that do not bound convergence, serves the one closest to done first', () => {
    // `a` needs six waves through its one slot; n1..n3 have two pulls left, n4..n6 one: none comes
    // near six waves, so `a` finishes a node (n4) rather than leave a pull on each of n1..n3.
    const decision = decide({
      limits: { maxConcurrentNodes: 1, minDelayBetweenPullsMs: 0 },
      images: [image('a', ['n1', 'n2', 'n3', 'n4', 'n5', 'n6']), image('b', ['n1', 'n2', 'n3'])],
    });
    expect(decision.starts).toEqual([
      { image: 'a', node: 'n4' },
      { image: 'b', node: 'n1' },
    ]);
  });

  it('serves first a node whose pulls left would outlast the images’ waves', () => {
    // n1 has five pulls left, within two waves of `a`'s six: left for later it would finish last.
    // b..e wait for their one slot each, held elsewhere.
    const others = ['b', 'c', 'd', 'e'];
    const decision = decide({
      limits: { maxConcurrentNodes: 1, minDelayBetweenPullsMs: 0 },
      images: [
        image('a', ['n1', 'n2', 'n3', 'n4', 'n5', 'n6']),
        ...others.map((name) => image(name, ['n1'])),
      ],
      inFlight: others.map((name) => pulling(name, 'n9')),
    });
    expect(decision.starts).toEqual([{ image: 'a', node: 'n1' }]);
  });

  it('moves an earlier start to another node rather than leave a node idle', () => {
    // `a` alone would take n1 (the node with more work); then `b`, which can only use n1, would wait
    // while n2 idles. Moving `a` to n2 starts both.
    const decision = decide({ images: [image('a', ['n1', 'n2']), image('b', ['n1'])] });
    expect(decision.starts).toEqual([
      { image: 'a', node: 'n2' },
      { image: 'b', node: 'n1' },
    ]);
    expect(decision.waiting).toMatchObject([{ image: 'a', node: 'n1', limit: 'maxConcurrentPullsPerNode' }]);
  });

  it('never starts a second pull of an image on a node already pulling it', () => {
    const decision = decide({
      limits: { maxConcurrentPullsPerNode: 3 },
      images: [image('ci', ['n1'])],
      inFlight: [pulling('ci', 'n1')],
    });
    expect(decision.starts).toEqual([]);
    expect(decision.waiting).toMatchObject([{ reason: 'Pulling', limit: 'alreadyPulling' }]);
  });

  it('starts nothing when the fleet is already over its limits', () => {
    const decision = decide({
      limits: { maxConcurrentNodes: 1, maxConcurrentPulls: 1 },
      images: [image('ci', ['n3']), image('tools', ['n4'])],
      inFlight: [pulling('ci', 'n1'), pulling('ci', 'n2')],
    });
    expect(decision.starts).toEqual([]);
  });

  it('lists each pending node once, even if the caller repeats it', () => {
    const decision = decide({ images: [image('ci', ['n1', 'n2', 'n1'])] });
    expect(decision.waiting.map((w) => w.node)).toEqual(['n2']);
  });
});

describe('backoffDelayMs', () => {
  const backoff = { initialMs: 30 * SECOND, maxMs: 300 * SECOND };

  it('doubles from initial and stops at max', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 50_000].map((n) => backoffDelayMs(n, backoff) / SECOND)).toEqual([
      0, 30, 60, 120, 240, 300, 300, 300,
    ]);
  });
});

describe('nextPulls over a horizon', () => {
  const nodes = ['node-a', 'node-b', 'node-c', 'node-d', 'node-e', 'node-f'];
  const limits = { maxConcurrentNodes: 6, minDelayBetweenPullsMs: 100 };

  it('without one, an image starts once per call when minDelay holds it', () => {
    const decision = decide({ limits, images: [image('ci', nodes)] });
    expect(decision.starts).toEqual([{ image: 'ci', node: 'node-a' }]);
  });

  it('spreads an image’s starts over it, minDelay apart, the first now', () => {
    const decision = decide({ limits, horizonMs: 350, images: [image('ci', nodes)] });
    expect(decision.starts).toEqual([
      { image: 'ci', node: 'node-a' },
      { image: 'ci', node: 'node-b', at: NOW + 100 },
      { image: 'ci', node: 'node-c', at: NOW + 200 },
      { image: 'ci', node: 'node-d', at: NOW + 300 },
    ]);
    expect(decision.waitingCount).toBe(2);
  });

  it('counts from the image’s last start, and starts nothing past the horizon', () => {
    const recent = decide({
      limits,
      horizonMs: 100,
      images: [image('ci', nodes, { lastStartAt: NOW - 50 })],
    });
    expect(recent.starts).toEqual([{ image: 'ci', node: 'node-a', at: NOW + 50 }]);
    const tooRecent = decide({
      limits,
      horizonMs: 40,
      images: [image('ci', nodes, { lastStartAt: NOW - 50 })],
    });
    expect(tooRecent.starts).toEqual([]);
  });

  it('keeps every other limit: the image’s node count, the policy cap, the node cap', () => {
    const few = decide({
      limits: { ...limits, maxConcurrentNodes: 2 },
      horizonMs: 1_000,
      images: [image('ci', nodes)],
    });
    expect(few.starts).toHaveLength(2);
    const policyCap = decide({
      limits: { ...limits, maxConcurrentPulls: 3 },
      horizonMs: 1_000,
      images: [image('ci', nodes), image('tools', nodes)],
    });
    expect(policyCap.starts).toHaveLength(3);
    const oneNode = decide({
      limits,
      horizonMs: 1_000,
      images: [image('ci', ['node-a']), image('tools', ['node-a'])],
    });
    expect(oneNode.starts).toEqual([{ image: 'ci', node: 'node-a' }]);
  });

  it('images take turns: each gets its first start now', () => {
    const decision = decide({ limits, horizonMs: 150, images: [image('ci', nodes), image('tools', nodes)] });
    expect(decision.starts.filter((s) => s.at === undefined).map((s) => s.image)).toEqual(['ci', 'tools']);
    expect(decision.starts.filter((s) => s.at === NOW + 100).map((s) => s.image)).toEqual(['ci', 'tools']);
    expect(decision.starts).toHaveLength(4);
  });
});
