import { describe, expect, it } from 'vitest';
import { readPullMessage, withPairDurations } from './pull-events.ts';

describe('readPullMessage', () => {
  it.each([
    [
      'Pulled',
      'Successfully pulled image "nginx:1.25" in 12.3s (12.5s including waiting). Image size: 20461242 bytes.',
      { kind: 'pulled', image: 'nginx:1.25', seconds: 12.3, bytes: 20461242 },
    ],
    // Drop's Loki example (an older kubelet: no size, milliseconds).
    [
      'Pulled',
      'Successfully pulled image "docker.io/library/redis:7-alpine" in 704ms',
      { kind: 'pulled', image: 'docker.io/library/redis:7-alpine', seconds: 0.704 },
    ],
    [
      'Pulled',
      'Successfully pulled image "a:1" in 1m2.5s (1m3s including waiting). Image size: 1 bytes.',
      { kind: 'pulled', image: 'a:1', seconds: 62.5, bytes: 1 },
    ],
    [
      'Pulled',
      'Container image "nginx:1.25" already present on machine',
      { kind: 'cacheHit', image: 'nginx:1.25' },
    ],
    ['Pulling', 'Pulling image "nginx:1.25"', { kind: 'pulling', image: 'nginx:1.25' }],
    ['Failed', 'Failed to pull image "x:1": rpc error: not found', { kind: 'failed', image: 'x:1' }],
    ['BackOff', 'Back-off pulling image "x:1"', { kind: 'failed', image: 'x:1' }],
    // No reason: inferred from the words, as Go Drop does for bare log lines.
    [undefined, 'Successfully pulled image "b:2" in 2s', { kind: 'pulled', image: 'b:2', seconds: 2 }],
  ])('reads %s "%s"', (reason, message, expected) => {
    expect(readPullMessage(reason, message)).toEqual(expected);
  });

  it('ignores events about other things', () => {
    expect(readPullMessage('Scheduled', 'Successfully assigned default/p to node-1')).toBeUndefined();
    expect(readPullMessage('Started', 'Started container build')).toBeUndefined();
  });
});

describe('withPairDurations', () => {
  it('gives each Pulled the time since the same pod’s Pulling of that image', () => {
    const pulling = { kind: 'pulling', image: 'a:1' } as const;
    const pulled = { kind: 'pulled', image: 'a:1', seconds: 12 } as const;
    const paired = withPairDurations([
      { at: 112.5, pod: 'p1', message: pulled },
      { at: 100, pod: 'p1', message: pulling },
      { at: 200, pod: 'p2', message: pulled },
    ]);
    expect(paired.map((e) => [e.at, e.pod, (e as { pairSeconds?: number }).pairSeconds])).toEqual([
      [100, 'p1', undefined],
      [112.5, 'p1', 12.5],
      [200, 'p2', undefined],
    ]);
  });
});
