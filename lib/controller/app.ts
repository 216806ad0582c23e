import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Kube } from '../kube/client.ts';
import { KubeError } from '../kube/errors.ts';
import { createLogger, type Logger } from '../log.ts';
import { eventDuration, eventsTotal, kubeRequestsTotal, registry } from '../metrics.ts';
import { MAX_EVENT_BYTES } from './envelope.ts';
import { type DropEvent, type ObjectEvent, type PingEvent, parseEvent } from './event.ts';
import { answerOf, type Outcome, outcomeOfError } from './outcome.ts';
import { readinessCheck, readyzResponse } from './readiness.ts';
import { reconcileEach } from './resync.ts';

/** What a handler gets for one event. */
export interface HandlerContext {
  /** A session of the function's client that counts this event's API requests (the log line says them). */
  readonly kube: Kube;
  readonly log: Logger;
  readonly now: () => Date;
}

/** The keys an event wakes (usually object names), or why it wakes none. */
export type Wake<K> = readonly K[] | { readonly skip: string };

/** Which keys an event of one kind wakes; the event only says where to look, never what is true. */
export type Watch<K> = (event: ObjectEvent, ctx: HandlerContext) => Wake<K> | Promise<Wake<K>>;

export interface EventAppOptions<K> {
  /** The function's name: logs, metrics and the field manager of its writes. */
  readonly name: string;
  readonly kube: Kube;
  readonly now?: () => Date;
  /** By kind (`CachedImage`, `Pod`, …). An event of a kind not listed is answered "not handled". */
  readonly watches: Readonly<Record<string, Watch<K>>>;
  /** Reconciles one key, level-triggered: reads the truth from the API, writes, says what happened. */
  readonly reconcile: (key: K, ctx: HandlerContext) => Promise<Outcome>;
  /** The PingSource tick: everything that is due, because events can be lost. */
  readonly resync: (ctx: HandlerContext, ping: PingEvent) => Promise<Outcome>;
}

/**
 * A function's HTTP face, the one copy of what every function does with an event: POST / takes one
 * CloudEvent (binary or structured), routes it by kind to its watch, reconciles the keys it wakes
 * and answers what Knative's senders retry (docs/design.md §Events): 2xx handled, 400 never
 * retried, 429/503 retried — nothing transient gets a 500. GET /healthz (the process runs), GET
 * /readyz (it can do its work: lib/controller/readiness.ts) and GET /metrics too.
 */
export function eventApp<K>(options: EventAppOptions<K>): Hono {
  const log = createLogger({ function: options.name });
  const now = options.now ?? (() => new Date());
  const app = new Hono();
  const ready = readinessCheck(options.kube);
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', () => readyzResponse(ready));
  app.get('/metrics', async (c) =>
    c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }),
  );
  // Read before any parsing: a body over the limit is refused as it streams in, never buffered whole.
  const limit = bodyLimit({
    maxSize: MAX_EVENT_BYTES,
    onError: (c) => {
      const message = `the event is larger than ${MAX_EVENT_BYTES} bytes, the most a Kubernetes object can take`;
      record(options.name, 'invalid', performance.now());
      log.warn('rejected event', { outcome: 'invalid', detail: message, eventId: c.req.header('ce-id') });
      return c.json({ error: message }, 413);
    },
  });
  app.post('/', limit, async (c) => {
    const started = performance.now();
    const headers = Object.fromEntries(c.req.raw.headers);
    const parsed = parseEvent(headers, await c.req.text());
    if (!parsed.ok) {
      record(options.name, 'invalid', started);
      log.warn('rejected event', { outcome: 'invalid', detail: parsed.message, eventId: headers['ce-id'] });
      return c.json({ error: parsed.message }, parsed.status);
    }
    const event = parsed.event;
    let requests = 0;
    const ctx: HandlerContext = {
      kube: options.kube.session(options.name, () => {
        requests++;
        kubeRequestsTotal.inc({ function: options.name });
      }),
      log: log.child({ eventId: event.id }),
      now,
    };
    const outcome = await handle(options, event, ctx);
    record(options.name, outcome.result, started);
    log.info('handled event', {
      eventId: event.id,
      eventType: event.type === 'ping' ? 'ping' : `${event.mode}.${event.action}`,
      object: event.type === 'ping' ? 'ping' : `${event.ref.kind}/${event.ref.name}`,
      outcome: outcome.result,
      detail: outcome.detail,
      durationMs: Math.round(performance.now() - started),
      apiRequests: requests,
    });
    return answerOf(outcome);
  });
  return app;
}

async function handle<K>(
  options: EventAppOptions<K>,
  event: DropEvent,
  ctx: HandlerContext,
): Promise<Outcome> {
  try {
    if (event.type === 'ping') return await options.resync(ctx, event);
    const watch = options.watches[event.ref.kind];
    if (!watch) {
      ctx.log.warn('event for a kind this function does not watch', { kind: event.ref.kind });
      return { result: 'ignored', detail: `kind ${event.ref.kind} is not handled by ${options.name}` };
    }
    const wake = await watch(event, ctx);
    if ('skip' in wake) return { result: 'ignored', detail: wake.skip };
    if (wake.length === 1) return await options.reconcile(wake[0] as K, ctx);
    return await reconcileEach(
      wake,
      (key) => options.reconcile(key, ctx),
      `${event.ref.kind} ${event.ref.name}: reconciled ${wake.length} objects`,
    );
  } catch (error) {
    // Not an API failure but a bug: say so, answer 503 so the event is retried, keep serving the rest.
    if (!(error instanceof KubeError))
      ctx.log.error('handler failed', {
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    return outcomeOfError(error);
  }
}

function record(name: string, result: string, started: number): void {
  eventsTotal.inc({ function: name, result });
  eventDuration.observe({ function: name }, (performance.now() - started) / 1000);
}
