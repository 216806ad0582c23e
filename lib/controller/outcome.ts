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

/**
 * The HTTP answer for an outcome: 200 handled, 400 never retried, 429/503 (with Retry-After) retried.
 * A handled event's answer has no body, its result and detail ride in headers: the adapter's Go
 * client (CloudEvents sdk-go) closes an accepted answer's body unread, and Go keeps a connection
 * only when the body was read to its end, so a JSON body cost the sender a new TCP connection per
 * event (100 × 10, four functions: ~2,500 sockets a minute left in TIME_WAIT; none without).
 */
export function answerOf(outcome: Outcome): Response {
  switch (outcome.result) {
    case 'done':
    case 'ignored':
      return new Response(null, {
        status: 200,
        headers: {
          // Said, or Node sends the empty body chunked, which Go also closes unread.
          'content-length': '0',
          [RESULT_HEADER]: outcome.result,
          ...(outcome.detail ? { [DETAIL_HEADER]: headerText(outcome.detail) } : {}),
        },
      });
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

export const RESULT_HEADER = 'drop-result';
export const DETAIL_HEADER = 'drop-detail';

/**
 * A detail as a header value: printable ASCII as is, '%' and anything else percent-encoded (a lone
 * surrogate as '?'); a detail over 512 characters is cut, before encoding, so it decodes whole.
 */
function headerText(detail: string): string {
  const cut = detail.length > 512 ? `${detail.slice(0, 509)}...` : detail;
  return cut.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      return '?';
    }
  });
}
