import type { LokiQuery } from '../api/index.ts';
import { parseDuration } from '../duration.ts';
import { type Credentials, requestHeaders } from './credentials.ts';
import { retryAfterMs, send } from './http.ts';
import type { QueryIo, QueryOutcome } from './io.ts';
import { lokiImageLines, lokiPullEvents, readLokiAnswer } from './loki-result.ts';
import { describePulls, observePulls } from './pull-observations.ts';
import { displayUrl, failure, type SourceFailure } from './reasons.ts';

/** Entries per query; Loki's own default is 100. */
export const LOKI_LIMIT = 5000;
const DEFAULT_LOOKBACK_MS = 24 * 3_600_000;

/** The query_range request at `now`: [now − lookback, now] in nanoseconds, oldest first. */
export function lokiRequest(query: LokiQuery, now: Date): URL {
  const base = query.endpoint.endsWith('/') ? query.endpoint : `${query.endpoint}/`;
  const url = new URL('loki/api/v1/query_range', base);
  const end = BigInt(now.getTime()) * 1_000_000n;
  const lookback =
    BigInt(Math.round(parseDuration(query.lookback ?? '') ?? DEFAULT_LOOKBACK_MS)) * 1_000_000n;
  url.searchParams.set('query', query.query);
  url.searchParams.set('start', String(end - lookback));
  url.searchParams.set('end', String(end));
  url.searchParams.set('limit', String(LOKI_LIMIT));
  url.searchParams.set('direction', 'forward');
  return url;
}

/** Runs a Loki query: with the kubernetesEvents parser its pull events, else one sample per line by image label. */
export async function queryLoki(
  query: LokiQuery,
  credentials: Credentials,
  io: QueryIo,
): Promise<QueryOutcome> {
  const url = lokiRequest(query, io.now);
  io.countRequest?.();
  const sent = await send({
    url,
    headers: requestHeaders(credentials),
    tls: credentials.tls,
    timeoutMs: io.timeoutMs,
    maxBytes: io.maxBytes,
    ...(io.signal ? { signal: io.signal } : {}),
  });
  if (!sent.ok) return sent;
  const { status, headers, body } = sent.response;
  if (status !== 200)
    return {
      ok: false,
      failure: lokiStatusFailure(status, body, url, retryAfterMs(headers['retry-after'], io.now)),
    };
  const answer = readLokiAnswer(body, displayUrl(url));
  if (!answer.ok) return answer;
  const limit =
    answer.entries.length >= LOKI_LIMIT
      ? `; Loki's limit of ${LOKI_LIMIT} lines reached, narrow the query`
      : '';
  if (!query.parser) {
    const lines = lokiImageLines(answer.entries);
    const skipped = lines.withoutImage ? `; ${lines.withoutImage} without an image label` : '';
    return {
      ok: true,
      data: lines.data,
      summary: `${lines.data.size} images from ${answer.entries.length} lines${skipped}${limit}`,
    };
  }
  const observed = observePulls(lokiPullEvents(answer.entries, query.parser));
  return {
    ok: true,
    data: observed.data,
    summary: `${describePulls(observed, answer.entries.length)}${limit}`,
  };
}

// Loki answers errors as text/plain: "parse error at line 1, col 2: syntax error: …".
function lokiStatusFailure(
  status: number,
  body: string,
  url: URL,
  retryAfter: number | undefined,
): SourceFailure {
  const where = displayUrl(url);
  const detail = body.trim().slice(0, 300);
  const suffix = detail ? `: ${detail}` : '';
  switch (status) {
    case 400:
      return failure('InvalidQuery', `Loki rejected the query${suffix}`);
    case 401:
      return failure('Unauthorized', `${where} answered 401: check token or username/password in the Secret`);
    case 403:
      return failure('Forbidden', `${where} answered 403: the credentials may not query logs`);
    case 404:
      return failure(
        'NotFound',
        `${where} answered 404: endpoint must be the base URL of Loki (the part before /loki/api/v1)`,
      );
    case 429:
      return failure('RateLimited', `${where} answered 429 Too Many Requests${suffix}`, retryAfter);
    case 408:
    case 504:
      return failure('Timeout', `${where} answered ${status}${suffix}`);
    default:
      return failure('InvalidResponse', `${where} answered HTTP ${status}${suffix}`);
  }
}
