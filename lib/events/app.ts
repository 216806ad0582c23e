import { Hono } from 'hono';
import { KubeError } from '../kube/errors.ts';
import { createLogger } from '../log.ts';
import { eventDuration, eventsTotal, kubeRequestsTotal, registry } from '../metrics.ts';
import { parseEvent } from './parse.ts';
import type { DropEvent, HandlerContext, Outcome } from './types.ts';

export interface EventAppOptions {
  readonly name: string;
  readonly handle: (event: DropEvent, ctx: HandlerContext) => Promise<Outcome>;
}

/**
 * A function's HTTP face: POST / takes one CloudEvent (binary or structured), GET /healthz and
 * GET /metrics. Answers follow what Knative's senders retry (research §A2, §C): 2xx handled, 400
 * never retried, 429/503 retried by both the adapter and a Broker — so nothing transient gets a 500.
 */
export function eventApp(options: EventAppOptions): Hono {
  const log = createLogger({ function: options.name });
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/metrics', async (c) =>
    c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }),
  );
  app.post('/', async (c) => {
    const started = performance.now();
    const headers = Object.fromEntries(c.req.raw.headers);
    const parsed = parseEvent(headers, await c.req.text());
    if (!parsed.ok) {
      record(options.name, 'invalid', started);
      log.warn('rejected event', { outcome: 'invalid', detail: parsed.message, eventId: headers['ce-id'] });
      return c.json({ error: parsed.message }, 400);
    }
    const event = parsed.event;
    let requests = 0;
    const ctx: HandlerContext = {
      log: log.child({ eventId: event.id }),
      countRequest: () => {
        requests++;
        kubeRequestsTotal.inc({ function: options.name });
      },
      now: () => new Date(),
    };
    const outcome = await handleSafely(options.handle, event, ctx);
    const durationMs = Math.round(performance.now() - started);
    record(options.name, outcome.result, started);
    log.info('handled event', {
      eventId: event.id,
      eventType: event.type === 'ping' ? 'ping' : `${event.mode}.${event.action}`,
      object: event.type === 'ping' ? 'ping' : `${event.ref.kind}/${event.ref.name}`,
      outcome: outcome.result,
      detail: outcome.detail,
      durationMs,
      apiRequests: requests,
    });
    return answer(outcome);
  });
  return app;
}

async function handleSafely(
  handle: EventAppOptions['handle'],
  event: DropEvent,
  ctx: HandlerContext,
): Promise<Outcome> {
  try {
    return await handle(event, ctx);
  } catch (error) {
    if (error instanceof KubeError) {
      const status = error.kind === 'too-many-requests' ? 429 : 503;
      return {
        result: 'retry',
        status,
        detail: `Kubernetes API ${error.kind} (${error.status}): ${error.message}`,
        ...(error.retryAfterSeconds ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
      };
    }
    // A bug, not bad input: answer 503 so the event is retried, and keep serving everything else.
    ctx.log.error('handler failed', {
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    return {
      result: 'retry',
      status: 503,
      detail: `internal error: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

function answer(outcome: Outcome): Response {
  const json = (body: unknown, status: number, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    });
  switch (outcome.result) {
    case 'done':
    case 'ignored':
      return json({ result: outcome.result, detail: outcome.detail }, 200);
    case 'invalid':
      return json({ error: outcome.detail }, 400);
    case 'retry':
      return json(
        { error: outcome.detail },
        outcome.status ?? 503,
        outcome.retryAfterSeconds ? { 'retry-after': String(outcome.retryAfterSeconds) } : {},
      );
  }
}

function record(name: string, result: string, started: number): void {
  eventsTotal.inc({ function: name, result });
  eventDuration.observe({ function: name }, (performance.now() - started) / 1000);
}
