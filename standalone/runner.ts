import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Hono } from 'hono';
import { type DropEvent, directDispatch, informers, type Outcome } from '../lib/controller/index.ts';
import type { EventMode } from '../lib/controller/source-events.ts';
import type { Kube, KubeObject } from '../lib/kube/client.ts';
import type { Change, InformerSpec } from '../lib/kube/informer.ts';
import type { WatchTarget } from '../lib/kube/watch.ts';
import { runnerEventsTotal } from '../lib/metrics.ts';
import { specFor } from '../lib/watched.ts';
import { type EventAttributes, passes, type SourceFilter } from './filters.ts';

export interface Subscription {
  /** The function app the events go to. */
  readonly app: string;
  readonly mode: EventMode;
  readonly targets: readonly WatchTarget[];
  /** The source's `spec.filters`: a change they turn away is not delivered, as on Knative. */
  readonly filters?: readonly SourceFilter[];
}

export interface Tick {
  readonly app: string;
  readonly name: string;
  readonly everyMs: number;
  readonly data: unknown;
}

export interface RunnerOptions {
  readonly kube: Kube;
  readonly namespace: string;
  readonly apps: Readonly<Record<string, Hono>>;
  readonly subscriptions: readonly Subscription[];
  readonly ticks: readonly Tick[];
  readonly onError: (context: string, error: unknown) => void;
}

/** What the runner counts, for the scale bench and the logs. */
export interface RunnerStats {
  /** Changes its watches saw, by app. */
  readonly received: Record<string, number>;
  /** Of those, delivered to the app (the rest were replaced by a later change of the same object). */
  readonly delivered: Record<string, number>;
}

const RETRY_DELAYS_MS = [100, 200, 400, 800, 1_600, 3_200, 5_000];
/** Deliveries in flight per app: enough to keep every function busy, few enough to be fair. */
const CONCURRENCY = 8;

/**
 * Hosts every function in one process and feeds each the events Knative would send it: from the
 * process's informers (one watch per collection, shared with what the functions read — the initial
 * list is delivered too, which the Knative adapter leaves out) and PingSource-like ticks. The
 * events are handed to each function's handler as they are after parsing (directDispatch): the
 * CloudEvent encoding is what crosses a network, and in one process it was most of the CPU.
 * Unlike the adapter, which sends one event at a time per watch, it delivers several at once and
 * coalesces by object: a change of an object whose previous change is still waiting replaces it,
 * so an object changed ten times before its turn is delivered once (the functions read the truth
 * from the API, never from the event).
 */
export function startRunner(options: RunnerOptions): { stop(): void; listed(): boolean; stats: RunnerStats } {
  const stats: RunnerStats = { received: {}, delivered: {} };
  const controller = new AbortController();
  // One signal stops every subscription: each listens on it, well past the default 10.
  setMaxListeners(0, controller.signal);
  const pool = informers(options.kube);
  const source = options.kube.transport.serverUrl.replace(/\/$/, '');
  const ping = (tick: Tick): DropEvent => ({
    id: randomUUID(),
    source: `/apis/v1/namespaces/${options.namespace}/pingsources/${tick.name}`,
    time: new Date().toISOString(),
    type: 'ping',
    data: tick.data,
  });
  const releases: (() => void)[] = [];
  const dispatchers = new Map<string, Dispatcher>();
  const dispatcherOf = (app: string) => {
    let dispatcher = dispatchers.get(app);
    if (!dispatcher) {
      dispatcher = new Dispatcher((event) => deliverWithRetry(options, app, event, controller.signal));
      dispatchers.set(app, dispatcher);
    }
    return dispatcher;
  };
  // Ready once every watch has listed: from then on no object is missed.
  const unlisted = new Set<string>();
  for (const subscription of options.subscriptions) {
    for (const target of subscription.targets) {
      const watchKey = `${subscription.app} ${target.path} ${target.labelSelector ?? ''}`;
      unlisted.add(watchKey);
      const dispatcher = dispatcherOf(subscription.app);
      const filters = subscription.filters ?? [];
      const send = (change: Change<KubeObject>) => {
        if (filters.length > 0 && !passes(filters, attributesOf(change, target, subscription.mode))) return;
        stats.received[subscription.app] = (stats.received[subscription.app] ?? 0) + 1;
        const key = `${target.path}/${change.object.metadata.name}`;
        const replaced = dispatcher.offer(key, () => {
          stats.delivered[subscription.app] = (stats.delivered[subscription.app] ?? 0) + 1;
          runnerEventsTotal.inc({ function: subscription.app, outcome: 'delivered' });
          return objectEvent(source, change, target, subscription.mode);
        });
        if (replaced) runnerEventsTotal.inc({ function: subscription.app, outcome: 'coalesced' });
      };
      const listed = () => unlisted.delete(watchKey);
      void subscribe(pool, specFor(target), send, listed, releases, controller.signal).catch((error) =>
        options.onError(`watch ${target.path} for ${subscription.app}`, error),
      );
    }
  }
  const timers = options.ticks.map((tick) =>
    setInterval(() => void deliverWithRetry(options, tick.app, ping(tick), controller.signal), tick.everyMs),
  );
  return {
    stats,
    stop() {
      controller.abort();
      for (const timer of timers) clearInterval(timer);
      for (const release of releases) release();
    },
    listed: () => unlisted.size === 0,
  };
}

/** Every object the informer holds is delivered as an add first, then every change as it comes. */
async function subscribe(
  pool: ReturnType<typeof informers>,
  spec: InformerSpec<KubeObject>,
  send: (change: Change<KubeObject>) => void,
  listed: () => void,
  releases: (() => void)[],
  signal: AbortSignal,
): Promise<void> {
  // Open until the runner stops: a watch that fails to list at first is tried again.
  for (let delay = 1_000; !signal.aborted; delay = Math.min(delay * 2, 30_000)) {
    try {
      const { informer, release } = await pool.acquire(spec);
      releases.push(release);
      const unsubscribe = informer.subscribe(send);
      signal.addEventListener('abort', unsubscribe, { once: true });
      for (const object of informer.list()) send({ type: 'add', object });
      listed();
      return;
    } catch (error) {
      if (signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (delay >= 30_000) throw error;
    }
  }
}

/**
 * Delivers events, at most CONCURRENCY at a time, never two of one object at once, in the order
 * objects first changed; an object's event that waits is replaced by its newer one.
 */
class Dispatcher {
  readonly #waiting = new Map<string, () => DropEvent>();
  readonly #busy = new Set<string>();
  #inFlight = 0;

  constructor(private readonly deliver: (event: DropEvent) => Promise<void>) {}

  /** Queues the object's event; true when it replaced one still waiting. */
  offer(key: string, event: () => DropEvent): boolean {
    const replaced = this.#waiting.has(key);
    // Map keeps its first insertion order: a replaced event keeps its object's place in line.
    this.#waiting.set(key, event);
    this.#pump();
    return replaced;
  }

  #pump(): void {
    for (const [key, event] of this.#waiting) {
      if (this.#inFlight >= CONCURRENCY) return;
      if (this.#busy.has(key)) continue;
      this.#waiting.delete(key);
      this.#busy.add(key);
      this.#inFlight++;
      void this.deliver(event()).finally(() => {
        this.#busy.delete(key);
        this.#inFlight--;
        this.#pump();
      });
    }
  }
}

/** The attributes the ApiServerSource adapter's event for this change carries, which filters read. */
function attributesOf(change: Change<KubeObject>, target: WatchTarget, mode: EventMode): EventAttributes {
  return {
    type: `dev.knative.apiserver.${mode === 'Resource' ? 'resource' : 'ref'}.${change.type}`,
    kind: target.kind,
    apiversion: target.apiVersion,
    name: change.object.metadata.name,
    namespace: change.object.metadata.namespace ?? '',
  };
}

/** What the ApiServerSource adapter would send for this change, as the function parses it. */
function objectEvent(
  source: string,
  change: Change<KubeObject>,
  target: WatchTarget,
  mode: EventMode,
): DropEvent {
  const object = change.object;
  const ref = {
    apiVersion: target.apiVersion,
    kind: target.kind,
    name: object.metadata.name,
    namespace: object.metadata.namespace ?? '',
  };
  return {
    id: randomUUID(),
    source,
    time: new Date().toISOString(),
    type: 'object',
    action: change.type,
    mode: mode === 'Resource' ? 'resource' : 'reference',
    ref,
    ...(mode === 'Resource'
      ? { object: { ...object, apiVersion: target.apiVersion, kind: target.kind } }
      : {}),
  };
}

// Retries as patient as a Broker: an answer of 429/503 means "later", never "drop it".
async function deliverWithRetry(options: RunnerOptions, app: string, event: DropEvent, signal: AbortSignal) {
  const target = options.apps[app];
  const dispatch = target && directDispatch(target);
  if (!dispatch) return options.onError(`deliver to ${app}`, new Error(`no function app named ${app}`));
  for (let attempt = 0; ; attempt++) {
    if (signal.aborted) return;
    let outcome: Outcome | undefined;
    try {
      outcome = await dispatch(event);
      if (outcome.result !== 'retry') return;
    } catch (error) {
      options.onError(`deliver to ${app}`, error);
    }
    const delay = RETRY_DELAYS_MS[attempt];
    if (delay === undefined)
      return options.onError(`deliver to ${app}`, new Error(`gave up on ${describe(event)}`));
    const asked = outcome?.result === 'retry' ? (outcome.retryAfterSeconds ?? 0) * 1000 : 0;
    await new Promise((r) => setTimeout(r, Math.max(delay, Math.min(asked, 15_000))));
  }
}

function describe(event: DropEvent): string {
  return event.type === 'ping' ? 'a ping' : `${event.action} of ${event.ref.kind}/${event.ref.name}`;
}
