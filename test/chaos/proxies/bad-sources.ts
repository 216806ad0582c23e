// Discovery sources that misbehave, for fault 8: one accepts the request and never answers, one
// answers garbage, one answers 1 GiB. The gigabyte is generated chunk by chunk as the reader
// takes it (backpressure), so neither this process nor the test holds it in memory.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type BadSource = 'hang' | 'garbage' | 'huge';

export const HUGE_BYTES = 1024 ** 3;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

export interface BadSources {
  /** The endpoint of a source that behaves as `kind`. */
  url(kind: BadSource): string;
  /** Bytes of the gigabyte the readers took before they hung up. */
  readonly hugeBytesSent: () => number;
  close(): Promise<void>;
}

export async function startBadSources(): Promise<BadSources> {
  let hugeSent = 0;
  const server: Server = createServer((req, res) => {
    const kind = req.url?.split('/')[1] as BadSource | undefined;
    if (kind === 'hang') return; // the socket stays open; nothing is ever written
    if (kind === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"success","data":{"resultType":"vector","result":[{"metric":\u0000\u00ff garbage');
      return;
    }
    if (kind === 'huge') return streamHuge(res, (n) => (hugeSent += n));
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (kind) => `${base}/${kind}`,
    hugeBytesSent: () => hugeSent,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// A JSON result whose one string value is a gigabyte long, with its length declared up front: a
// reader that trusts content-length or reads it all would hold 1 GiB.
function streamHuge(res: ServerResponse, sent: (bytes: number) => void): void {
  const head = Buffer.from(
    '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"image":"',
  );
  const tail = Buffer.from('"},"value":[0,"1"]}]}}');
  const body = HUGE_BYTES - head.length - tail.length;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(HUGE_BYTES) });
  res.write(head);
  let left = body;
  const pump = () => {
    while (left > 0) {
      const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= chunk.length;
      sent(chunk.length);
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end(tail);
  };
  res.on('close', () => {
    left = 0;
  });
  pump();
}
