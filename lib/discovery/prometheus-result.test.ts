import { describe, expect, it } from 'vitest';
import {
  describeScores,
  missingImageLabel,
  readPrometheusAnswer,
  sampleValue,
  scoreSeries,
} from './prometheus-result.ts';

const D = `sha256:${'ab'.repeat(32)}`;
const ENDPOINT = 'http://prometheus:9090/api/v1/query';

function vector(...items: [Record<string, string>, string][]) {
  return JSON.stringify({
    status: 'success',
    data: { resultType: 'vector', result: items.map(([metric, v]) => ({ metric, value: [1700000000, v] })) },
  });
}

describe('scoreSeries', () => {
  it('sums each series over the range and adds up series of the same image', () => {
    const scores = scoreSeries([
      { labels: { image: 'golang:1.22', namespace: 'a' }, values: ['1', '2', '3'] },
      { labels: { image: 'docker.io/library/golang:1.22', namespace: 'b' }, values: ['4'] },
      { labels: { image: 'alpine' }, values: ['0.5', '0.25'] },
    ]);
    expect(scores.candidates).toEqual([
      {
        reference: 'docker.io/library/golang:1.22',
        image: 'docker.io/library/golang',
        tag: '1.22',
        score: 10,
        source: 'prometheus',
      },
      {
        reference: 'docker.io/library/alpine:latest',
        image: 'docker.io/library/alpine',
        tag: 'latest',
        score: 0.75,
        source: 'prometheus',
      },
    ]);
  });

  it('keeps digests, and a registry with a port', () => {
    const scores = scoreSeries([
      { labels: { image: `golang:1.22@${D}` }, values: ['1'] },
      { labels: { image: 'registry:5000/x/y:tag' }, values: ['2'] },
    ]);
    expect(scores.candidates).toEqual([
      expect.objectContaining({ reference: `docker.io/library/golang@${D}`, digest: D, score: 1 }),
      expect.objectContaining({ reference: 'registry:5000/x/y:tag', image: 'registry:5000/x/y', tag: 'tag' }),
    ]);
    expect(scores.candidates[0]).not.toHaveProperty('tag');
  });

  it('skips and counts series without an image label, with only NaN/Inf, or with an unparsable image', () => {
    const scores = scoreSeries([
      { labels: { image: 'ok:1' }, values: ['1', 'NaN', '+Inf'] },
      { labels: {}, values: ['5'] },
      { labels: { image: '' }, values: ['5'] },
      { labels: { image: 'nan:1' }, values: ['NaN', '-Inf'] },
      { labels: { image: 'Not/Valid Ref' }, values: ['1'] },
      { labels: { image: D }, values: ['1'] },
    ]);
    expect(scores.candidates.map((c) => [c.reference, c.score])).toEqual([['docker.io/library/ok:1', 1]]);
    expect(scores.skipped).toEqual({ withoutImage: 2, nonFinite: 1, unparsable: 2 });
    expect(describeScores(scores)).toMatch(
      /^1 images from 6 series; skipped 2 without an image label, 1 with only NaN\/Inf values, 2 with an unparsable image \(invalid image reference "Not\/Valid Ref"/,
    );
  });

  it('calls a query whose series all lack the image label an invalid query', () => {
    const scores = scoreSeries([{ labels: { job: 'x' }, values: ['1'] }]);
    expect(missingImageLabel(scores)).toMatchObject({ reason: 'InvalidQuery' });
    expect(missingImageLabel(scoreSeries([]))).toBeUndefined();
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
      series: [{ labels: { image: 'a' }, values: ['3'] }],
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
      series: [{ labels: { image: 'b' }, values: ['1', '2'] }],
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
