import { randomUUID } from 'node:crypto';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Kube, KubeObject } from '../kube/client.ts';
import { KubeError } from '../kube/errors.ts';
import type { Change, Informer } from '../kube/informer.ts';
import type { WatchAction } from '../kube/watch.ts';
import { createLogger, type Logger } from '../log.ts';
import { eventDuration, eventsTotal, followedChangesTotal, kubeRequestsTotal, registry } from '../metrics.ts';
import { MAX_EVENT_BYTES } from './envelope.ts';
import { type DropEvent, type ObjectEvent, type PingEvent, parseEvent } from './event.ts';
import { answerOf, type Outcome, outcomeOfError } from './outcome.ts';
import { KeyQueue } from './queue.ts';
import { readinessCheck, readyzResponse } from './readiness.ts';
import { reconcileEach } from './resync.ts';

/** What a handler gets for one event. */
export interface HandlerContext {
  /** A session of the function's client that counts this event's API requests (the log line says them). */
  readonly kube: Kube;
  readonly log: Logger;
  readonly now: () => Date;
  /** Reconciles one key through the function's queue (coalesced with other requests for it). */
  readonly reconcile: (key: string) => Promise<Outcome>;
  /** Reconciles one key after `afterMs`, in this process, with whatever else asks for it meanwhile. */
  readonly later: (key: string, afterMs: number) => void;
  /**
   * Routes the `actions` changes of an informer this process keeps through the watch of `kind`, for
   * as long as the informer lives: what the function's event source filters out, so as not to wake
   * it or not to send what it mostly knows (docs/design.md §Events), seen while it is up anyway.
   * Counted in drop_followed_changes_total, not as events. Once per informer and kind; later calls
   * do nothing.
   */
  readonly follow: <T extends KubeObject>(
    informer: Informer<T>,
    kind: string,
    actions: readonly WatchAction[],
  ) => void;
}

/**
 * The keys (object names) an event wakes; or keys to reconcile a little later, together with
 * whatever else comes meanwhile (what client-go's AddAfter does); or why it wakes none.
 */
export type Wake =
  | readonly string[]
  | { readonly later: readonly string[]; readonly afterMs: number; readonly why: string }
  | { readonly skip: string };

/** Which keys an event of one kind wakes; the event only says where to look, never what is true. */
export type Watch = (event: ObjectEvent, ctx: HandlerContext) => Wake | Promise<Wake>;

export interface EventAppOptions {
  /** The function's name: logs, metrics and the field manager of its writes. */
  readonly name: string;
  readonly kube: Kube;
  readonly now?: () => Date;
  /** By kind (`CachedImage`, `Pod`, …). An event of a kind not listed is answered "not handled". */
  readonly watches: Readonly<Record<string, Watch>>;
  /** Reconciles one key, level-triggered: reads the truth, writes, says what happened. */
  readonly reconcile: (key: string, ctx: HandlerContext) => Promise<Outcome>;
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
export function eventApp(options: EventAppOptions): Hono {
  const log = createLogger({ function: options.name });
  const now = options.now ?? (() => new Date());
  const contextOf = (onRequest: () => void, eventLog: Logger): HandlerContext => ({
    kube: options.kube.session(options.name, () => {
      onRequest();
      kubeRequestsTotal.inc({ function: options.name });
    }),
    log: eventLog,
    now,
    reconcile: (key) => queue.request(key, contextOf(onRequest, eventLog)),
    later: (key, afterMs) => queue.later(key, afterMs),
    follow: (informer, kind, actions) => follow(informer, kind, actions),
  });
  const followed = new WeakMap<object, Set<string>>();
  const follow = <T extends KubeObject>(
    informer: Informer<T>,
    kind: string,
    actions: readonly WatchAction[],
  ) => {
    const kinds = followed.get(informer) ?? new Set<string>();
    if (kinds.has(kind)) return;
    kinds.add(kind);
    followed.set(informer, kinds);
    informer.subscribe((change) => {
      if (actions.includes(change.type))
        void dispatch(informerEvent(informer, kind, change), undefined, true);
    });
  };
  // Reconciles of one key never overlap; a later one this process owes (a deferred write, a
  // retry) runs in a context of its own and says what it did in the log.
  const queue: KeyQueue<HandlerContext> = new KeyQueue(
    (key, ctx) => options.reconcile(key, ctx),
    () => contextOf(() => undefined, log.child({ background: true })),
    (key, outcome) => {
      const line = { key, outcome: outcome.result, detail: outcome.detail };
      if (outcome.result === 'retry') log.warn('background reconcile asks for a retry', line);
      else log.debug('background reconcile', line);
    },
  );
  const app = new Hono();
  const ready = readinessCheck(options.kube);
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', () => readyzResponse(ready));
  app.get('/metrics', async (c) =>
    c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }),
  );
  // Read before any parsing: a body over the limit is refused as it streams in, never buffered whole.
  const tooLarge = (c: Context) => {
    const message = `the event is larger than ${MAX_EVENT_BYTES} bytes, the most a Kubernetes object can take`;
    record(options.name, 'invalid', performance.now());
    log.warn('rejected event', { outcome: 'invalid', detail: message, eventId: c.req.header('ce-id') });
    // The rest of the body is never read: the connection closes, and says so, so that a client
    // does not send its next request down a socket the server is about to drop.
    return c.json({ error: message }, 413, { connection: 'close' });
  };
  const streamLimit = bodyLimit({ maxSize: MAX_EVENT_BYTES, onError: tooLarge });
  // A declared length is checked here, as bodyLimit would check it, but without bodyLimit's look at
  // the body stream: under @hono/node-server that look builds a web Request and a stream for each
  // event, where text() otherwise reads the socket straight into a buffer (100 × 10, four functions:
  // reconcile-image 4.8 against 5.8 CPU s per 1,000 pulls). The adapters always declare a length;
  // chunked bodies go through bodyLimit.
  const limit: MiddlewareHandler = async (c, next) => {
    const headers = headersOf(c);
    const declared = headers['content-length'];
    if (declared === undefined || headers['transfer-encoding'] !== undefined) return streamLimit(c, next);
    if (Number.parseInt(declared, 10) > MAX_EVENT_BYTES) return tooLarge(c);
    await next();
  };
  app.post('/', limit, async (c) => {
    const started = performance.now();
    const headers = headersOf(c);
    const parsed = parseEvent(headers, await c.req.text());
    if (!parsed.ok) {
      record(options.name, 'invalid', started);
      log.warn('rejected event', { outcome: 'invalid', detail: parsed.message, eventId: headers['ce-id'] });
      return c.json({ error: parsed.message }, parsed.status);
    }
    return answerOf(await dispatch(parsed.event, started));
  });
  // Handles one event: what POST / does once the CloudEvent is parsed, what the standalone runner
  // calls directly (lib/controller: `dispatchDirect`), and what a followed informer's change is.
  const dispatch = async (
    event: DropEvent,
    started = performance.now(),
    followed = false,
  ): Promise<Outcome> => {
    let requests = 0;
    const ctx = contextOf(
      () => {
        requests++;
      },
      log.child({ eventId: event.id }),
    );
    const outcome = await handle(options, event, ctx);
    if (followed) followedChangesTotal.inc({ function: options.name, result: outcome.result });
    else record(options.name, outcome.result, started);
    log.info('handled event', {
      eventId: event.id,
      eventType: event.type === 'ping' ? 'ping' : `${event.mode}.${event.action}`,
      object: event.type === 'ping' ? 'ping' : `${event.ref.kind}/${event.ref.name}`,
      outcome: outcome.result,
      detail: outcome.detail,
      durationMs: Math.round(performance.now() - started),
      apiRequests: requests,
    });
    return outcome;
  };
  direct.set(app, dispatch);
  return app;
}

/**
 * The request's headers, names in lower case, read once per request (the body limit and the
 * handler both ask). Served by @hono/node-server: Node's own parse of them
 * (`IncomingMessage.headers`), as iterating Hono's web Headers builds undici's Headers, checking
 * and sorting every header of every event (reconcile-image per event: 1.63–2.09 × bare node:http
 * before, 1.61–1.71 × after; `npm run bench -- events`). In process (app.request): the web Headers.
 */
function headersOf(c: Context): Readonly<Record<string, string>> {
  const known = headersRead.get(c);
  if (known) return known;
  const headers = nodeHeaders(c) ?? Object.fromEntries(c.req.raw.headers);
  headersRead.set(c, headers);
  return headers;
}

/** IncomingMessage.headers as strings, when @hono/node-server serves the request. */
function nodeHeaders(c: Context): Record<string, string> | undefined {
  const env = c.env as { incoming?: { headers: Record<string, string | string[] | undefined> } } | undefined;
  if (!env?.incoming) return undefined;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(env.incoming.headers))
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return headers;
}

const headersRead = new WeakMap<Context, Readonly<Record<string, string>>>();

/** A change an informer saw, as the ApiServerSource adapter would have sent it (Resource mode). */
function informerEvent<T extends KubeObject>(
  informer: Informer<T>,
  kind: string,
  change: Change<T>,
): ObjectEvent {
  const object = change.object;
  return {
    id: randomUUID(),
    source: `informer:${informer.spec.path}`,
    time: new Date().toISOString(),
    type: 'object',
    action: change.type,
    mode: 'resource',
    ref: {
      apiVersion: informer.spec.apiVersion,
      kind,
      name: object.metadata.name,
      namespace: object.metadata.namespace ?? '',
    },
    object,
  };
}

const direct = new WeakMap<Hono, (event: DropEvent) => Promise<Outcome>>();

/**
 * Hands an event to a function app in this process as POST / would after parsing it: the same
 * routing, queue, logs and metrics, without encoding it as a CloudEvent and parsing it back (which
 * at a thousand nodes was most of the standalone runner's CPU). Undefined for an app not built by
 * eventApp.
 */
export function directDispatch(app: Hono): ((event: DropEvent) => Promise<Outcome>) | undefined {
  return direct.get(app);
}

async function handle(options: EventAppOptions, event: DropEvent, ctx: HandlerContext): Promise<Outcome> {
  try {
    if (event.type === 'ping') return await options.resync(ctx, event);
    const watch = options.watches[event.ref.kind];
    if (!watch) {
      ctx.log.warn('event for a kind this function does not watch', { kind: event.ref.kind });
      return { result: 'ignored', detail: `kind ${event.ref.kind} is not handled by ${options.name}` };
    }
    const wake = await watch(event, ctx);
    if ('skip' in wake) return { result: 'ignored', detail: wake.skip };
    if ('later' in wake) {
      for (const key of wake.later) ctx.later(key, wake.afterMs);
      return {
        result: 'done',
        detail: `${wake.why}: reconciles ${wake.later.join(', ')} within ${wake.afterMs} ms`,
      };
    }
    if (wake.length === 1) return await ctx.reconcile(wake[0] ?? '');
    return await reconcileEach(
      wake,
      (key) => ctx.reconcile(key),
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
