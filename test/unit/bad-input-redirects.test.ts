// A discovery source that answers with a redirect (docs/bad-input.md): Drop never follows it, so
// the credentials it sends (an Authorization header here) never reach another host. Two plain
// node:http listeners on loopback stand for "a server that redirects" and "the host it points to";
// what is under test is Drop's HTTP client on real sockets.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../../lib/discovery/http.ts';

function listen(host: string, handler: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, host, () =>
      resolve({ server, url: `http://${host}:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

describe('a source that redirects', () => {
  const reached: http.IncomingHttpHeaders[] = [];
  let elsewhere: { server: http.Server; url: string };
  let redirecting: { server: http.Server; url: string };
  beforeAll(async () => {
    elsewhere = await listen('127.0.0.2', (req, res) => {
      reached.push(req.headers);
      res.end('{}');
    });
    redirecting = await listen('127.0.0.1', (req, res) => {
      const target = req.url?.startsWith('/same') ? '/api/v1/query' : `${elsewhere.url}/api/v1/query`;
      res.writeHead(req.url?.startsWith('/moved') ? 301 : 302, { location: target });
      res.end();
    });
  });
  afterAll(async () => {
    await new Promise((r) => elsewhere.server.close(r));
    await new Promise((r) => redirecting.server.close(r));
  });

  it.each([
    ['302 to another host', '/api/v1/query', 302],
    ['301 to another host', '/moved', 301],
  ])(
    '%s: not followed, no credential leaves, and the message says where it points',
    async (_name, path, status) => {
      const result = await send({
        url: new URL(`${redirecting.url}${path}`),
        headers: { authorization: 'Bearer s3cret-token' },
        timeoutMs: 10_000,
        maxBytes: 1024 * 1024,
      });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.failure.reason).toBe('InvalidResponse');
      expect(result.failure.message).toBe(
        `${redirecting.url}${path} answered HTTP ${status}, a redirect to ${elsewhere.url}/api/v1/query: Drop does not follow redirects (credentials never go to another host); configure that address instead`,
      );
      expect(result.failure.message).not.toContain('s3cret');
      expect(reached).toEqual([]);
    },
  );

  it('a redirect on the same host is not followed either, and says so', async () => {
    const result = await send({ url: new URL(`${redirecting.url}/same`), timeoutMs: 10_000, maxBytes: 1024 });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.failure.message).toBe(
        `${redirecting.url}/same answered HTTP 302, a redirect to ${redirecting.url}/api/v1/query: Drop does not follow redirects; configure that address instead`,
      );
  });
});
