import { describe, expect, it } from 'vitest';
import { SyncSlots } from './slots.ts';

describe('SyncSlots', () => {
  it('runs one sync per policy, at most size at once, and wakes a waiter when one ends', async () => {
    const slots = new SyncSlots(2);
    const a = slots.take('a');
    const b = slots.take('b');
    expect(a.kind).toBe('taken');
    expect(slots.take('a').kind).toBe('running');
    expect(slots.take('c').kind).toBe('full');
    let woken = false;
    const waiting = slots.free().then(() => {
      woken = true;
    });
    await Promise.resolve();
    expect(woken).toBe(false);
    if (b.kind === 'taken') b.release();
    await waiting;
    expect(slots.take('c').kind).toBe('taken');
    if (a.kind === 'taken') a.release();
  });

  it('resolves ended with the sync’s outcome', async () => {
    const slots = new SyncSlots();
    const slot = slots.take('p');
    if (slot.kind !== 'taken') throw new Error('expected a slot');
    slot.running(Promise.resolve({ result: 'done', detail: 'synced' }));
    expect(await slots.ended('p')).toEqual({ result: 'done', detail: 'synced' });
    slot.release();
    expect(await slots.ended('p')).toBeUndefined();
  });
});
