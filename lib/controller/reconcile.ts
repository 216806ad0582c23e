import { reconcileTotal } from '../go-drop-metrics.ts';
import type { Kube, KubeObject } from '../kube/client.ts';
import { KubeError } from '../kube/errors.ts';
import { statusPath } from '../kube/paths.ts';
import { sameJson } from '../same-json.ts';
import type { Outcome } from './outcome.ts';

/** An object with a status subresource. */
export interface StatusObject extends KubeObject {
  readonly status?: unknown;
}

/** What one attempt decided for an object that exists. */
export interface Synced<S> {
  /** The status to record: written (PUT /status) only when it differs from the object's. */
  readonly status: S;
  readonly detail: string;
  /**
   * Only when the status was written: what follows from outcomes recorded for the first time
   * (metrics, Kubernetes Events). Never after a conflict, so nothing is counted twice; after
   * `afterward` (even when it fails), so what the status now accounts for is done first.
   */
  readonly onWritten?: () => void | Promise<void>;
  /** Once the status is recorded (or found unchanged): work it now accounts for, e.g. deleting finished pods. */
  readonly afterward?: () => Promise<void>;
}

export interface ReconcileByName<T extends StatusObject, S> {
  readonly kube: Kube;
  /** The kind, for messages. */
  readonly kind: string;
  readonly name: string;
  /** The object's REST path. */
  readonly path: string;
  /**
   * Where the first attempt reads the object: a list just returned, or a watch-backed cache. A
   * conflict means it was stale, so later attempts read the API.
   */
  readonly cached?: () => T | undefined;
  /** Told what a status write returned, so a cache serves the written object at once. */
  readonly observe?: (written: T) => void;
  /**
   * Status writes of one object at most this often (ms): changes that come faster are recorded
   * together, by a reconcile the caller runs again after `requeueAfterMs` (the kit's queue does).
   */
  readonly minWriteIntervalMs?: number;
  /** A change that must not wait for that interval (a spec to settle, a backoff that starts when recorded). */
  readonly urgent?: (object: T) => boolean;
  /** Attempts before a run of 409s is answered 503 (default 3). */
  readonly attempts?: number;
  /** The object is gone or being deleted: remove what it left behind; says what was done. */
  finalize(): Promise<string>;
  /**
   * Observe, plan and do the writes besides status (which may end in 'conflict': read again and
   * retry), or answer an outcome as it is (e.g. nothing is due).
   */
  sync(object: T, attempt: number): Promise<Synced<S> | Outcome | 'conflict'>;
}

const ATTEMPTS = 3;
/** When each object's status was last written by this process (epoch ms), by path. */
const lastWrites = new Map<string, number>();

/**
 * The one copy of a controller's boring part: read → gone? finalize → observe and plan (`sync`) →
 * compare status → PUT /status with the resourceVersion read → on a 409 read again and retry →
 * an Outcome. A status PUT carries the resourceVersion it read, so a concurrent writer makes it a
 * 409, never a lost update. A status that changes faster than `minWriteIntervalMs` is written
 * once per interval with everything that changed meanwhile (docs/design.md §Reconcile).
 */
export function reconcileByName<T extends StatusObject, S>(steps: ReconcileByName<T, S>): Promise<Outcome> {
  return counted(steps.kind.toLowerCase(), reconcileOnce(steps));
}

/**
 * Counts one reconcile in drop_reconcile_total under Go Drop's controller names (cachedimage,
 * cachedimageset, discoverypolicy; pullpolicy for the pacer): success, requeue (the event is
 * answered 429/503 and comes again), or error (it threw).
 */
export async function counted(controller: string, reconcile: Promise<Outcome>): Promise<Outcome> {
  try {
    const outcome = await reconcile;
    const result =
      outcome.result === 'retry' ? 'requeue' : outcome.result === 'invalid' ? 'error' : 'success';
    reconcileTotal.inc({ controller, result });
    return outcome;
  } catch (error) {
    reconcileTotal.inc({ controller, result: 'error' });
    throw error;
  }
}

async function reconcileOnce<T extends StatusObject, S>(steps: ReconcileByName<T, S>): Promise<Outcome> {
  const attempts = steps.attempts ?? ATTEMPTS;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const object = attempt === 0 && steps.cached ? steps.cached() : await steps.kube.get<T>(steps.path);
    if (!object || object.metadata.deletionTimestamp) {
      lastWrites.delete(steps.path);
      return { result: 'ignored', detail: `${steps.kind} ${steps.name} is gone; ${await steps.finalize()}` };
    }
    // Written less than an interval ago: whatever changed is recorded by the reconcile that
    // writes next, so this one need not even plan.
    const wait = steps.urgent?.(object)
      ? 0
      : waitBeforeWrite(steps.path, steps.minWriteIntervalMs, Date.now());
    if (wait > 0)
      return { result: 'done', detail: `recorded by the reconcile in ${wait} ms`, requeueAfterMs: wait };
    const synced = await steps.sync(object, attempt);
    if (synced === 'conflict') continue;
    if ('result' in synced) return synced;
    let written = false;
    if (!sameJson(object.status, synced.status)) {
      const result = await writeStatus(steps.kube, steps.path, object, synced.status);
      if (result === 'conflict') continue;
      if (result !== 'gone') {
        written = true;
        lastWrites.set(steps.path, Date.now());
        steps.observe?.(result as T);
      }
    }
    try {
      await synced.afterward?.();
    } finally {
      if (written) await synced.onWritten?.();
    }
    return { result: 'done', detail: synced.detail };
  }
  return {
    result: 'retry',
    status: 503,
    detail: `${steps.kind} ${steps.name} kept changing under us (${attempts} conflicting writes)`,
  };
}

function waitBeforeWrite(path: string, intervalMs: number | undefined, now: number): number {
  const last = lastWrites.get(path);
  if (!intervalMs || last === undefined) return 0;
  return Math.max(0, last + intervalMs - now);
}

/**
 * PUT on /status with the resourceVersion the object was read at. The only status writer in Drop:
 * the object as written, 'conflict' when someone wrote since (read again and decide again), 'gone'
 * when it was deleted.
 */
export async function writeStatus<T extends StatusObject>(
  kube: Kube,
  path: string,
  object: T,
  status: unknown,
): Promise<T | 'conflict' | 'gone'> {
  try {
    return await kube.replace<T>(statusPath(path), { ...object, status });
  } catch (error) {
    if (error instanceof KubeError && error.kind === 'conflict') return 'conflict';
    if (error instanceof KubeError && error.kind === 'not-found') return 'gone';
    throw error;
  }
}
