import type { PrometheusSource } from '../api/index.ts';
import { parseDuration } from '../duration.ts';
import type { Candidate } from './candidate.ts';
import { type Credentials, requestHeaders } from './credentials.ts';
import { type HttpRequest, retryAfterMs, send } from './http.ts';
import { describeScores, missingImageLabel, readPrometheusAnswer, scoreSeries } from './prometheus-result.ts';
import { displayUrl, failure, type SourceFailure } from './reasons.ts';

export interface SourceIo {
  readonly now: Date;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
  /** Called once per HTTP request, so a sync can report what it cost. */
  readonly countRequest?: () => void;
}

export type SourceOutcome =
  | { readonly ok: true; readonly candidates: readonly Candidate[]; readonly summary: string }
  | { readonly ok: false; readonly failure: SourceFailure };

export interface PrometheusQuery {
  /** `/api/v1/query` or `/api/v1/query_range`, below the endpoint's path. */
  readonly url: URL;
  /** Form parameters (sent as a POST body, so long queries fit). */
  readonly form: Readonly<Record<string, string>>;
}

/**
 * The request for a source at `now`. With lookback: query_range over [end - lookback, end] at
 * step, where end is `now` rounded down to a multiple of step, so replicas syncing moments apart
 * ask for the same points. Without: an instant query at `now`.
 */
export function prometheusQuery(source: PrometheusSource, now: Date): PrometheusQuery | SourceFailure {
  const base = source.endpoint.endsWith('/') ? source.endpoint : `${source.endpoint}/`;
  const seconds = now.getTime() / 1000;
  if (source.lookback === undefined) {
    return { url: new URL('api/v1/query', base), form: { query: source.query, time: String(seconds) } };
  }
  const lookbackMs = parseDuration(source.lookback);
  const stepMs = parseDuration(source.step);
  if (lookbackMs === undefined || stepMs === undefined || stepMs < 1000)
    return failure(
      'InvalidSpec',
      `lookback ${source.lookback} and step ${source.step} must be durations, step at least 1s`,
    );
  const stepSeconds = stepMs / 1000;
  const end = Math.floor(seconds / stepSeconds) * stepSeconds;
  return {
    url: new URL('api/v1/query_range', base),
    form: {
      query: source.query,
      start: String(end - lookbackMs / 1000),
      end: String(end),
      step: String(stepSeconds),
    },
  };
}

/** Runs a Prometheus source: one query, scored per image. */
export async function queryPrometheus(
  source: PrometheusSource,
  credentials: Credentials,
  io: SourceIo,
): Promise<SourceOutcome> {
  const query = prometheusQuery(source, io.now);
  if ('reason' in query) return { ok: false, failure: query };
  const request: HttpRequest = {
    url: query.url,
    method: 'POST',
    headers: { ...requestHeaders(credentials), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(query.form).toString(),
    tls: credentials.tls,
    timeoutMs: io.timeoutMs,
    maxBytes: io.maxBytes,
    ...(io.signal ? { signal: io.signal } : {}),
  };
  io.countRequest?.();
  const sent = await send(request);
  if (!sent.ok) return sent;
  const { status, headers, body } = sent.response;
  const answer = readPrometheusAnswer(status, body, displayUrl(query.url));
  if (!answer.ok) {
    if (answer.failure.reason !== 'RateLimited') return answer;
    const wait = retryAfterMs(headers['retry-after'], io.now);
    return { ok: false, failure: failure('RateLimited', answer.failure.message, wait) };
  }
  const scores = scoreSeries(answer.series);
  const missing = missingImageLabel(scores);
  if (missing) return { ok: false, failure: missing };
  return { ok: true, candidates: scores.candidates, summary: describeScores(scores) };
}
