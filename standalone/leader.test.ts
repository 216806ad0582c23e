import { describe, expect, it } from 'vitest';
import { DEFAULT_LEADER_TIMING, nextCandidacy } from './leader.ts';

const timing = DEFAULT_LEADER_TIMING;
const standby = { leading: false } as const;
const leader = (renewedAt: number) => ({ leading: true, renewedAt }) as const;

describe('nextCandidacy', () => {
  it('starts Drop when the Lease is taken, and only then', () => {
    expect(nextCandidacy(standby, { kind: 'held' }, 1_000, timing)).toEqual({
      candidacy: leader(1_000),
      change: 'start',
    });
    expect(nextCandidacy(leader(1_000), { kind: 'held' }, 3_000, timing)).toEqual({
      candidacy: leader(3_000),
    });
  });

  it('stands by while another replica holds the Lease', () => {
    expect(nextCandidacy(standby, { kind: 'elsewhere' }, 1_000, timing)).toEqual({ candidacy: standby });
    expect(nextCandidacy(standby, { kind: 'failed' }, 1_000, timing)).toEqual({ candidacy: standby });
  });

  it('stops at once when another replica has taken the Lease', () => {
    expect(nextCandidacy(leader(1_000), { kind: 'elsewhere' }, 2_000, timing)).toEqual({
      candidacy: standby,
      change: 'stop',
    });
  });

  it('keeps leading through failed renewals until the renew deadline has passed', () => {
    const renewed = 10_000;
    const justBefore = renewed + timing.renewDeadlineMs - 1;
    expect(nextCandidacy(leader(renewed), { kind: 'failed' }, justBefore, timing)).toEqual({
      candidacy: leader(renewed),
    });
    expect(
      nextCandidacy(leader(renewed), { kind: 'failed' }, renewed + timing.renewDeadlineMs, timing),
    ).toEqual({ candidacy: standby, change: 'stop' });
  });

  it('gives up before the Lease expires, so two replicas never run Drop at once', () => {
    // The last renewal a leader managed, plus the deadline, must come before anyone else may take
    // the Lease: its expiry, counted from that same renewal.
    expect(timing.renewDeadlineMs).toBeLessThan(timing.leaseSeconds * 1000);
    expect(timing.retryMs).toBeLessThan(timing.renewDeadlineMs);
  });
});
