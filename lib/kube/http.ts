import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeError, kubeErrorFrom } from './errors.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export const CONTENT_TYPE = {
  json: 'application/json',
  mergePatch: 'application/merge-patch+json',
  jsonPatch: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

export interface RequestOptions {
  readonly body?: unknown;
  readonly contentType?: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly timeoutMs?: number;
}

/** How long a request may take unless its caller says otherwise: its answer comes within this or never. */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Raw JSON over HTTPS to the API server. The kubeconfig (client-node) supplies TLS material and
 * credentials per request, so rotating service-account tokens and exec plugins keep working; the
 * bodies stay plain JSON, which custom resources need (the generated models drop unknown fields).
 * Requests share one keep-alive agent, except through a cluster's `proxy-url` (http, https or
 * socks5, as kubectl reads it): then each goes through the proxy agent client-node makes for it.
 */
export class KubeHttp {
  private readonly server: URL;
  private readonly agent: http.Agent;
  private readonly proxied: boolean;

  /**
   * `userAgent` names the caller in the API server's logs and audit (kubectl's convention is
   * `<program>/<version>`); Drop's functions send `drop/<function>`.
   */
  constructor(
    private readonly config: KubeConfig,
    private readonly userAgent = 'drop',
  ) {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    this.proxied = Boolean(cluster.proxyUrl);
    this.agent =
      this.server.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: 32 })
        : new http.Agent({ keepAlive: true, maxSockets: 32 });
  }

  /** The API server's base URL (what the kubeconfig points at). */
  get serverUrl(): string {
    return this.server.toString();
  }

  async request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(path, this.server);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const requestOptions: https.RequestOptions = {
      method,
      headers: {
        accept: CONTENT_TYPE.json,
        'user-agent': this.userAgent,
        ...(payload === undefined
          ? {}
          : {
              'content-type': options.contentType ?? CONTENT_TYPE.json,
              'content-length': Buffer.byteLength(payload),
            }),
      },
    };
    await this.applyConfig(requestOptions);
    const { status, body, retryAfter } = await send(
      url,
      requestOptions,
      payload,
      options.timeoutMs ?? REQUEST_TIMEOUT_MS,
    );
    if (status >= 200 && status < 300) return (body ? JSON.parse(body) : undefined) as T;
    throw kubeErrorFrom(status, body, retryAfter);
  }

  /** Opens a streaming GET (watch); the caller reads newline-delimited JSON from the response. */
  async stream(
    path: string,
    query: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<http.IncomingMessage> {
    const url = new URL(path, this.server);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const requestOptions: https.RequestOptions = {
      method: 'GET',
      headers: { accept: CONTENT_TYPE.json, 'user-agent': this.userAgent },
      signal,
    };
    await this.applyConfig(requestOptions);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, requestOptions, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(res);
        readAll(res).then(
          (body) => reject(kubeErrorFrom(status, body, res.headers['retry-after'] as string)),
          reject,
        );
      });
      req.on('error', (error) => reject(networkError(error)));
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }

  /** Credentials and TLS from the kubeconfig; the shared agent unless a proxy must be crossed. */
  private async applyConfig(options: https.RequestOptions): Promise<void> {
    await this.config.applyToHTTPSOptions(options);
    if (!this.proxied) options.agent = this.agent;
  }
}

interface RawResponse {
  readonly status: number;
  readonly body: string;
  readonly retryAfter: string | null;
}

function send(
  url: URL,
  options: https.RequestOptions,
  payload: string | undefined,
  timeoutMs: number,
): Promise<RawResponse> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(url, options, (res) => {
      readAll(res).then(
        (body) =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            retryAfter: (res.headers['retry-after'] as string) ?? null,
          }),
        (error: Error) => reject(networkError(error)),
      );
    });
    req.setTimeout(timeoutMs, () =>
      req.destroy(new KubeError('timeout', 0, `request timed out after ${timeoutMs} ms`)),
    );
    req.on('error', (error) => reject(error instanceof KubeError ? error : networkError(error)));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

function readAll(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function networkError(error: Error): KubeError {
  return new KubeError('network', 0, `API server unreachable: ${error.message}`);
}
