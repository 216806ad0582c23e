import { setMaxListeners } from 'node:events';
import type { Hono } from 'hono';
import {
  apiServerEvent,
  type EventMode,
  type HttpEvent,
  pingEvent,
} from '../lib/controller/source-events.ts';
import type { Kube } from '../lib/kube/client.ts';
import { runWatch, type WatchTarget } from '../lib/kube/watch.ts';

export interface Subscription {
  /** The function app the events go to. */
  readonly app: string;
  readonly mode: EventMode;
  readonly targets: readonly WatchTarget[];
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

// Retries as patient as a Broker: an answer of 429/503 means "later", never "drop it".
const RETRY_DELAYS_MS = [100, 200, 400, 800, 1_600, 3_200, 5_000];

/**
 * Hosts every function in one process and feeds each the CloudEvents Knative would send it: its
 * own watches (plus the initial list the Knative adapter does not send) and PingSource-like ticks.
 */
export function startRunner(options: RunnerOptions): { stop(): void; listed(): boolean } {
  const controller = new AbortController();
  // One signal stops every watch: each open stream listens on it, well past the default 10.
  setMaxListeners(0, controller.signal);
  const deliver = (app: string, event: HttpEvent) => deliverWithRetry(options, app, event, controller.signal);
  // Ready once every watch has listed: from then on no object is missed.
  const unlisted = new Set<string>();
  for (const subscription of options.subscriptions) {
    for (const target of subscription.targets) {
      const key = `${subscription.app} ${target.path} ${target.labelSelector ?? ''}`;
      unlisted.add(key);
      const source = `${options.kube.transport.serverUrl.replace(/\/$/, '')}`;
      void runWatch(
        options.kube,
        options.kube.transport,
        target,
        (action, object) =>
          deliver(subscription.app, apiServerEvent(source, action, object, target.plural, subscription.mode)),
        controller.signal,
        (error) => options.onError(`watch ${target.path} for ${subscription.app}`, error),
        () => unlisted.delete(key),
      );
    }
  }
  const timers = options.ticks.map((tick) =>
    setInterval(
      () => void deliver(tick.app, pingEvent(options.namespace, tick.name, tick.data)),
      tick.everyMs,
    ),
  );
  return {
    stop() {
      controller.abort();
      for (const timer of timers) clearInterval(timer);
    },
    listed: () => unlisted.size === 0,
  };
}

async function deliverWithRetry(options: RunnerOptions, app: string, event: HttpEvent, signal: AbortSignal) {
  const target = options.apps[app];
  if (!target) return options.onError(`deliver to ${app}`, new Error(`no app named ${app}`));
  for (let attempt = 0; ; attempt++) {
    if (signal.aborted) return;
    try {
      const response = await target.request('/', {
        method: 'POST',
        headers: event.headers,
        body: event.body,
      });
      if (response.status !== 429 && response.status !== 503) return;
    } catch (error) {
      options.onError(`deliver to ${app}`, error);
    }
    const delay = RETRY_DELAYS_MS[attempt];
    if (delay === undefined)
      return options.onError(`deliver to ${app}`, new Error(`gave up on ${event.headers['ce-type']}`));
    await new Promise((r) => setTimeout(r, delay));
  }
}
