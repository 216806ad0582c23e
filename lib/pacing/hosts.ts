// Registry hosts as a pacing limit: a user's cap per host (pulls at once, pulls per hour) and the
// pause a registry's rate limit imposes, both cluster-wide across policies. Pure: the pulls in
// flight, the host's record (kept in its Lease so replicas agree) and the clock come in; how many
// may start, and why not, come out.

export const HOUR_MS = 3_600_000;
/** How many throttled pulls a record remembers, to count each once. */
const MAX_COUNTED = 32;
/** A throttle without Retry-After pauses the host this long, doubling per throttle in a row… */
export const THROTTLE_PAUSE_INITIAL_MS = 60_000;
/** …up to this. */
export const THROTTLE_PAUSE_MAX_MS = 30 * 60_000;

/** A user's cap on one registry host. Undefined fields: no cap. */
export interface HostCap {
  readonly maxConcurrentPulls?: number;
  readonly maxPullsPerHour?: number;
}

/** What replicas agree on for one host: the recent starts, and the pause a throttle set. */
export interface HostRecord {
  /** Epoch ms of pull starts from this host, the last hour's (older ones are dropped). */
  readonly starts: readonly number[];
  /** No new pull from the host before this (epoch ms). */
  readonly pausedUntil?: number;
  /** Throttles in a row, for the doubling pause; reset by a pull that succeeds. */
  readonly throttles?: number;
  /** The message of the throttle that paused it, for status. */
  readonly reason?: string;
  /** The throttled pulls counted already (pod uids, the latest few): each counts once. */
  readonly throttledPulls?: readonly string[];
  /**
   * Pull pods a pacer reserved a slot of a capped host for, by name, with when (epoch ms): counted
   * as in flight by every replica until its own watch shows the pod (RESERVATION_MS at most).
   */
  readonly reservations?: readonly { readonly pod: string; readonly at: number }[];
}

/** How long a reservation counts for a pod a replica's watch has not shown yet. */
export const RESERVATION_MS = 30_000;

/**
 * The pulls from a host in flight as one replica can tell: the pulling pods its watch shows, plus
 * the reservations of pods it does not know yet (another replica's, just created). A pod that came
 * and went unseen counts until its reservation ages out: never fewer than there are.
 */
export function inFlightOf(
  record: HostRecord,
  pulling: number,
  known: (pod: string) => boolean,
  now: number,
): number {
  const unseen = (record.reservations ?? []).filter((r) => now - r.at < RESERVATION_MS && !known(r.pod));
  return pulling + unseen.length;
}

export const EMPTY_HOST_RECORD: HostRecord = { starts: [] };

export type HostBlocker =
  | { readonly limit: 'registryRateLimited'; readonly host: string; readonly until: number }
  | {
      readonly limit: 'maxConcurrentPullsPerHost';
      readonly host: string;
      readonly inFlight: number;
      readonly max: number;
    }
  | {
      readonly limit: 'maxPullsPerHourPerHost';
      readonly host: string;
      readonly started: number;
      readonly max: number;
      /** When the oldest start of the hour leaves it, freeing one. */
      readonly until: number;
    };

/** The starts that still count at `now`: those of the last hour. */
export function recentStarts(record: HostRecord, now: number): readonly number[] {
  return record.starts.filter((at) => at > now - HOUR_MS && at <= now);
}

/** Why no pull from `host` may start now; empty when one may. */
export function hostBlockers(
  host: string,
  cap: HostCap | undefined,
  record: HostRecord,
  inFlight: number,
  now: number,
): readonly HostBlocker[] {
  const blockers: HostBlocker[] = [];
  if (record.pausedUntil !== undefined && now < record.pausedUntil)
    blockers.push({ limit: 'registryRateLimited', host, until: record.pausedUntil });
  if (cap?.maxConcurrentPulls !== undefined && inFlight >= cap.maxConcurrentPulls)
    blockers.push({ limit: 'maxConcurrentPullsPerHost', host, inFlight, max: cap.maxConcurrentPulls });
  if (cap?.maxPullsPerHour !== undefined) {
    const recent = [...recentStarts(record, now)].sort((a, b) => a - b);
    if (recent.length >= cap.maxPullsPerHour) {
      // The hour frees a start when enough of the oldest have aged out to get below the cap.
      const freeing = recent[recent.length - cap.maxPullsPerHour] ?? now;
      blockers.push({
        limit: 'maxPullsPerHourPerHost',
        host,
        started: recent.length,
        max: cap.maxPullsPerHour,
        until: freeing + HOUR_MS,
      });
    }
  }
  return blockers;
}

/** How many more pulls from the host may start now (Infinity: no cap holds it). */
export function hostBudget(
  cap: HostCap | undefined,
  record: HostRecord,
  inFlight: number,
  now: number,
): number {
  if (record.pausedUntil !== undefined && now < record.pausedUntil) return 0;
  let budget = Number.POSITIVE_INFINITY;
  if (cap?.maxConcurrentPulls !== undefined) budget = Math.min(budget, cap.maxConcurrentPulls - inFlight);
  if (cap?.maxPullsPerHour !== undefined)
    budget = Math.min(budget, cap.maxPullsPerHour - recentStarts(record, now).length);
  return Math.max(0, budget);
}

/** The record after `count` starts at `now`, with starts older than an hour dropped. */
export function withStarts(record: HostRecord, count: number, now: number): HostRecord {
  return { ...record, starts: [...recentStarts(record, now), ...Array.from({ length: count }, () => now)] };
}

// Words the kubelet's (containerd's, CRI-O's) pull errors carry when a registry throttles: the
// status, Docker Hub's error code, and the phrase registries and proxies use.
const THROTTLE = /\b429\b|too\s*many\s*requests|toomanyrequests|rate[ -]?limit/i;
const RETRY_AFTER = /retry[ -]after:?\s*(\d+)\s*(s|sec|seconds?)?\b/i;

/** Whether a failed pull's message says the registry throttled it. */
export function isThrottle(message: string): boolean {
  return THROTTLE.test(message);
}

/** A `Retry-After` visible in a message (seconds), in ms; undefined when none is. */
export function retryAfterIn(message: string): number | undefined {
  const match = RETRY_AFTER.exec(message);
  return match ? Number(match[1]) * 1000 : undefined;
}

/**
 * The record after a throttle at `now`: paused until the registry's Retry-After, else for a pause
 * that doubles with each throttle in a row (1 min … 30 min). A pause never shortens one in force.
 */
export function afterThrottle(record: HostRecord, now: number, message: string, pull?: string): HostRecord {
  if (pull !== undefined && record.throttledPulls?.includes(pull)) return record;
  const throttles = (record.throttles ?? 0) + 1;
  const wait =
    retryAfterIn(message) ??
    Math.min(THROTTLE_PAUSE_MAX_MS, THROTTLE_PAUSE_INITIAL_MS * 2 ** Math.min(throttles - 1, 20));
  const until = Math.max(record.pausedUntil ?? 0, now + wait);
  const throttledPulls =
    pull === undefined ? record.throttledPulls : [...(record.throttledPulls ?? []), pull].slice(-MAX_COUNTED);
  return {
    ...record,
    pausedUntil: until,
    throttles,
    reason: message,
    ...(throttledPulls ? { throttledPulls } : {}),
  };
}

/** The record after a pull from the host succeeded: throttles in a row start over. */
export function afterSuccess(record: HostRecord): HostRecord {
  if (record.throttles === undefined) return record;
  const { throttles: _, ...rest } = record;
  return rest;
}

/** One policy's caps, as its spec lists them. */
export interface PolicyHostCaps {
  readonly policy: string;
  readonly registries: readonly ({ readonly host: string } & HostCap)[];
}

/**
 * The caps that hold cluster-wide: for each host, the strictest any policy sets (a host cap is the
 * registry's, whichever policy's images come from it), and which policies set it.
 */
export function hostCaps(policies: readonly PolicyHostCaps[]): ReadonlyMap<string, HostCap> {
  const caps = new Map<string, { maxConcurrentPulls?: number; maxPullsPerHour?: number }>();
  for (const { registries } of policies) {
    for (const { host, maxConcurrentPulls, maxPullsPerHour } of registries) {
      const before = caps.get(host) ?? {};
      caps.set(host, {
        ...minOf('maxConcurrentPulls', before.maxConcurrentPulls, maxConcurrentPulls),
        ...minOf('maxPullsPerHour', before.maxPullsPerHour, maxPullsPerHour),
      });
    }
  }
  return caps;
}

function minOf<K extends string>(
  key: K,
  a: number | undefined,
  b: number | undefined,
): Partial<Record<K, number>> {
  if (a === undefined && b === undefined) return {};
  return { [key]: Math.min(a ?? Number.POSITIVE_INFINITY, b ?? Number.POSITIVE_INFINITY) } as Record<
    K,
    number
  >;
}
