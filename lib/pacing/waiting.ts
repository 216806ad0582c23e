import { type Blocker, type BlockingLimit, isTimed } from './blockers.ts';

/** Kubernetes' word for a pull held back by backoff is `ImagePullBackOff`; ours mirror that vocabulary. */
export type WaitReason = 'WaitingForSlot' | 'BackOff' | 'Pulling' | 'RegistryRateLimited';

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
  if (blocker.limit === 'registryRateLimited')
    return { ...base, reason: 'RegistryRateLimited', retryAt: blocker.until };
  return { ...base, reason: 'WaitingForSlot' };
}

/** Waiting pairs of one image held by one limit: counted, the first few nodes named. */
export interface WaitingSummary {
  readonly image: string;
  readonly limit: BlockingLimit;
  readonly reason: WaitReason;
  readonly nodes: number;
  /** The first few, in name order. */
  readonly examples: readonly string[];
  /** The first one's reason in words. */
  readonly message: string;
}

const EXAMPLES = 3;

/** Counts waiting pairs by image and limit; words only the first of each group. */
export class WaitingTally {
  readonly #done: WaitingSummary[] = [];
  #image = '';
  #groups = new Map<BlockingLimit, { first: WaitingPull; examples: string[]; nodes: number }>();

  constructor(private readonly policy: string) {}

  /** One more waiting pair; `blockers` is only called for the first pair of a group. Images come in order. */
  count(image: string, node: string, limit: BlockingLimit, blockers: () => readonly Blocker[]): void {
    if (image !== this.#image) this.#close(image);
    const group = this.#groups.get(limit);
    if (group) {
      group.nodes++;
      if (group.examples.length < EXAMPLES) group.examples.push(node);
      return;
    }
    this.#groups.set(limit, {
      first: toWaiting(image, node, blockers(), this.policy),
      examples: [node],
      nodes: 1,
    });
  }

  /** By image, then by how many nodes each limit holds, most first. */
  groups(): WaitingSummary[] {
    this.#close('');
    return this.#done;
  }

  #close(next: string): void {
    const groups = [...this.#groups.values()].sort((a, b) => b.nodes - a.nodes);
    for (const { first, examples, nodes } of groups) {
      this.#done.push({
        image: first.image,
        limit: first.limit,
        reason: first.reason,
        nodes,
        examples,
        message: first.message,
      });
    }
    this.#groups = new Map();
    this.#image = next;
  }
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
    case 'registryRateLimited':
      return `registry ${blocker.host} rate-limited pulls: no new pull from it before ${isoTime(blocker.until)}`;
    case 'maxConcurrentPullsPerHost':
      return `${SLOT}: ${plural(blocker.inFlight, 'Drop pull')} from ${blocker.host} in flight (registries[${blocker.host}].maxConcurrentPulls: ${blocker.max})`;
    case 'maxPullsPerHourPerHost':
      return `${SLOT}: ${plural(blocker.started, 'pull')} from ${blocker.host} started in the last hour (registries[${blocker.host}].maxPullsPerHour: ${blocker.max}); next at ${isoTime(blocker.until)}`;
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

// Date#toISOString throws outside ±8.64e15 ms; a bogus timestamp must not take the pacer down.
function isoTime(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}
