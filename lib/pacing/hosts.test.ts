import { describe, expect, it } from 'vitest';
import { TOMBSTONE_MS } from '../kube/informer.ts';
import {
  afterSuccess,
  afterThrottle,
  EMPTY_HOST_RECORD,
  HOUR_MS,
  hostBlockers,
  hostCaps,
  isThrottle,
  RESERVATION_MS,
  retryAfterIn,
  THROTTLE_PAUSE_MAX_MS,
} from './hosts.ts';

const NOW = 1_767_225_600_000;

describe('registry throttles in kubelet messages', () => {
  it('sees 429, toomanyrequests and rate limit; not a 404 or a 401', () => {
    expect(
      isThrottle(
        'failed to resolve reference "h/a:1": unexpected status from HEAD request to http://h/v2/a/manifests/1: 429 Too Many Requests',
      ),
    ).toBe(true);
    expect(isThrottle('toomanyrequests: You have reached your pull rate limit.')).toBe(true);
    expect(isThrottle('rate limit exceeded')).toBe(true);
    expect(isThrottle('failed to resolve reference "h/a:1": h/a:1: not found')).toBe(false);
    expect(isThrottle('401 Unauthorized')).toBe(false);
    expect(isThrottle('pulled 4290 bytes')).toBe(false);
  });

  it('reads a Retry-After where one is visible', () => {
    expect(retryAfterIn('429 Too Many Requests; Retry-After: 90')).toBe(90_000);
    expect(retryAfterIn('rate limited, retry after 30s')).toBe(30_000);
    expect(retryAfterIn('429 Too Many Requests')).toBeUndefined();
  });

  it('pauses for the Retry-After, else 1 min doubling to 30 min; never shortens a pause; success resets', () => {
    const first = afterThrottle(EMPTY_HOST_RECORD, NOW, '429');
    expect(first).toMatchObject({ pausedUntil: NOW + 60_000, throttles: 1, reason: '429' });
    const second = afterThrottle(first, NOW + 60_000, '429');
    expect(second.pausedUntil).toBe(NOW + 60_000 + 120_000);
    let many = second;
    for (let i = 0; i < 20; i++) many = afterThrottle(many, NOW, '429');
    expect(many.pausedUntil! - NOW).toBeLessThanOrEqual(THROTTLE_PAUSE_MAX_MS + 180_000);
    expect(afterThrottle(first, NOW, 'Retry-After: 5').pausedUntil).toBe(NOW + 60_000);
    expect(afterSuccess(second).throttles).toBeUndefined();
  });
});

describe('host caps', () => {
  it('the strictest cap of any policy holds for a host', () => {
    const caps = hostCaps([
      { policy: 'a', registries: [{ host: 'docker.io', maxConcurrentPulls: 4, maxPullsPerHour: 100 }] },
      {
        policy: 'b',
        registries: [
          { host: 'docker.io', maxConcurrentPulls: 2 },
          { host: 'ghcr.io', maxPullsPerHour: 10 },
        ],
      },
    ]);
    expect(caps.get('docker.io')).toEqual({ maxConcurrentPulls: 2, maxPullsPerHour: 100 });
    expect(caps.get('ghcr.io')).toEqual({ maxPullsPerHour: 10 });
  });

  it('names every limit holding a host, and when the timed ones end', () => {
    const record = { starts: [NOW - HOUR_MS + 10, NOW - 5], pausedUntil: NOW + 1000 };
    expect(hostBlockers('docker.io', { maxConcurrentPulls: 1, maxPullsPerHour: 2 }, record, 1, NOW)).toEqual([
      { limit: 'registryRateLimited', host: 'docker.io', until: NOW + 1000 },
      { limit: 'maxConcurrentPullsPerHost', host: 'docker.io', inFlight: 1, max: 1 },
      { limit: 'maxPullsPerHourPerHost', host: 'docker.io', started: 2, max: 2, until: NOW + 10 },
    ]);
    expect(hostBlockers('docker.io', undefined, EMPTY_HOST_RECORD, 50, NOW)).toEqual([]);
  });
});

describe('reservations', () => {
  it('count a pod this replica has not seen yet, for RESERVATION_MS at most', async () => {
    const { inFlightOf, RESERVATION_MS } = await import('./hosts.ts');
    const record = {
      starts: [],
      reservations: [
        { pod: 'seen', at: NOW - 1000 },
        { pod: 'unseen', at: NOW - 1000 },
        { pod: 'old', at: NOW - RESERVATION_MS },
      ],
    };
    expect(inFlightOf(record, 2, (pod) => pod === 'seen', NOW)).toBe(3);
    expect(inFlightOf(EMPTY_HOST_RECORD, 2, () => false, NOW)).toBe(2);
  });

  it("outlive no pod cache's memory of a deletion: a pod that came and went stays known while its reservation could count", () => {
    // pace's view knows a pod its watch showed deleted for TOMBSTONE_MS (functions/pace/view.ts);
    // the pod was reserved before it was made, so its reservation ends sooner than that memory.
    expect(TOMBSTONE_MS).toBeGreaterThanOrEqual(RESERVATION_MS);
  });
});

describe('a throttled pull counts once', () => {
  it('the same pull seen twice (its pod, then the image status; or two replicas) pauses once', () => {
    const once = afterThrottle(EMPTY_HOST_RECORD, NOW, '429', 'uid-1');
    expect(afterThrottle(once, NOW + 5, '429', 'uid-1')).toBe(once);
    expect(afterThrottle(once, NOW + 5, '429', 'uid-2').throttles).toBe(2);
  });
});
