import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Taint } from '../../lib/kube/core.ts';
import { type MarkedImage, type NodeSeen, removalEvent, startupTaintPlan } from './startup-taint.ts';

const JOINED = Date.parse('2026-12-03T10:00:00Z');
const MINUTE = 60_000;
const warming = { key: 'drop.corewire.io/warming', effect: 'NoSchedule' as const, timeoutMs: 10 * MINUTE };
const WARMING_TAINT: Taint = { key: warming.key, value: 'true', effect: 'NoSchedule' };
const GPU_TAINT: Taint = { key: 'nvidia.com/gpu', effect: 'NoSchedule' };

function node(name: string, taints: readonly Taint[] = [WARMING_TAINT], ready = true): NodeSeen {
  return { name, createdAt: JOINED, ready, taints };
}

function image(name: string, cachedNodes: readonly string[], targets = ['n1']): MarkedImage {
  return { name, taint: warming, targets, cachedNodes };
}

describe('startupTaintPlan', () => {
  it('removes the taint once every marked image that targets the node is cached there', () => {
    const plan = startupTaintPlan([node('n1')], [image('app', ['n1']), image('db', ['n1'])], JOINED + MINUTE);
    expect(plan.remove).toEqual([
      {
        node: 'n1',
        key: warming.key,
        effect: 'NoSchedule',
        before: [WARMING_TAINT],
        after: [],
        why: 'warm',
        notCached: [],
        marked: 2,
      },
    ]);
  });

  it('lets an image refused until someone changes it (ImageTooLarge) never hold the node', () => {
    const tooLarge = { ...image('huge', []), refused: 'ImageTooLarge' };
    const plan = startupTaintPlan([node('n1')], [image('app', ['n1']), tooLarge], JOINED + MINUTE);
    expect(plan.remove.map((r) => [r.node, r.why, r.marked])).toEqual([['n1', 'warm', 1]]);
    const alone = startupTaintPlan([node('n1')], [tooLarge], JOINED + MINUTE);
    expect(alone.remove.map((r) => [r.node, r.why, r.marked])).toEqual([['n1', 'warm', 0]]);
    expect(removalEvent(alone.remove[0]!).note).toBe(
      'Removed drop.corewire.io/warming:NoSchedule: no image to warm targets the node',
    );
  });

  it('keeps the taint while an image is missing, and says when its deadline comes', () => {
    const plan = startupTaintPlan([node('n1')], [image('app', ['n1']), image('db', [])], JOINED + MINUTE);
    expect(plan.remove).toEqual([]);
    expect(plan.nextDeadlineAt).toBe(JOINED + 10 * MINUTE);
  });

  it('removes it at the deadline whatever is missing, naming what is', () => {
    const plan = startupTaintPlan(
      [node('n1')],
      [image('app', ['n1']), image('db', [])],
      JOINED + 10 * MINUTE,
    );
    expect(plan.remove.map((r) => [r.why, r.notCached])).toEqual([['deadline', ['db']]]);
    expect(plan.nextDeadlineAt).toBeUndefined();
  });

  it('counts only the images that target the node', () => {
    const elsewhere = image('gpu-only', [], ['gpu-1']);
    const plan = startupTaintPlan([node('n1')], [image('app', ['n1']), elsewhere], JOINED + MINUTE);
    expect(plan.remove.map((r) => [r.node, r.why, r.marked])).toEqual([['n1', 'warm', 1]]);
  });

  it('waits for a node that is not Ready yet: no image targets it, which proves nothing', () => {
    const plan = startupTaintPlan([node('n1', [WARMING_TAINT], false)], [image('app', [], [])], JOINED);
    expect(plan.remove).toEqual([]);
    const late = startupTaintPlan(
      [node('n1', [WARMING_TAINT], false)],
      [image('app', [], [])],
      JOINED + 11 * MINUTE,
    );
    expect(late.remove.map((r) => [r.why, r.notCached])).toEqual([['deadline', []]]);
  });

  it('leaves nodes without the taint, and other taints, alone', () => {
    const plan = startupTaintPlan(
      [node('plain', []), node('n1', [GPU_TAINT, WARMING_TAINT])],
      [image('app', ['n1', 'plain'], ['n1', 'plain'])],
      JOINED + MINUTE,
    );
    expect(plan.remove.map((r) => [r.node, r.after])).toEqual([['n1', [GPU_TAINT]]]);
  });

  it('matches the taint by key and effect: the same key with NoExecute is not ours', () => {
    const other = { ...WARMING_TAINT, effect: 'NoExecute' };
    expect(startupTaintPlan([node('n1', [other])], [image('app', ['n1'])], JOINED).remove).toEqual([]);
  });

  it('gives each policy sharing a taint its full time: the longest timeout holds', () => {
    const patient = { ...image('big', []), taint: { ...warming, timeoutMs: 30 * MINUTE } };
    const images = [image('app', []), patient];
    expect(startupTaintPlan([node('n1')], images, JOINED + 15 * MINUTE).remove).toEqual([]);
    expect(startupTaintPlan([node('n1')], images, JOINED + 30 * MINUTE).remove).toHaveLength(1);
  });

  it('with no marked image at all, decides nothing', () => {
    expect(startupTaintPlan([node('n1')], [], JOINED + 60 * MINUTE)).toEqual({ remove: [] });
  });
});

describe('startupTaintPlan, any fleet', () => {
  const fleet = fc.record({
    nodes: fc.uniqueArray(
      fc.record({
        name: fc.constantFrom('n1', 'n2', 'n3', 'n4'),
        ready: fc.boolean(),
        tainted: fc.boolean(),
        ageMinutes: fc.integer({ min: 0, max: 30 }),
      }),
      { selector: (n) => n.name },
    ),
    images: fc.array(
      fc.record({
        targets: fc.subarray(['n1', 'n2', 'n3', 'n4']),
        cached: fc.subarray(['n1', 'n2', 'n3', 'n4']),
      }),
      { maxLength: 4 },
    ),
  });

  it('removes a taint only from a node that carries it, when it is warm or past its deadline', () => {
    fc.assert(
      fc.property(fleet, ({ nodes, images }) => {
        const now = JOINED + 30 * MINUTE;
        const seen = nodes.map((n) => ({
          name: n.name,
          createdAt: now - n.ageMinutes * MINUTE,
          ready: n.ready,
          taints: n.tainted ? [WARMING_TAINT, GPU_TAINT] : [GPU_TAINT],
        }));
        const marked = images.map((i, k) => image(`i${k}`, i.cached, i.targets));
        const plan = startupTaintPlan(seen, marked, now);
        for (const removal of plan.remove) {
          const n = seen.find((s) => s.name === removal.node)!;
          expect(n.taints).toContainEqual(WARMING_TAINT);
          expect(removal.after).toEqual([GPU_TAINT]);
          const missing = marked.filter((i) => i.targets.includes(n.name) && !i.cachedNodes.includes(n.name));
          if (removal.why === 'warm') expect(n.ready && missing.length === 0).toBe(true);
          else expect(now - n.createdAt).toBeGreaterThanOrEqual(warming.timeoutMs);
        }
        // Every tainted node past its deadline is untainted when any image is marked.
        const overdue = seen.filter((s) => s.taints.length === 2 && now - s.createdAt >= warming.timeoutMs);
        if (marked.length > 0)
          expect(plan.remove.map((r) => r.node)).toEqual(expect.arrayContaining(overdue.map((s) => s.name)));
        if (plan.nextDeadlineAt !== undefined) expect(plan.nextDeadlineAt).toBeGreaterThan(now);
      }),
    );
  });
});

describe('removalEvent', () => {
  const base = {
    node: 'n1',
    key: warming.key,
    effect: 'NoSchedule',
    before: [WARMING_TAINT],
    after: [],
    marked: 7,
  } as const;

  it('says warm when every image is cached', () => {
    expect(removalEvent({ ...base, why: 'warm', notCached: [] })).toEqual({
      type: 'Normal',
      reason: 'StartupTaintRemoved',
      action: 'Untaint',
      note: 'Removed drop.corewire.io/warming:NoSchedule: warm, 7 images cached',
    });
  });

  it('names the images not cached when the deadline passed, five at most', () => {
    const notCached = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const event = removalEvent({ ...base, why: 'deadline', notCached });
    expect(event.type).toBe('Warning');
    expect(event.note).toBe(
      'Removed drop.corewire.io/warming:NoSchedule: deadline passed with 7 images not cached: a, b, c, d, e and 2 more',
    );
  });
});
