/** Every Kubernetes API failure, mapped once, to a kind the handlers can act on. */
export type KubeErrorKind =
  | 'not-found'
  | 'conflict'
  | 'already-exists'
  | 'invalid'
  | 'bad-request'
  | 'unauthorized'
  | 'forbidden'
  | 'too-many-requests'
  | 'unavailable'
  | 'timeout'
  | 'network'
  | 'unexpected';

export class KubeError extends Error {
  constructor(
    readonly kind: KubeErrorKind,
    readonly status: number,
    message: string,
    readonly reason?: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'KubeError';
  }

  /** True for failures that the same request can get past later: the caller answers 429/503. */
  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }
}

const RETRYABLE: ReadonlySet<KubeErrorKind> = new Set([
  'conflict',
  'too-many-requests',
  'unavailable',
  'timeout',
  'network',
]);

interface StatusBody {
  readonly message?: unknown;
  readonly reason?: unknown;
  readonly details?: { readonly retryAfterSeconds?: unknown };
}

/** Maps an HTTP answer from the API server to a KubeError (the body is a metav1.Status when JSON). */
export function kubeErrorFrom(status: number, body: string, retryAfterHeader?: string | null): KubeError {
  let parsed: StatusBody = {};
  try {
    parsed = JSON.parse(body) as StatusBody;
  } catch {
    // Not a Status object (a proxy or a crashed server answered): keep the raw text as the message.
  }
  const message =
    typeof parsed.message === 'string' ? parsed.message : body.slice(0, 500) || `HTTP ${status}`;
  const reason = typeof parsed.reason === 'string' ? parsed.reason : undefined;
  const retryAfter =
    typeof parsed.details?.retryAfterSeconds === 'number'
      ? parsed.details.retryAfterSeconds
      : retryAfterHeader
        ? Number(retryAfterHeader) || undefined
        : undefined;
  return new KubeError(kindForStatus(status, reason), status, message, reason, retryAfter);
}

function kindForStatus(status: number, reason: string | undefined): KubeErrorKind {
  if (status === 404) return 'not-found';
  if (status === 409) return reason === 'AlreadyExists' ? 'already-exists' : 'conflict';
  if (status === 422) return 'invalid';
  if (status === 400) return 'bad-request';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 429) return 'too-many-requests';
  if (status === 504 || reason === 'Timeout') return 'timeout';
  if (status >= 500) return 'unavailable';
  return 'unexpected';
}
