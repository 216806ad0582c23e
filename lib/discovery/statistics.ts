import type { AggregationMethod, EventStatistic } from '../api/index.ts';

// The reductions signals use, as Go Drop defines them (internal/discovery/engine.go).

/** sum, count, avg, max or min of non-empty values. */
export function aggregate(values: readonly number[], method: AggregationMethod): number {
  switch (method) {
    case 'count':
      return values.length;
    case 'avg':
      return sum(values) / values.length;
    case 'max':
      return values.reduce((a, b) => Math.max(b, a));
    case 'min':
      return values.reduce((a, b) => Math.min(b, a));
    default:
      return sum(values);
  }
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/**
 * The p-th percentile by linear interpolation between closest ranks: rank = p/100 × (n − 1), so
 * p50 of [1, 2, 3, 4] is 2.5 and p95 of [10, 20] is 19.5.
 */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const lower = sorted[low] ?? 0;
  const upper = sorted[low + 1];
  return upper === undefined ? lower : lower + (rank - low) * (upper - lower);
}

/** An eventPullTime statistic of non-empty values. */
export function eventStatistic(values: readonly number[], statistic: EventStatistic): number {
  switch (statistic) {
    case 'p50':
      return percentile(values, 50);
    case 'p90':
      return percentile(values, 90);
    case 'p95':
      return percentile(values, 95);
    case 'avg':
      return sum(values) / values.length;
    case 'max':
      return values.reduce((a, b) => Math.max(b, a));
    case 'count':
      return values.length;
  }
}
