// What the discovery tests put into the real servers, and the answers written out by hand from it:
// the expected reference of every image label, and the expected order of every repository's tags.
import type { TestSeries } from './prometheus.ts';

export const STEP_SECONDS = 300;
export const WEEK_SECONDS = 168 * 3600;
const HOUR = 3600;

/** The end of the backfilled data: now, rounded down to the step, fixed for the whole test run. */
export const DATA_END = Math.floor(Date.now() / 1000 / STEP_SECONDS) * STEP_SECONDS;

/** The metric of the ranking tests; one series per (image label, namespace). */
export const METRIC = 'drop_test_containers';

const DIGEST = `sha256:${'4c'.repeat(32)}`;

export interface ImageSeries extends TestSeries {
  /** The reference this label must become, written by hand; undefined: the series must be skipped. */
  readonly expected: string | undefined;
  /** Why it is skipped, for the test's own counts. */
  readonly skip?: 'withoutImage' | 'nonFinite' | 'unparsable';
}

const series = (
  labels: Record<string, string>,
  expected: string | undefined,
  value: (time: number) => number,
  skip?: ImageSeries['skip'],
): ImageSeries => ({ metric: METRIC, labels, expected, value, ...(skip ? { skip } : {}) });

// Values are multiples of 1/2, so every sum is exact in floating point whatever the order.
export const IMAGE_SERIES: readonly ImageSeries[] = [
  series({ image: 'golang:1.22', namespace: 'a' }, 'docker.io/library/golang:1.22', () => 3),
  series(
    { image: 'docker.io/library/golang:1.22', namespace: 'b' },
    'docker.io/library/golang:1.22',
    () => 1,
  ),
  series(
    { image: 'registry.example.com/ci/builder:v3.1.0', namespace: 'a' },
    'registry.example.com/ci/builder:v3.1.0',
    (t) => ((t / HOUR) % 24 < 12 ? 5 : 0),
  ),
  series({ image: 'registry:5000/x/y:tag', namespace: 'a' }, 'registry:5000/x/y:tag', () => 1),
  series({ image: `alpine@${DIGEST}`, namespace: 'a' }, `docker.io/library/alpine@${DIGEST}`, () => 0.5),
  // Busy only in the last two hours: first in an instant query, far down over a week.
  series({ image: 'node:20', namespace: 'a' }, 'docker.io/library/node:20', (t) =>
    t > DATA_END - 2 * HOUR ? 40 : 0,
  ),
  series(
    { image: 'python:3.12', namespace: 'b' },
    'docker.io/library/python:3.12',
    (t) => ((t / STEP_SECONDS) % 7) / 2,
  ),
  series({ namespace: 'no-image' }, undefined, () => 7, 'withoutImage'),
  series({ image: 'nan.example.com/x:1', namespace: 'a' }, undefined, () => Number.NaN, 'nonFinite'),
  series({ image: 'Bad Image:1', namespace: 'a' }, undefined, () => 1, 'unparsable'),
  series({ image: `sha256:${'9f'.repeat(32)}`, namespace: 'a' }, undefined, () => 1, 'unparsable'),
];

/**
 * Series for the users' own example query (discovery-prometheus.yaml): cAdvisor's working set of
 * GitLab runner pods. Three runner pods run the builder, one runs node, one a non-runner pod.
 */
export const EXAMPLE_SERIES: readonly TestSeries[] = [
  ['runner-a1', 'registry.example.com/ci/builder:v3.1.0', 'gitlab-runner'],
  ['runner-a2', 'registry.example.com/ci/builder:v3.1.0', 'gitlab-runner'],
  ['runner-a3', 'registry.example.com/ci/builder:v3.1.0', 'gitlab-runner'],
  ['runner-b1', 'registry.example.com/ci/node:20', 'gitlab-runner'],
  ['runner-c1', 'docker.io/library/alpine:3.19', 'gitlab-runner'],
  ['web-1', 'registry.example.com/web/frontend:1', 'web'],
].map(([pod = '', image = '', namespace = '']) => ({
  metric: 'container_memory_working_set_bytes',
  labels: { container: 'build', image, namespace, pod },
  value: () => 1e8,
}));

/** The Prometheus query of the ranking tests. */
export const RANKING_QUERY = `sum by (image) (${METRIC})`;

/** The evaluation times of a query_range over [end - lookback, end] at step, as Prometheus computes them. */
export function evaluationTimes(end: number, lookbackSeconds: number, stepSeconds: number): number[] {
  const times: number[] = [];
  for (let t = end - lookbackSeconds; t <= end; t += stepSeconds) times.push(t);
  return times;
}

/**
 * The ranking the test expects, computed from the generated data alone: each series' value at
 * every evaluation time (every sample lies on the step grid, so each time sees its own sample),
 * summed per expected reference; highest first, ties by reference.
 */
export function expectedRanking(times: readonly number[]): { reference: string; score: number }[] {
  const scores = new Map<string, number>();
  for (const one of IMAGE_SERIES) {
    if (!one.expected) continue;
    const sum = times.reduce((total, t) => total + one.value(t), 0);
    scores.set(one.expected, (scores.get(one.expected) ?? 0) + sum);
  }
  return [...scores.entries()]
    .map(([reference, score]) => ({ reference, score }))
    .sort((a, b) => b.score - a.score || (a.reference < b.reference ? -1 : 1));
}

/** Repositories and tags pushed to the registry, in push order. */
export const REPOSITORIES: Readonly<Record<string, readonly string[]>> = {
  'team/frontend': ['v1.0', 'v1.9', 'v1.10', 'v2.0-rc.1', 'latest', 'v2.0'],
  'team/backend': ['v0.9.0', 'v0.10.0', 'v0.10.1', 'main'],
  'team/worker': ['latest', '1.2', '1.10', '1.9-alpine', 'main'],
};

/** Newest first per repository for tagFilter ^v[0-9]+\. (the example's), written by hand. */
export const NEWEST_V_TAGS: Readonly<Record<string, readonly string[]>> = {
  'team/frontend': ['v2.0', 'v2.0-rc.1', 'v1.10', 'v1.9', 'v1.0'],
  'team/backend': ['v0.10.1', 'v0.10.0', 'v0.9.0'],
  'team/worker': [],
};
