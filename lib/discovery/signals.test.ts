import { describe, expect, it } from 'vitest';
import { type DiscoverySignal, signalSchema } from '../api/discovery-signals.ts';
import { parseImageReference } from '../image-ref.ts';
import { ObservationsBuilder, type PullEvent, type QueryData } from './observations.ts';
import { signalValues } from './signals.ts';

// Go Drop's running example (docs/content/docs/discovery.md, "Stage 2 — Signals"): 48 hours sampled
// every 6 hours, both days alike — img-A 2, 3, 6, 4 and img-B 0, 1, 3, 2 at 00, 06, 12 and 18
// o'clock. Here the hours are Berlin's in January (UTC+1). Every expectation below is worked out
// by hand from the documented formula, in the comment beside it.

const A = 'r.io/img-a:1';
const B = 'r.io/img-b:1';
const DAY1 = Date.parse('2026-01-14T00:00:00+01:00') / 1000;
const HOUR = 3600;
const HOURS = [0, 6, 12, 18];
const VALUES: Record<string, number[]> = { [A]: [2, 3, 6, 4], [B]: [0, 1, 3, 2] };
const END = DAY1 + 24 * HOUR + 18 * HOUR; // the last sample: day 2, 18:00

function panel(): QueryData {
  const builder = new ObservationsBuilder();
  for (const [reference, values] of Object.entries(VALUES)) {
    const parsed = parseImageReference(reference);
    if (!parsed.ok) throw new Error(parsed.message);
    for (const day of [0, 1])
      builder.samples(
        parsed.ref,
        HOURS.map((h, i) => ({ at: DAY1 + day * 24 * HOUR + h * HOUR, value: values[i] ?? 0 })),
      );
  }
  return builder.build();
}

const signal = (spec: Record<string, unknown>): DiscoverySignal =>
  signalSchema.parse({ name: 's', query: 'q', ...spec });

const values = (s: DiscoverySignal, data = panel(), now = new Date((END + HOUR) * 1000)) =>
  Object.fromEntries(signalValues(s, data, now));

describe('aggregate', () => {
  it.each([
    // sum: 2+3+6+4 = 15 a day, 30 for two; B 0+1+3+2 = 6, 12.
    ['sum', 30, 12],
    // count: 8 samples each.
    ['count', 8, 8],
    // avg: 30/8 and 12/8 (Drop's table rounds 3.75 to 3.8).
    ['avg', 3.75, 1.5],
    ['max', 6, 3],
    ['min', 2, 0],
  ])('%s gives img-A %d and img-B %d, as Drop’s table', (method, a, b) => {
    expect(values(signal({ type: 'aggregate', aggregate: { method } }))).toEqual({ [A]: a, [B]: b });
  });
});

describe('timeWeightedAggregate', () => {
  const weighted = (extra: Record<string, unknown> = {}) =>
    signal({
      type: 'timeWeightedAggregate',
      timeWeightedAggregate: {
        method: 'sum',
        timezone: 'Europe/Berlin',
        defaultWeight: '0',
        windows: [
          { startHour: 7, endHour: 9, weight: '0.3' },
          { startHour: 9, endHour: 17, weight: '1.0' },
          { startHour: 17, endHour: 20, weight: '0.3' },
        ],
        ...extra,
      },
    });

  it('weights each sample by the window of its local hour (Drop’s developer-time example)', () => {
    // 00 → default 0, 06 → default 0, 12 → core 1.0, 18 → taper 0.3, twice:
    // A 2(6·1 + 4·0.3) = 14.4, B 2(3·1 + 2·0.3) = 7.2.
    const result = values(weighted());
    expect(result[A]).toBeCloseTo(14.4, 10);
    expect(result[B]).toBeCloseTo(7.2, 10);
  });

  it('reads hours in the zone, summer time included', () => {
    const builder = new ObservationsBuilder();
    const ref = parseImageReference(A);
    if (!ref.ok) throw new Error(ref.message);
    // 07:30Z is 08:30 in Berlin in January (warm-up, 0.3) and 09:30 in July (core, 1.0).
    builder.samples(ref.ref, [
      { at: Date.parse('2026-01-15T07:30:00Z') / 1000, value: 10 },
      { at: Date.parse('2026-07-15T07:30:00Z') / 1000, value: 100 },
    ]);
    // 10·0.3 + 100·1.0 = 103
    expect(values(weighted(), builder.build())[A]).toBeCloseTo(103, 10);
  });

  it('takes weights as Kubernetes quantities, and defaultWeight outside every window', () => {
    const s = signal({
      type: 'timeWeightedAggregate',
      timeWeightedAggregate: {
        method: 'sum',
        timezone: 'Europe/Berlin',
        defaultWeight: '500m',
        windows: [{ startHour: 12, endHour: 13, weight: 2 }],
      },
    });
    // A: 12:00 → 6·2 = 12; the rest ·0.5: (2+3+4)·0.5 = 4.5; a day 16.5, two 33.
    expect(values(s)[A]).toBeCloseTo(33, 10);
  });
});

describe('windowAggregate', () => {
  const windowed = (start: string, end: string) =>
    signal({
      type: 'windowAggregate',
      windowAggregate: { method: 'sum', timezone: 'Europe/Berlin', window: { start, end } },
    });

  it.each([
    // 09:00–17:00 holds only the 12:00 samples: A 6 a day, B 3 (Drop's table, per day); two days.
    ['09:00', '17:00', 12, 6],
    // 00:00–09:00 holds 00:00 and 06:00: A (2+3)·2 = 10, B (0+1)·2 = 2.
    ['00:00', '09:00', 10, 2],
    // 22:00–07:00 crosses midnight: the same two samples.
    ['22:00', '07:00', 10, 2],
    // 12:00 is in, 18:00 is out: the end is exclusive.
    ['12:00', '18:00', 12, 6],
  ])('counts the samples in %s–%s local on every day', (start, end, a, b) => {
    expect(values(windowed(start, end))).toEqual({ [A]: a, [B]: b });
  });

  it('relativeWindow keeps the last N before now (Drop’s table: 2h → A 4, B 2)', () => {
    // now is an hour after the last sample (18:00, A 4, B 2); 2h reaches back to 17:00.
    const s = signal({ type: 'windowAggregate', windowAggregate: { method: 'sum', relativeWindow: '2h' } });
    expect(values(s)).toEqual({ [A]: 4, [B]: 2 });
  });

  it('leaves an image with no sample in the window without a value', () => {
    const s = signal({ type: 'windowAggregate', windowAggregate: { method: 'sum', relativeWindow: '1m' } });
    expect(values(s)).toEqual({});
  });
});

describe('eventPullTime', () => {
  // nginx-like: 8 pulls 14…20 s; redis-like: 6 pulls with a 30 s outlier (Drop's p50…count table).
  const PULLS: Record<string, number[]> = {
    [A]: [14, 15, 16, 17, 17, 18, 19, 20],
    [B]: [18, 21, 23, 23, 27, 30],
  };

  function events(extra: Record<string, PullEvent[]> = {}): QueryData {
    const builder = new ObservationsBuilder();
    for (const [reference, seconds] of Object.entries(PULLS)) {
      const parsed = parseImageReference(reference);
      if (!parsed.ok) throw new Error(parsed.message);
      seconds.forEach((s, i) => {
        builder.pull(parsed.ref, { at: i, kind: 'pulled', seconds: s, bytes: s * 1_000_000 });
      });
      for (const event of extra[reference] ?? []) builder.pull(parsed.ref, event);
    }
    return builder.build();
  }

  const pullTime = (spec: Record<string, unknown>, data = events()) =>
    values(signal({ type: 'eventPullTime', eventPullTime: spec }), data);

  it.each([
    // p = rank p/100·(n−1), interpolated. A sorted 14 15 16 17 17 18 19 20:
    //   p50 rank 3.5 → 17; p90 rank 6.3 → 19 + 0.3·1 = 19.3; p95 rank 6.65 → 19.65.
    // B sorted 18 21 23 23 27 30:
    //   p50 rank 2.5 → 23; p90 rank 4.5 → 27 + 0.5·3 = 28.5; p95 rank 4.75 → 27 + 0.75·3 = 29.25.
    ['p50', 17, 23],
    ['p90', 19.3, 28.5],
    ['p95', 19.65, 29.25],
    // avg 136/8 and 142/6.
    ['avg', 17, 142 / 6],
    ['max', 20, 30],
    ['count', 8, 6],
  ])('%s of pull times: img-A %d, img-B %d', (statistic, a, b) => {
    const result = pullTime({ statistic });
    expect(result[A]).toBeCloseTo(a, 10);
    expect(result[B]).toBeCloseTo(b, 10);
  });

  it('imageSize reads the bytes of the same events', () => {
    // max bytes: 20 s·1e6 and 30 s·1e6.
    expect(pullTime({ metric: 'imageSize', statistic: 'max' })).toEqual({ [A]: 20_000_000, [B]: 30_000_000 });
  });

  it('counts failures and cache hits, and counts a cache hit as a 0 s pull only when asked', () => {
    const data = events({
      [A]: [
        { at: 9, kind: 'cacheHit' },
        { at: 10, kind: 'cacheHit' },
        { at: 11, kind: 'failed' },
      ],
    });
    expect(pullTime({ metric: 'failure', statistic: 'count' }, data)).toEqual({ [A]: 1 });
    expect(pullTime({ metric: 'cacheHit', statistic: 'count' }, data)).toEqual({ [A]: 2 });
    // avg with two 0 s pulls: 136/10.
    expect(pullTime({ statistic: 'avg', includeCacheHits: true }, data)[A]).toBeCloseTo(13.6, 10);
    expect(pullTime({ statistic: 'avg' }, data)[A]).toBeCloseTo(17, 10);
  });

  it('eventPair uses Pulled minus Pulling, messageDuration the stated time', () => {
    const builder = new ObservationsBuilder();
    const parsed = parseImageReference(A);
    if (!parsed.ok) throw new Error(parsed.message);
    builder.pull(parsed.ref, { at: 112.5, kind: 'pulled', seconds: 12, pairSeconds: 12.5 });
    const data = builder.build();
    expect(pullTime({ statistic: 'max', durationMode: 'messageDuration' }, data)).toEqual({ [A]: 12 });
    expect(pullTime({ statistic: 'max', durationMode: 'eventPair' }, data)).toEqual({ [A]: 12.5 });
  });
});
