import http from 'node:http';
import https from 'node:https';
import type { TlsMaterial } from './credentials.ts';
import { displayUrl, failure, type SourceFailure } from './reasons.ts';

// node:https rather than fetch: Node 20's fetch takes a custom CA or client certificate only
// through undici's Agent (a dependency we do not have), while https.request takes ca/cert/key per
// request and its global agent pools connections per TLS material.

export interface HttpRequest {
  readonly url: URL;
  readonly method?: 'GET' | 'POST' | 'HEAD';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly tls?: TlsMaterial;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Aborts the request when the whole sync runs out of time. */
  readonly signal?: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export type HttpResult =
  | { readonly ok: true; readonly response: HttpResponse }
  | { readonly ok: false; readonly failure: SourceFailure };

class Stop extends Error {
  constructor(readonly failure: SourceFailure) {
    super(failure.message);
  }
}

/** One HTTP exchange; every way it can fail becomes a SourceFailure, never an exception. */
export function send(request: HttpRequest): Promise<HttpResult> {
  const where = displayUrl(request.url);
  return new Promise((resolve) => {
    const settle = (result: HttpResult) => {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    let req: http.ClientRequest;
    try {
      const transport = request.url.protocol === 'https:' ? https : http;
      req = transport.request(request.url, {
        method: request.method ?? 'GET',
        headers: {
          accept: 'application/json',
          ...request.headers,
          ...(request.body !== undefined ? { 'content-length': Buffer.byteLength(request.body) } : {}),
        },
        ...request.tls,
      });
    } catch (error) {
      // Node validates TLS material and header values while building the request.
      resolve({ ok: false, failure: failureOf(error, where) });
      return;
    }
    const timer = setTimeout(
      () =>
        req.destroy(
          new Stop(failure('Timeout', `${where} did not answer within ${request.timeoutMs / 1000} s`)),
        ),
      request.timeoutMs,
    );
    const onAbort = () =>
      req.destroy(new Stop(failure('Timeout', `the sync ran out of time while waiting for ${where}`)));
    if (request.signal?.aborted) onAbort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error) => settle({ ok: false, failure: failureOf(error, where) }));
    req.on('response', (res) => {
      const redirect = redirectFailure(res.statusCode ?? 0, res.headers.location, request.url, where);
      if (redirect) {
        res.resume();
        settle({ ok: false, failure: redirect });
        return;
      }
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > request.maxBytes) {
        req.destroy(new Stop(tooLarge(where, request.maxBytes)));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > request.maxBytes) req.destroy(new Stop(tooLarge(where, request.maxBytes)));
        else chunks.push(chunk);
      });
      res.on('end', () =>
        settle({
          ok: true,
          response: {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          },
        }),
      );
      res.on('error', (error) => settle({ ok: false, failure: failureOf(error, where) }));
    });
    req.end(request.body);
  });
}

/**
 * Redirects are never followed: the request's credentials (an Authorization header, a client
 * certificate) belong to the host the spec names, and a redirect may point anywhere. Said in words,
 * with the target, so a person can configure the final address instead.
 */
export function redirectFailure(
  status: number,
  location: string | undefined,
  from: URL,
  where: string,
): SourceFailure | undefined {
  if (status < 300 || status >= 400 || status === 304 || !location) return undefined;
  let target: string;
  try {
    target = displayUrl(new URL(location, from));
  } catch {
    target = 'an address that is not a URL';
  }
  const elsewhere = (() => {
    try {
      return new URL(location, from).host !== from.host;
    } catch {
      return true;
    }
  })();
  return failure(
    'InvalidResponse',
    `${where} answered HTTP ${status}, a redirect to ${target}: Drop does not follow redirects${elsewhere ? ' (credentials never go to another host)' : ''}; configure that address instead`,
  );
}

function tooLarge(where: string, maxBytes: number): SourceFailure {
  return failure(
    'InvalidResponse',
    `${where} answered more than ${sizeOf(maxBytes)}: narrow the query, aggregate by image, or use a larger step`,
  );
}

function sizeOf(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / 1024 / 1024)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const TLS_CODE_RE =
  /^(CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_TLS_|ERR_SSL_|ERR_OSSL_|HOSTNAME_MISMATCH|EPROTO)/;

/** Maps a Node network error to a reason. Node's messages name hosts and codes, never header values. */
export function failureOf(error: unknown, where: string): SourceFailure {
  if (error instanceof Stop) return error.failure;
  const code = (error as { code?: unknown } | null)?.code;
  const text = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string') {
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
      return failure('ConnectionRefused', `cannot resolve the host of ${where} (${code})`);
    if (CONNECT_CODES.has(code)) return failure('ConnectionRefused', `cannot connect to ${where}: ${code}`);
    if (code === 'ETIMEDOUT') return failure('Timeout', `connecting to ${where} timed out`);
    if (TLS_CODE_RE.test(code))
      return failure(
        'TLSError',
        `TLS with ${where} failed: ${text} (set ca.crt in the Secret to trust a private CA)`,
      );
    if (code === 'ERR_INVALID_CHAR' || code === 'ERR_INVALID_HTTP_TOKEN')
      return failure('InvalidSpec', `a header for ${where} is not valid HTTP: ${text}`);
  }
  if (/certificate|ssl|tls|pem|key values mismatch/i.test(text))
    return failure('TLSError', `TLS with ${where} failed: ${text}`);
  return failure('ConnectionRefused', `request to ${where} failed: ${text}`);
}

/** Retry-After in milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(header: string | string[] | undefined, now: Date): number | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  if (!text) return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
