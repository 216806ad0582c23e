/**
 * Go-style durations, as Go's time.ParseDuration reads them and as Kubernetes users write them:
 * `30s`, `1m`, `1h30m`, `500ms`, `1.5h`, `168h`. No sign: Drop has no use for negative durations.
 * Units: ns, us (µs, μs), ms, s, m, h; `0` alone is allowed, as in Go.
 */

/** The pattern the CRDs use; the same grammar parseDuration accepts. */
export const DURATION_PATTERN = '^(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$';

// Milliseconds per unit as a fraction, so that whole units give exact whole milliseconds.
const UNIT_MS: Readonly<Record<string, readonly [number, number]>> = {
  ns: [1, 1e6],
  us: [1, 1e3],
  µs: [1, 1e3],
  μs: [1, 1e3],
  ms: [1, 1],
  s: [1_000, 1],
  m: [60_000, 1],
  h: [3_600_000, 1],
};

const WHOLE = new RegExp(DURATION_PATTERN);
// µ and μ as escapes: one character outside Latin-1 in a regular expression literal makes V8 hold
// the whole bundle's source as two bytes a character (esbuild escapes them in strings, not here).
const PART = /([0-9]*(?:\.[0-9]*)?)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g;
// Go keeps durations in an int64 of nanoseconds and rejects anything longer (~292 years).
const MAX_MS = (2 ** 63 - 1) / 1e6;

/** Milliseconds (fractional below 1 ms), or undefined when the text is not a Go duration. */
export function parseDuration(text: string): number | undefined {
  if (!WHOLE.test(text)) return undefined;
  let ms = 0;
  for (const [, value = '', unit = ''] of text.matchAll(PART)) {
    const [times, per] = UNIT_MS[unit] ?? [0, 1];
    ms += (Number(value) * times) / per;
  }
  return ms > MAX_MS ? undefined : ms;
}

const MS_UNITS = [
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;
const NS_UNITS = [
  ['us', 1_000],
  ['ns', 1],
] as const;

/** Compact Go-style text that parseDuration reads back: 5_400_000 → `1h30m`, 0.5 → `500us`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`cannot format ${ms} ms as a duration`);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  // Whole milliseconds and the nanoseconds below them separately, so that long durations keep
  // millisecond precision (ms * 1e6 would leave the safe-integer range after ~104 days).
  let whole = Math.floor(ms);
  let ns = Math.round((ms - whole) * 1e6);
  if (ns === 1e6) [whole, ns] = [whole + 1, 0];
  const parts = [...countsOf(whole, MS_UNITS), ...countsOf(ns, NS_UNITS)];
  return parts.length === 0 ? '0s' : parts.join('');
}

function countsOf(value: number, units: readonly (readonly [string, number])[]): string[] {
  const parts: string[] = [];
  let rest = value;
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return parts;
}
