import { parseDuration } from '../duration.ts';
import { type Credentials, requestHeaders } from './credentials.ts';
import { type HttpRequest, retryAfterMs, send } from './http.ts';
import type { QueryIo, QueryOutcome } from './io.ts';
import {
  describeSeries,
  missingImageLabel,
  observeSeries,
  readPrometheusAnswer,
} from './prometheus-result.ts';
import { displayUrl, failure, type SourceFailure } from './reasons.ts';

/** A Prometheus query as discover runs it: with lookback a range query, without an instant one. */
export interface PrometheusQueryConfig {
  readonly endpoint: string;
  readonly query: string;
  readonly lookback?: string;
  readonly step: string;
}

export interface PrometheusRequest {
  /** `/api/v1/query` or `/api/v1/query_range`, below the endpoint's path. */
  readonly url: URL;
  /** Form parameters (sent as a POST body, so long queries fit). */
  readonly form: Readonly<Record<string, string>>;
}

/**
 * The request at `now`. With lookback: query_range over [end - lookback, end] at step, where end
 * is `now` rounded down to a multiple of step, so replicas syncing moments apart ask for the same
 * points. Without: an instant query at `now`.
 */
export function prometheusRequest(
  config: PrometheusQueryConfig,
  now: Date,
): PrometheusRequest | SourceFailure {
  const base = config.endpoint.endsWith('/') ? config.endpoint : `${config.endpoint}/`;
  const seconds = now.getTime() / 1000;
  if (config.lookback === undefined) {
    return { url: new URL('api/v1/query', base), form: { query: config.query, time: String(seconds) } };
  }
  const lookbackMs = parseDuration(config.lookback);
  const stepMs = parseDuration(config.step);
  if (lookbackMs === undefined || stepMs === undefined || stepMs < 1000)
    return failure(
      'InvalidSpec',
      `lookback ${config.lookback} and step ${config.step} must be durations, step at least 1s`,
    );
  const stepSeconds = stepMs / 1000;
  const end = Math.floor(seconds / stepSeconds) * stepSeconds;
  return {
    url: new URL('api/v1/query_range', base),
    form: {
      query: config.query,
      start: String(end - lookbackMs / 1000),
      end: String(end),
      step: String(stepSeconds),
    },
  };
}

/** Runs a Prometheus query: one request, samples per image. */
export async function queryPrometheus(
  config: PrometheusQueryConfig,
  credentials: Credentials,
  io: QueryIo,
): Promise<QueryOutcome> {
  const query = prometheusRequest(config, io.now);
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
    const asked = wait === undefined ? '' : `; it asks to wait ${Math.ceil(wait / 1000)} s`;
    return { ok: false, failure: failure('RateLimited', `${answer.failure.message}${asked}`, wait) };
  }
  const observed = observeSeries(answer.series);
  const missing = missingImageLabel(observed);
  if (missing) return { ok: false, failure: missing };
  return { ok: true, data: observed.data, summary: describeSeries(observed) };
}
