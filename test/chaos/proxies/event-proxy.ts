// Sits between an ApiServerSource adapter and a function: passes each CloudEvent on, or, in a
// fault, duplicates it, holds and reorders it, or drops it. Answers the adapter 202 at once (the
// adapter does not retry what it was told arrived, so a dropped event is lost, as in a real outage).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type EventMode = 'pass' | 'duplicate' | 'reorder' | 'drop-half';

export interface EventProxy {
  mode: EventMode;
  /** Events received, sent on, dropped. */
  readonly counts: { received: number; sent: number; dropped: number };
  /** The proxy's URL in front of `target`. */
  front(target: string): Promise<string>;
  close(): Promise<void>;
}

/** How long `reorder` holds an event at most. */
const MAX_DELAY_MS = 3_000;

export function createEventProxy(random: () => number = Math.random): EventProxy {
  const servers: Server[] = [];
  let dropNext = false;
  const proxy: EventProxy = {
    mode: 'pass',
    counts: { received: 0, sent: 0, dropped: 0 },
    async front(target) {
      const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          res.writeHead(202).end();
          proxy.counts.received += 1;
          const body = Buffer.concat(chunks);
          const send = () => forward(target, req.method ?? 'POST', req.headers, body, proxy.counts);
          switch (proxy.mode) {
            case 'pass':
              return void send();
            case 'duplicate':
              void send();
              return void send();
            case 'reorder':
              return void setTimeout(send, random() * MAX_DELAY_MS);
            case 'drop-half':
              dropNext = !dropNext;
              if (dropNext) proxy.counts.dropped += 1;
              else void send();
          }
        });
      });
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    },
    async close() {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  };
  return proxy;
}

async function forward(
  target: string,
  method: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  counts: { sent: number },
): Promise<void> {
  const sent: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (typeof value === 'string' && name !== 'host' && name !== 'content-length') sent[name] = value;
  counts.sent += 1;
  // A function that answers 429/503 is retried by Knative's dispatcher; the adapter sends once.
  for (let attempt = 0; attempt < 5; attempt++) {
    const res = await fetch(target, { method, headers: sent, body }).catch(() => undefined);
    if (res && res.status !== 429 && res.status !== 503 && res.status < 500) return;
    await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
  }
}
