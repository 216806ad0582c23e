import { describe, expect, it } from 'vitest';
import { lokiRequest } from './loki.ts';
import { lokiImageLines, lokiPullEvents, readLokiAnswer } from './loki-result.ts';
import { observePulls } from './pull-observations.ts';

// The answers below are the shapes Loki's HTTP API documents for GET /loki/api/v1/query_range
// (grafana.com/docs/loki/latest/reference/loki-http-api/): a log query answers "streams", a
// metric query "matrix"; errors are plain text. The event lines are Go Drop's documented ones:
// Alloy's loki.source.kubernetes_events with log_format json, and an event exporter's fields.

const ENDPOINT = 'http://loki:3100/loki/api/v1/query_range';

const streams = (...result: { stream: Record<string, string>; values: [string, string][] }[]) =>
  JSON.stringify({
    status: 'success',
    data: {
      resultType: 'streams',
      result,
      stats: {
        summary: {
          bytesProcessedPerSecond: 1,
          linesProcessedPerSecond: 1,
          totalBytesProcessed: 1,
          totalLinesProcessed: 1,
          execTime: 0.01,
        },
      },
    },
  });

const alloy = (reason: string, name: string, msg: string) =>
  JSON.stringify({ reason, name, msg, kind: 'Pod', type: 'Normal' });

describe('readLokiAnswer', () => {
  it('reads the documented streams answer', () => {
    const body = streams({
      stream: { filename: '/var/log/myproject.log', job: 'varlogs', level: 'info' },
      values: [
        ['1568234281726420425', 'foo'],
        ['1568234269716526880', 'bar'],
      ],
    });
    expect(readLokiAnswer(body, ENDPOINT)).toEqual({
      ok: true,
      entries: [
        {
          labels: { filename: '/var/log/myproject.log', job: 'varlogs', level: 'info' },
          at: Number('1568234281726420425') / 1e9,
          line: 'foo',
        },
        {
          labels: { filename: '/var/log/myproject.log', job: 'varlogs', level: 'info' },
          at: Number('1568234269716526880') / 1e9,
          line: 'bar',
        },
      ],
    });
  });

  it('calls a metric query’s matrix an invalid query, and other JSON an invalid response', () => {
    const matrix = JSON.stringify({
      status: 'success',
      data: { resultType: 'matrix', result: [{ metric: { job: 'x' }, values: [[1568234281.726, '0.1']] }] },
    });
    expect(readLokiAnswer(matrix, ENDPOINT)).toMatchObject({
      ok: false,
      failure: { reason: 'InvalidQuery' },
    });
    expect(readLokiAnswer('{"hello":1}', ENDPOINT)).toMatchObject({
      ok: false,
      failure: { reason: 'InvalidResponse' },
    });
    expect(readLokiAnswer('parse error at line 1', ENDPOINT)).toMatchObject({
      ok: false,
      failure: { reason: 'InvalidResponse' },
    });
  });
});

describe('lokiPullEvents (parser kubernetesEvents)', () => {
  it('reads Alloy’s JSON lines with Drop’s Alloy mapping (name, reason, msg)', () => {
    const answer = readLokiAnswer(
      streams({
        stream: { job: 'kubelet', namespace: 'default' },
        values: [
          [
            '1719400000000000000',
            alloy('Pulling', 'runner-1', 'Pulling image "docker.io/library/redis:7-alpine"'),
          ],
          [
            '1719400002000000000',
            alloy(
              'Pulled',
              'runner-1',
              'Successfully pulled image "docker.io/library/redis:7-alpine" in 704ms',
            ),
          ],
        ],
      }),
      ENDPOINT,
    );
    if (!answer.ok) throw new Error(answer.failure.message);
    const events = lokiPullEvents(answer.entries, {
      type: 'kubernetesEvents',
      podField: 'name',
      reasonField: 'reason',
      messageField: 'msg',
      imageField: 'msg',
    });
    const image = observePulls(events).data.get('docker.io/library/redis:7-alpine');
    // Drop's table: the Pulled entry adds 0.704 s; its pair with Pulling is 2 s.
    expect(image?.pulls.find((p) => p.kind === 'pulled')).toEqual({
      at: 1719400002,
      kind: 'pulled',
      pod: 'runner-1',
      seconds: 0.704,
      pairSeconds: 2,
    });
    expect(image?.samples).toEqual([{ at: 1719400002, value: 0.704 }]);
  });

  it('reads labels first, then the event exporter’s JSON fields, with the defaults', () => {
    const line = JSON.stringify({
      involvedObject_name: 'runner-2',
      message:
        'Successfully pulled image "golang:1.22" in 30s (31s including waiting). Image size: 300000000 bytes.',
    });
    const answer = readLokiAnswer(
      streams({ stream: { reason: 'Pulled' }, values: [['1719400010000000000', line]] }),
      ENDPOINT,
    );
    if (!answer.ok) throw new Error(answer.failure.message);
    const image = observePulls(lokiPullEvents(answer.entries, { type: 'kubernetesEvents' })).data.get(
      'docker.io/library/golang:1.22',
    );
    expect(image?.pulls).toEqual([
      { at: 1719400010, kind: 'pulled', pod: 'runner-2', seconds: 30, bytes: 300000000 },
    ]);
  });

  it('takes a plain line as the message', () => {
    const answer = readLokiAnswer(
      streams({
        stream: { job: 'events' },
        values: [['1719400020000000000', 'Container image "alpine:3.19" already present on machine']],
      }),
      ENDPOINT,
    );
    if (!answer.ok) throw new Error(answer.failure.message);
    expect(lokiPullEvents(answer.entries, { type: 'kubernetesEvents' })).toEqual([
      { at: 1719400020, message: { kind: 'cacheHit', image: 'alpine:3.19' } },
    ]);
  });
});

describe('lokiImageLines (no parser)', () => {
  it('counts one sample per line under the stream’s image label', () => {
    const answer = readLokiAnswer(
      streams(
        {
          stream: { image: 'nginx:1.25' },
          values: [
            ['1000000000000000000', 'a'],
            ['2000000000000000000', 'b'],
          ],
        },
        { stream: { job: 'x' }, values: [['3000000000000000000', 'c']] },
      ),
      ENDPOINT,
    );
    if (!answer.ok) throw new Error(answer.failure.message);
    const lines = lokiImageLines(answer.entries);
    expect(lines.withoutImage).toBe(1);
    expect(lines.data.get('docker.io/library/nginx:1.25')?.samples).toEqual([
      { at: 1e9, value: 1 },
      { at: 2e9, value: 1 },
    ]);
  });
});

describe('lokiRequest', () => {
  it('asks query_range for [now − lookback, now] in nanoseconds, oldest first, below the endpoint’s path', () => {
    const url = lokiRequest(
      {
        endpoint: 'https://logs.example.com/loki-tenant',
        query: '{job="kubernetes-events"}',
        queryType: 'range',
        lookback: '168h',
      },
      new Date('2026-01-10T12:00:00Z'),
    );
    const end = Date.parse('2026-01-10T12:00:00Z');
    expect(url.pathname).toBe('/loki-tenant/loki/api/v1/query_range');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      query: '{job="kubernetes-events"}',
      start: `${end - 168 * 3_600_000}000000`,
      end: `${end}000000`,
      limit: '5000',
      direction: 'forward',
    });
  });
});
