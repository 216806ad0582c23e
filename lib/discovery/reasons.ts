/**
 * The words a DiscoveryPolicy's STATUS (and its Ready condition's reason) can say. Each failure
 * names what a person should look at: the endpoint, the credentials, the query, the spec.
 */
export const FAILURE_REASONS = [
  'ConnectionRefused',
  'Unauthorized',
  'Forbidden',
  'NotFound',
  'Timeout',
  'TLSError',
  'InvalidQuery',
  'InvalidResponse',
  'RateLimited',
  'InvalidSpec',
] as const;

export type FailureReason = (typeof FAILURE_REASONS)[number];
export type SyncReason = 'Synced' | FailureReason;

/** Why a source (or a whole sync) failed, in words that never contain a credential. */
export interface SourceFailure {
  readonly reason: FailureReason;
  readonly message: string;
  /** The server asked us to come back no sooner than this (429 Retry-After), in milliseconds. */
  readonly retryAfterMs?: number;
}

export function failure(reason: FailureReason, message: string, retryAfterMs?: number): SourceFailure {
  return retryAfterMs === undefined ? { reason, message } : { reason, message, retryAfterMs };
}

/** A URL as it may appear in a message: no user-info, no query (a token could hide in either). */
export function displayUrl(url: URL | string): string {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}
