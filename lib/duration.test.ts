import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DURATION_PATTERN, formatDuration, parseDuration } from './duration.ts';

describe('parseDuration reads Go durations', () => {
  it.each([
    ['10s', 10_000],
    ['1m', 60_000],
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['168h', 604_800_000],
    ['500ms', 500],
    ['2m3s4ms', 123_004],
    ['0', 0],
    ['0s', 0],
    ['.5s', 500],
    ['1.s', 1_000],
    ['300us', 0.3],
    ['300µs', 0.3],
    ['300μs', 0.3],
    ['1000000ns', 1],
    ['1h1h', 7_200_000],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBeCloseTo(ms, 9));

  it.each([
    '',
    '10',
    '1d',
    '1w',
    '-5s',
    '+5s',
    'ten seconds',
    '1h 30m',
    ' 1s',
    's',
    '.s',
    '1.5.5h',
    '1S',
    '3000000h',
  ])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('accepts exactly what the CRD pattern accepts (below the int64 limit)', () => {
    const pattern = new RegExp(DURATION_PATTERN);
    const text = fc.stringMatching(/^[0-9.]{0,4}(ns|us|ms|s|m|h|d)?([0-9.]{0,3}(s|m|h))?$/);
    fc.assert(fc.property(text, (t) => pattern.test(t) === (parseDuration(t) !== undefined)));
  });
});

describe('formatDuration', () => {
  it.each([
    [5_400_000, '1h30m'],
    [10_000, '10s'],
    [300_000, '5m'],
    [0, '0s'],
    [0.5, '500us'],
    [1.000001, '1ms1ns'],
    [90_061_001, '25h1m1s1ms'],
    [-1_500, '-1s500ms'],
  ])('%d ms is %s', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it('writes what parseDuration reads back, for whole milliseconds up to centuries', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9_000_000_000_000 }),
        (ms) => parseDuration(formatDuration(ms)) === ms,
      ),
    );
  });

  it('refuses what is not a number of milliseconds', () => {
    expect(() => formatDuration(Number.NaN)).toThrow(RangeError);
  });
});
