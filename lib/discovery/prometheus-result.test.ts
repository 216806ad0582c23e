import { describe, expect, it } from 'vitest';
import {
  describeSeries,
  missingImageLabel,
  observeSeries,
  type PrometheusObservations,
  readPrometheusAnswer,
  type Series,
  sampleValue,
} from './prometheus-result.ts';

const D = `sha256:${'ab'.repeat(32)}`;
const ENDPOINT = 'http://prometheus:9090/api/v1/query';
const T0 = 1700000000;

function vector(...items: [Record<string, string>, string][]) {
  return JSON.stringify({
    status: 'success',
    data: { resultType: 'vector', result: items.map(([metric, v]) => ({ metric, value: [1700000000, v] })) },
  });
}

/** A series sampled every 5 minutes from T0. */
const series = (labels: Record<string, string>, values: string[]): Series => ({
  labels,
  times: values.map((_, i) => T0 + 300 * i),
  values,
});

/** Each image's samples added up: what the sources[] form scores. */
const totals = (observed: PrometheusObservations) =>
  [...observed.data.values()].map((i) => ({
    ...i.id,
    score: i.samples.reduce((sum, s) => sum + s.value, 0),
  }));

describe('observeSeries', () => {
  it('keeps each series’ samples with their times and pools series of the same image', () => {
    const observed = observeSeries([
      series({ image: 'golang:1.22', namespace: 'a' }, ['1', '2', '3']),
      series({ image: 'docker.io/library/golang:1.22', namespace: 'b' }, ['4']),
      series({ image: 'alpine' }, ['0.5', '0.25']),
    ]);
    expect(totals(observed)).toEqual([
      {
        reference: 'docker.io/library/golang:1.22',
        repository: 'docker.io/library/golang',
        tag: '1.22',
        score: 10,
      },
      {
        reference: 'docker.io/library/alpine:latest',
        repository: 'docker.io/library/alpine',
        tag: 'latest',
        score: 0.75,
      },
    ]);
    expect(observed.data.get('docker.io/library/golang:1.22')?.samples).toEqual([
      { at: T0, value: 1 },
      { at: T0 + 300, value: 2 },
      { at: T0 + 600, value: 3 },
      { at: T0, value: 4 },
    ]);
  });

  it('keeps digests, and a registry with a port', () => {
    const observed = observeSeries([
      series({ image: `golang:1.22@${D}` }, ['1']),
      series({ image: 'registry:5000/x/y:tag' }, ['2']),
    ]);
    expect(totals(observed)).toEqual([
      expect.objectContaining({ reference: `docker.io/library/golang@${D}`, digest: D, score: 1 }),
      expect.objectContaining({
        reference: 'registry:5000/x/y:tag',
        repository: 'registry:5000/x/y',
        tag: 'tag',
      }),
    ]);
    expect(totals(observed)[0]).not.toHaveProperty('tag');
  });

  it('skips and counts series without an image label, with only NaN/Inf, or with an unparsable image', () => {
    const observed = observeSeries([
      series({ image: 'ok:1' }, ['1', 'NaN', '+Inf']),
      series({}, ['5']),
      series({ image: '' }, ['5']),
      series({ image: 'nan:1' }, ['NaN', '-Inf']),
      series({ image: 'Not/Valid Ref' }, ['1']),
      series({ image: D }, ['1']),
    ]);
    expect(totals(observed).map((c) => [c.reference, c.score])).toEqual([['docker.io/library/ok:1', 1]]);
    expect(observed.skipped).toEqual({ withoutImage: 2, nonFinite: 1, unparsable: 2 });
    expect(describeSeries(observed)).toMatch(
      /^1 images from 6 series; skipped 2 without an image label, 1 with only NaN\/Inf values, 2 with an unparsable image \(invalid image reference "Not\/Valid Ref"/,
    );
  });

  it('calls a query whose series all lack the image label an invalid query', () => {
    const observed = observeSeries([series({ job: 'x' }, ['1'])]);
    expect(missingImageLabel(observed)).toMatchObject({ reason: 'InvalidQuery' });
    expect(missingImageLabel(observeSeries([]))).toBeUndefined();
  });
});

describe('sampleValue', () => {
  it.each([
    ['1', 1],
    ['-2.5', -2.5],
    ['1e3', 1000],
    ['NaN', undefined],
    ['+Inf', undefined],
    ['-Inf', undefined],
    ['', undefined],
    ['12abc', undefined],
  ])('%s → %s', (text, value) => expect(sampleValue(text)).toBe(value));
});

describe('readPrometheusAnswer', () => {
  it('reads vectors and matrices into series', () => {
    expect(readPrometheusAnswer(200, vector([{ image: 'a' }, '3']), ENDPOINT)).toEqual({
      ok: true,
      series: [{ labels: { image: 'a' }, times: [1700000000], values: ['3'] }],
    });
    const matrix = JSON.stringify({
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: { image: 'b' },
            values: [
              [1, '1'],
              [2, '2'],
            ],
          },
        ],
      },
    });
    expect(readPrometheusAnswer(200, matrix, ENDPOINT)).toEqual({
      ok: true,
      series: [{ labels: { image: 'b' }, times: [1, 2], values: ['1', '2'] }],
    });
  });

  it.each([
    [400, 'bad_data', 'InvalidQuery'],
    [422, 'execution', 'InvalidQuery'],
    [503, 'timeout', 'Timeout'],
    [500, 'internal', 'InvalidResponse'],
  ])('maps HTTP %s %s to %s with Prometheus’ own words', (status, errorType, reason) => {
    const body = JSON.stringify({ status: 'error', errorType, error: 'parse error at char 5' });
    const read = readPrometheusAnswer(status, body, ENDPOINT);
    expect(read).toMatchObject({ ok: false, failure: { reason } });
    if (!read.ok) expect(read.failure.message).toContain('parse error at char 5');
  });

  it.each([
    [401, 'Unauthorized'],
    [403, 'Forbidden'],
    [404, 'NotFound'],
    [429, 'RateLimited'],
    [502, 'InvalidResponse'],
  ])('maps a non-JSON HTTP %s to %s', (status, reason) => {
    expect(readPrometheusAnswer(status, '<html>nope</html>', ENDPOINT)).toMatchObject({
      ok: false,
      failure: { reason },
    });
  });

  it('says a scalar is not series', () => {
    const body = JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [1, '1'] } });
    expect(readPrometheusAnswer(200, body, ENDPOINT)).toMatchObject({
      ok: false,
      failure: { reason: 'InvalidQuery', message: expect.stringContaining('scalar') },
    });
  });

  it('calls a 200 whose body is not JSON an invalid response, in words', () => {
    expect(readPrometheusAnswer(200, '<html>a login page</html>', ENDPOINT)).toMatchObject({
      ok: false,
      failure: {
        reason: 'InvalidResponse',
        message: expect.stringContaining(
          'answered HTTP 200 with a body that is not JSON: is it a Prometheus API?',
        ),
      },
    });
  });

  it('calls JSON of another shape an invalid response', () => {
    expect(readPrometheusAnswer(200, '{"hello":"world"}', ENDPOINT)).toMatchObject({
      ok: false,
      failure: { reason: 'InvalidResponse' },
    });
  });
});

describe('readPrometheusAnswer on malformed matrices', () => {
  it('calls samples that are not [time, "value"] pairs an invalid response', () => {
    const body = JSON.stringify({
      status: 'success',
      data: { resultType: 'matrix', result: [{ metric: { image: 'a' }, values: [[1, 2]] }] },
    });
    expect(readPrometheusAnswer(200, body, ENDPOINT)).toMatchObject({
      ok: false,
      failure: { reason: 'InvalidResponse', message: expect.stringContaining('[time, "value"] pairs') },
    });
  });
});
