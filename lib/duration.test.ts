import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.ts';

describe('durations', () => {
  it.each([
    ['10s', 10_000],
    ['1m', 60_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['168h', 604_800_000],
    ['500ms', 500],
    ['2m3s4ms', 123_004],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '10', '1d', '-5s', 'ten seconds', '1h 30m'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('formats back to Go style', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(10_000)).toBe('10s');
    expect(formatDuration(0)).toBe('0s');
  });
});
