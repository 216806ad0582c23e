// A TLS proxy in front of kube-apiserver (with the API server's own serving certificate, so Drop's
// kubeconfig only changes its server): passes every request through, watches streamed, or, in a
// fault, answers a share of them 429 (with Retry-After) or 500 as an overloaded or broken API
// server would, with a Kubernetes Status body.
import { readFileSync } from 'node:fs';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface ApiFailure {
  readonly status: 429 | 500;
  /** Share of requests answered with it (0–1). */
  readonly share: number;
}

export interface ApiProxy {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  failing: ApiFailure | undefined;
  /**
   * A network partition that never tells: every open connection goes silent for good (neither
   * data nor a close ever comes, as a half-open TCP connection), and while `stalled` new requests
   * get no answer either.
   */
  stalled: boolean;
  readonly counts: { passed: number; failed: number };
  close(): Promise<void>;
}

export async function startApiProxy(
  stateDir: string,
  upstream: string,
  random = Math.random,
): Promise<ApiProxy> {
  const certDir = join(stateDir, 'pki', 'serving');
  const cert = readFileSync(join(certDir, 'apiserver.crt'));
  const key = readFileSync(join(certDir, 'apiserver.key'));
  const target = new URL(upstream);
  const counts = { passed: 0, failed: 0 };
  const proxy: { failing: ApiFailure | undefined; stalled: boolean } = { failing: undefined, stalled: false };
  /** Open upstream responses, silenced when the proxy stalls. */
  const open = new Set<{ silence(): void }>();
  const server: Server = createServer({ cert, key }, (req, res) => {
    if (proxy.stalled) return;
    const failing = proxy.failing;
    if (failing && random() < failing.share) {
      counts.failed += 1;
      const reason = failing.status === 429 ? 'TooManyRequests' : 'InternalError';
      res.writeHead(failing.status, {
        'content-type': 'application/json',
        ...(failing.status === 429 ? { 'retry-after': '1' } : {}),
      });
      res.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message:
            failing.status === 429 ? 'too many requests, please try again later' : 'an error on the server',
          reason,
          code: failing.status,
        }),
      );
      return;
    }
    counts.passed += 1;
    const upstreamReq = httpsRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        ca: cert,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
        // The API server went away mid-answer (killed): the client sees its connection drop.
        let silenced = false;
        upstreamRes.on('aborted', () => silenced || res.destroy());
        upstreamRes.on('error', () => silenced || res.destroy());
        const entry = {
          silence() {
            silenced = true;
            upstreamRes.unpipe(res);
            upstreamRes.destroy();
          },
        };
        open.add(entry);
        res.on('close', () => open.delete(entry));
      },
    );
    upstreamReq.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    res.on('close', () => upstreamReq.destroy());
    req.pipe(upstreamReq);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get failing() {
      return proxy.failing;
    },
    set failing(value) {
      proxy.failing = value;
    },
    get stalled() {
      return proxy.stalled;
    },
    set stalled(value) {
      proxy.stalled = value;
      if (value) for (const entry of open) entry.silence();
    },
    counts,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
