import { describe, expect, it } from 'vitest';
import { digestGroups, driftCheckDue, outdatedNodes } from './drift.ts';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

describe('digest drift', () => {
  it('keeps which digest each cached node holds, moved by the pulls recorded, without nodes gone', () => {
    const before = [{ digest: A, nodes: ['n1', 'n2', 'n3'] }];
    const groups = digestGroups(before, new Map([['n2', B]]), ['n1', 'n2', 'n4'], A);
    expect(groups).toEqual([
      { digest: A, nodes: ['n1', 'n4'] },
      { digest: B, nodes: ['n2'] },
    ]);
    expect(outdatedNodes(groups, B)).toEqual(['n1', 'n4']);
    expect(outdatedNodes(groups, A)).toEqual(['n2']);
    expect(outdatedNodes(groups, undefined)).toEqual([]);
  });

  it('a node cached before digests were kept holds the digest last recorded; none known: left out', () => {
    expect(digestGroups(undefined, new Map(), ['n1'], A)).toEqual([{ digest: A, nodes: ['n1'] }]);
    expect(digestGroups(undefined, new Map(), ['n1'], undefined)).toEqual([]);
  });

  it('asks again once per interval and at once for a new reference; never without an interval', () => {
    const now = new Date('2026-01-01T00:01:00Z');
    const checked = { reference: 'r', checkedAt: '2026-01-01T00:00:00Z' };
    expect(driftCheckDue(checked, 'r', 60_000, now)).toBe(true);
    expect(driftCheckDue(checked, 'r', 60_001, now)).toBe(false);
    expect(driftCheckDue(checked, 'other', 3_600_000, now)).toBe(true);
    expect(driftCheckDue(undefined, 'r', undefined, now)).toBe(false);
  });
});
