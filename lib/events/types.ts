import type { KubeObject } from '../kube/client.ts';
import type { Logger } from '../log.ts';

/** Which object an event is about; namespace is '' for cluster-scoped objects, as Knative sends it. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
}

interface EventEnvelope {
  readonly id: string;
  readonly source: string;
  readonly time?: string;
}

/** An ApiServerSource event (Resource mode carries the object; Reference mode only the ref) or a ping. */
export type DropEvent =
  | (EventEnvelope & {
      readonly type: 'object';
      readonly action: 'add' | 'update' | 'delete';
      readonly mode: 'resource' | 'reference';
      readonly ref: ObjectRef;
      readonly object?: KubeObject;
    })
  | (EventEnvelope & { readonly type: 'ping'; readonly data: unknown });

/** What a handler decided; the factory turns it into the HTTP answer Knative's senders understand. */
export type Outcome =
  | { readonly result: 'done'; readonly detail?: string }
  | { readonly result: 'ignored'; readonly detail: string }
  | {
      readonly result: 'retry';
      readonly detail: string;
      readonly status?: 429 | 503;
      readonly retryAfterSeconds?: number;
    }
  | { readonly result: 'invalid'; readonly detail: string };

export interface HandlerContext {
  readonly log: Logger;
  /** The handler's Kube session calls this for every API request, so the log line can say what the event cost. */
  readonly countRequest: () => void;
  readonly now: () => Date;
}

/** The first outcome that asks for a retry (so the event is delivered again), else done. */
export function firstRetryOr(outcomes: readonly Outcome[], detail: string): Outcome {
  return outcomes.find((o) => o.result === 'retry') ?? { result: 'done', detail };
}
