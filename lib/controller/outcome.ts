import { KubeError } from '../kube/errors.ts';

/** What a handler decided; eventApp turns it into the HTTP answer Knative's senders understand. */
export type Outcome =
  | {
      readonly result: 'done';
      readonly detail?: string;
      /** Reconcile this key again after so long (ms), in this process: a deferred write, a timer. */
      readonly requeueAfterMs?: number;
    }
  | { readonly result: 'ignored'; readonly detail: string }
  | {
      readonly result: 'retry';
      readonly detail: string;
      readonly status?: 429 | 503;
      readonly retryAfterSeconds?: number;
    }
  | { readonly result: 'invalid'; readonly detail: string };

/** The first outcome that asks for a retry (so the event is delivered again), else done. */
export function firstRetryOr(outcomes: readonly Outcome[], detail: string): Outcome {
  return outcomes.find((o) => o.result === 'retry') ?? { result: 'done', detail };
}

/**
 * An exception as an outcome: a Kubernetes API failure is transient from the sender's point of
 * view (429 when the API server asked us to slow down, else 503); anything else is a bug, which is
 * retried too, because Knative's direct path does not retry a 500 (docs/design.md §Events).
 */
export function outcomeOfError(error: unknown): Outcome & { readonly result: 'retry' } {
  if (error instanceof KubeError) {
    return {
      result: 'retry',
      status: error.kind === 'too-many-requests' ? 429 : 503,
      detail: `Kubernetes API ${error.kind} (${error.status}): ${error.message}`,
      ...(error.retryAfterSeconds ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
    };
  }
  return {
    result: 'retry',
    status: 503,
    detail: `internal error: ${error instanceof Error ? error.message : String(error)}`,
  };
}

/** The HTTP answer for an outcome: 200 handled, 400 never retried, 429/503 (with Retry-After) retried. */
export function answerOf(outcome: Outcome): Response {
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

function json(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}
