import { type Blocker, type BlockingLimit, isTimed } from './blockers.ts';

/** Kubernetes' word for a pull held back by backoff is `ImagePullBackOff`; ours mirror that vocabulary. */
export type WaitReason = 'WaitingForSlot' | 'BackOff' | 'Pulling';

/** Why a pending (image, node) did not start in this call, worded for CachedImage status. */
export interface WaitingPull {
  readonly image: string;
  readonly node: string;
  readonly reason: WaitReason;
  /** The limit holding it back: the first that applies of backoff, pull in flight, node, image, policy. */
  readonly limit: BlockingLimit;
  /** For BackOff: when the backoff ends (epoch ms). */
  readonly retryAt?: number;
  readonly message: string;
}

/** Explains a pair that could not start, from its blockers in order of precedence. */
export function toWaiting(
  image: string,
  node: string,
  blockers: readonly Blocker[],
  policy: string,
): WaitingPull {
  const blocker = blockers[0];
  if (blocker === undefined) throw new Error(`pacing bug: ${image} on ${node} was eligible but not started`);
  const base = { image, node, limit: blocker.limit, message: describe(blocker, policy) };
  if (blocker.limit === 'failureBackoff') return { ...base, reason: 'BackOff', retryAt: blocker.until };
  if (blocker.limit === 'alreadyPulling') return { ...base, reason: 'Pulling' };
  return { ...base, reason: 'WaitingForSlot' };
}

/**
 * When time alone would let this pair start, if nothing else changes: only when every blocker is a
 * wait (backoff, minDelay). A pair held by a full slot waits for a pull to finish instead, and the
 * finishing pull is an event of its own.
 */
export function wakeAt(blockers: readonly Blocker[]): number | undefined {
  let latest: number | undefined;
  for (const blocker of blockers) {
    if (!isTimed(blocker)) return undefined;
    latest = latest === undefined ? blocker.until : Math.max(latest, blocker.until);
  }
  return latest;
}

const SLOT = 'waiting for pacing slot';

function describe(blocker: Blocker, policy: string): string {
  switch (blocker.limit) {
    case 'failureBackoff':
      return `back-off after ${plural(blocker.failures, 'failed pull')}; next attempt at ${isoTime(blocker.until)}`;
    case 'alreadyPulling':
      return 'pull in progress on this node';
    case 'maxConcurrentPullsPerNode':
      return `${SLOT}: node has ${plural(blocker.inFlight, 'Drop pull')} in flight (maxConcurrentPullsPerNode: ${blocker.max})`;
    case 'maxConcurrentNodes':
      return `${SLOT}: ${plural(blocker.inFlight, 'node')} pulling this image (maxConcurrentNodes: ${blocker.max})`;
    case 'minDelayBetweenPulls':
      return `${SLOT}: next start of this image at ${isoTime(blocker.until)} (minDelayBetweenPulls)`;
    case 'maxConcurrentPulls':
      return `${SLOT}: policy ${policy} has ${plural(blocker.inFlight, 'pull')} in flight (maxConcurrentPulls: ${blocker.max})`;
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

// Date#toISOString throws outside ±8.64e15 ms; a bogus timestamp must not take the pacer down.
function isoTime(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}
