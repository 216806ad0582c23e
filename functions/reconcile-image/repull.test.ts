import { describe, expect, it } from 'vitest';
import { repullCycle, repullDue } from './repull.ts';

const NOW = new Date('2026-11-26T12:00:00Z');
const HOUR = 3_600_000;

describe('repullCycle', () => {
  const base = { remaining: [], lastRepullAt: undefined, ready: ['a', 'b'], now: NOW };

  it('without an interval there is no cycle and nothing is due', () => {
    expect(repullCycle({ ...base, intervalMs: undefined, lastPulledAt: '2026-01-01T00:00:00Z' })).toEqual({
      nodes: [],
    });
  });

  it('before anything was pulled nothing is due', () => {
    expect(repullCycle({ ...base, intervalMs: HOUR, lastPulledAt: undefined })).toEqual({ nodes: [] });
  });

  it('counts the first interval from the first pull, later ones from the cycle start', () => {
    expect(
      repullCycle({ ...base, intervalMs: HOUR, lastPulledAt: '2026-11-26T11:30:00Z' }).nextRepullAt,
    ).toBe('2026-11-26T12:30:00.000Z');
    const after = repullCycle({
      ...base,
      intervalMs: HOUR,
      lastPulledAt: '2026-11-26T11:59:00Z',
      lastRepullAt: '2026-11-26T11:15:00Z',
    });
    expect(after.nextRepullAt).toBe('2026-11-26T12:15:00.000Z');
  });

  it('a cycle in progress keeps only nodes that still hold the image', () => {
    const cycle = repullCycle({
      ...base,
      intervalMs: HOUR,
      remaining: ['a', 'gone'],
      lastPulledAt: undefined,
      lastRepullAt: '2026-11-26T11:00:00Z',
    });
    expect(cycle).toEqual({ nodes: ['a'], lastRepullAt: '2026-11-26T11:00:00Z' });
  });

  it('starts exactly at the due time', () => {
    const due = repullCycle({ ...base, intervalMs: HOUR, lastPulledAt: '2026-11-26T11:00:00Z' });
    expect(due).toEqual({ nodes: ['a', 'b'], lastRepullAt: NOW.toISOString() });
  });
});

describe('repullDue', () => {
  it('is true once nextRepullAt has passed, and false without one', () => {
    expect(repullDue({ nextRepullAt: '2026-11-26T12:00:00Z' }, NOW)).toBe(true);
    expect(repullDue({ nextRepullAt: '2026-11-26T12:00:01Z' }, NOW)).toBe(false);
    expect(repullDue({}, NOW)).toBe(false);
    expect(repullDue(undefined, NOW)).toBe(false);
  });
});
