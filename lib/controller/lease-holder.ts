import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kube, KubeObject } from '../kube/client.ts';
import { KubeError } from '../kube/errors.ts';
import { paths } from '../kube/paths.ts';
import type { Outcome } from './outcome.ts';

// One replica at a time does a piece of work (pacing a policy, syncing a DiscoveryPolicy) while it
// holds that work's coordination.k8s.io Lease. Every write carries the resourceVersion it read, so
// of two replicas racing for a free Lease exactly one wins, and a crashed holder's Lease simply
// expires (docs/design.md §Leases).

export interface Lease extends KubeObject {
  readonly spec?: {
    readonly holderIdentity?: string;
    readonly leaseDurationSeconds?: number;
    readonly acquireTime?: string;
    readonly renewTime?: string;
    readonly leaseTransitions?: number;
  };
}

/** The holder's memory between runs (pace keeps its cursor there), as JSON. */
export const STATE_ANNOTATION = 'drop.corewire.io/state';
const POKE_ANNOTATION = 'drop.corewire.io/poked-at';

export type LeaseAttempt =
  | { readonly held: true; readonly lease: Lease }
  | { readonly held: false; readonly holder: string; readonly expiresAt: Date };

/**
 * The API server parses Lease times as MicroTime with exactly six fractional digits; a JS ISO
 * string has three and gets a 400 (kubernetes-client/javascript#828).
 */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function expiry(lease: Lease): Date {
  const renewed = Date.parse(lease.spec?.renewTime ?? lease.spec?.acquireTime ?? '') || 0;
  return new Date(renewed + (lease.spec?.leaseDurationSeconds ?? 0) * 1000);
}

/** Whether nobody holds the Lease now: released (no holder) or expired. */
export function isLeaseFree(lease: Lease, now: Date): boolean {
  return !lease.spec?.holderIdentity || expiry(lease).getTime() <= now.getTime();
}

/**
 * Takes or renews the Lease for `identity`. Every write carries the resourceVersion it read, so of
 * two replicas racing for a free Lease exactly one wins; the other sees a conflict and reports busy.
 */
export async function acquireLease(
  kube: Kube,
  namespace: string,
  name: string,
  identity: string,
  durationSeconds: number,
  now: Date,
): Promise<LeaseAttempt> {
  const current = await kube.get<Lease>(paths.lease(namespace, name));
  const time = microTime(now);
  if (!current) {
    const created = await kube.create<Lease>(paths.leases(namespace), {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace },
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: time,
        renewTime: time,
      },
    } as Lease);
    if (created) return { held: true, lease: created };
    return {
      held: false,
      holder: 'another replica',
      expiresAt: new Date(now.getTime() + durationSeconds * 1000),
    };
  }
  const holder = current.spec?.holderIdentity ?? '';
  const free = !holder || holder === identity || expiry(current).getTime() <= now.getTime();
  if (!free) return { held: false, holder, expiresAt: expiry(current) };
  const taking = holder !== identity;
  try {
    const lease = await kube.replace<Lease>(paths.lease(namespace, name), {
      ...current,
      spec: {
        ...current.spec,
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: time,
        ...(taking
          ? { acquireTime: time, leaseTransitions: (current.spec?.leaseTransitions ?? 0) + (holder ? 1 : 0) }
          : {}),
      },
    });
    return { held: true, lease };
  } catch (error) {
    if (error instanceof KubeError && error.kind === 'conflict') {
      return {
        held: false,
        holder: 'another replica',
        expiresAt: new Date(now.getTime() + durationSeconds * 1000),
      };
    }
    throw error;
  }
}

/**
 * Writes the holder's state and renews or releases in one conditional write. A conflict means
 * someone poked the Lease (new work arrived) or took it over: the caller re-reads and decides.
 */
export async function writeLease(
  kube: Kube,
  lease: Lease,
  state: unknown,
  options: { release: boolean; now: Date },
): Promise<Lease | 'conflict'> {
  const time = microTime(options.now);
  try {
    return await kube.replace<Lease>(paths.lease(lease.metadata.namespace ?? '', lease.metadata.name), {
      ...lease,
      metadata: {
        ...lease.metadata,
        annotations: { ...lease.metadata.annotations, [STATE_ANNOTATION]: JSON.stringify(state) },
      },
      spec: options.release
        ? { ...lease.spec, holderIdentity: undefined, renewTime: time }
        : { ...lease.spec, renewTime: time },
    });
  } catch (error) {
    if (error instanceof KubeError && error.kind === 'conflict') return 'conflict';
    throw error;
  }
}

/**
 * Tells a busy holder that there is new work: any write bumps the resourceVersion, so the
 * holder's next conditional write fails and it runs another round instead of releasing —
 * no wake-up is lost between its last read and its release.
 */
export async function pokeLease(kube: Kube, namespace: string, name: string, now: Date): Promise<void> {
  try {
    await kube.mergePatch(paths.lease(namespace, name), {
      metadata: { annotations: { [POKE_ANNOTATION]: microTime(now) } },
    });
  } catch (error) {
    if (error instanceof KubeError && error.kind === 'not-found') return;
    throw error;
  }
}

/** The holder's state saved in the Lease, or undefined. */
export function leaseState(lease: Lease | undefined): unknown {
  const raw = lease?.metadata.annotations?.[STATE_ANNOTATION];
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** Who holds a Lease: one identity per process, so a crashed replica's Lease simply expires. */
export function replicaIdentity(): string {
  return `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
}

/** The Lease of one piece of work: `drop-<work>-<name>`, e.g. drop-pace-default. */
export function leaseName(work: 'pace' | 'discover', name: string): string {
  return `drop-${work}-${name}`.slice(0, 253);
}

/**
 * The answer when another replica holds the Lease: 429 with Retry-After until it expires (at
 * most its duration), so the sender comes back when the work can be taken over.
 */
export function heldElsewhere(
  attempt: Extract<LeaseAttempt, { held: false }>,
  what: string,
  now: Date,
  durationSeconds: number,
): Outcome {
  const seconds = Math.ceil((attempt.expiresAt.getTime() - now.getTime()) / 1000);
  return {
    result: 'retry',
    status: 429,
    retryAfterSeconds: Math.min(Math.max(1, seconds), durationSeconds),
    detail: `${what} is held by ${attempt.holder}`,
  };
}

/** Gives the Lease up (keeping its state); a Lease deleted meanwhile or taken over is not ours anyway. */
export async function releaseLease(kube: Kube, lease: Lease, state: unknown, now: Date): Promise<void> {
  try {
    await writeLease(kube, lease, state, { release: true, now });
  } catch (error) {
    if (error instanceof KubeError && error.kind === 'not-found') return;
    throw error;
  }
}
