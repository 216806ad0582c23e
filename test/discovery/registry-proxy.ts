// A small HTTP proxy in front of a real test registry that refuses on demand, as a rate-limited
// or locked-down registry does: 429 with Retry-After and Docker Hub's error body, or 401 with a
// Basic challenge. Everything else goes through to the registry unchanged. Its host is a registry
// host of its own (127.0.0.1:<port>), so several proxies make several hosts of one storage.
import http from 'node:http';

export interface Refusal {
  readonly status: 401 | 429 | 500 | 503;
  /** Sent as Retry-After (seconds) with a 429 or 503. */
  readonly retryAfterSeconds?: number;
  /** How many requests to refuse; default every one until `clear()`. */
  readonly times?: number;
  /** Only requests whose path matches; default every manifest request (`/v2/<repo>/manifests/…`). */
  readonly path?: RegExp;
}

export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

export interface RegistryProxy {
  /** 127.0.0.1:<port>, the registry part of the image references that go through the proxy. */
  readonly host: string;
  readonly url: string;
  refuse(refusal: Refusal): void;
  clear(): void;
  /** Every request so far with the status it got, oldest first. */
  readonly requests: readonly ProxiedRequest[];
  stop(): Promise<void>;
}

const MANIFESTS = /^\/v2\/.+\/manifests\/[^/]+$/;

const BODY: Readonly<Record<number, object>> = {
  401: { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
  // Docker Hub's words, which users meet in kubelet messages.
  429: {
    errors: [
      {
        code: 'TOOMANYREQUESTS',
        message:
          'You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit',
      },
    ],
  },
  500: { errors: [{ code: 'UNKNOWN', message: 'unknown error' }] },
  503: { errors: [{ code: 'UNAVAILABLE', message: 'service unavailable' }] },
};

export async function startRegistryProxy(upstream: string): Promise<RegistryProxy> {
  const target = new URL(upstream);
  let refusal: { readonly spec: Refusal; left: number } | undefined;
  const requests: ProxiedRequest[] = [];
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const matches = refusal && refusal.left > 0 && (refusal.spec.path ?? MANIFESTS).test(path);
    if (refusal && matches) {
      refusal.left -= 1;
      const { status, retryAfterSeconds } = refusal.spec;
      const body = JSON.stringify(BODY[status]);
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'docker-distribution-api-version': 'registry/2.0',
        ...(retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : {}),
        ...(status === 401 ? { 'www-authenticate': 'Basic realm="drop-test-proxy"' } : {}),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      requests.push({ method: req.method ?? '', path, status });
      return;
    }
    const forward = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        requests.push({ method: req.method ?? '', path, status: answer.statusCode ?? 502 });
      },
    );
    forward.on('error', (error) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(error.message);
      requests.push({ method: req.method ?? '', path, status: 502 });
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const host = `127.0.0.1:${port}`;
  return {
    host,
    url: `http://${host}`,
    refuse(spec) {
      refusal = { spec, left: spec.times ?? Number.POSITIVE_INFINITY };
    },
    clear() {
      refusal = undefined;
    },
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
