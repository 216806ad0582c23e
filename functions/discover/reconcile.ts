import { type DiscoveryPolicy, type DiscoveryPolicyStatus, parseSpec } from '../../lib/api/index.ts';
import {
  acquireLease,
  type HandlerContext,
  heldElsewhere,
  inBatches,
  leaseName,
  type Outcome,
  reconcileByName,
  releaseLease,
} from '../../lib/controller/index.ts';
import { type Kube, paths } from '../../lib/kube/index.ts';
import { discoveryImages, discoverySyncDuration, discoverySyncsTotal } from '../../lib/metrics.ts';
import { syncDue } from './plan.ts';
import { runSources, type SourceBounds } from './sources.ts';
import { declaredSources, invalidSpecStatus, syncedStatus } from './status.ts';

/** What a sync needs besides the event's client and clock: index.ts's DiscoverOptions. */
export interface Discoverer extends SourceBounds {
  /** Who holds a sync Lease: one per process. */
  readonly identity: string;
}

const KIND = 'DiscoveryPolicy';

// Two replicas must not sync one policy at once. A Lease rather than a "syncing" mark in status:
// the mark would be a status write that wakes every watcher of DiscoveryPolicies (reconcile-set,
// kubectl -w) for nothing, and a crashed replica's mark would need the same expiry a Lease has.
const LEASE_SECONDS = 120;

/**
 * Reconciles one policy: gone → its Lease and metrics go; not due → nothing (one GET); due → sync
 * it under its Lease. Due is read from the API (or the ping's list), never from an event's payload.
 */
export function reconcilePolicy(
  d: Discoverer,
  name: string,
  ctx: HandlerContext,
  listed?: DiscoveryPolicy,
): Promise<Outcome> {
  return reconcileByName<DiscoveryPolicy, DiscoveryPolicyStatus>({
    kube: ctx.kube,
    kind: KIND,
    name,
    path: paths.discoveryPolicy(name),
    cached: listed ? () => listed : undefined,
    finalize: () => forgetPolicy(d, name, ctx.kube),
    sync: async (policy) => {
      const due = syncDue(policy, ctx.now());
      if (!due.due) return { result: 'ignored', detail: `${KIND} ${name} is not due: ${due.why}` };
      return syncUnderLease(d, name, ctx);
    },
  });
}

/**
 * The ping: every policy whose sync is due, four at a time (inBatches). Each stands alone: a
 * failure, a held Lease or even a bug in one is logged and the others go on.
 */
export async function resyncPolicies(d: Discoverer, ctx: HandlerContext): Promise<Outcome> {
  const policies = await ctx.kube.list<DiscoveryPolicy>(paths.discoveryPolicies());
  const due = policies.items.filter((p) => syncDue(p, ctx.now()).due);
  const outcomes = await inBatches(due, (policy) => syncAlone(d, policy, ctx));
  const busy = outcomes.filter((o) => o.result === 'retry').length;
  // Done even when some were busy or failed: another replica holds the busy ones, the others are
  // still due at the next tick, and a ping delivered again would sync every due policy again.
  return {
    result: 'done',
    detail: `${due.length} of ${policies.items.length} policies due; ${outcomes.length - busy} synced${busy ? `, ${busy} busy or failed` : ''}`,
  };
}

async function syncAlone(d: Discoverer, policy: DiscoveryPolicy, ctx: HandlerContext): Promise<Outcome> {
  const name = policy.metadata.name;
  try {
    return await reconcilePolicy(d, name, ctx, policy);
  } catch (error) {
    ctx.log.error('sync failed', {
      policy: name,
      error: error instanceof Error ? error.message : String(error),
    });
    return { result: 'retry', detail: `${KIND} ${name}: ${String(error)}` };
  }
}

// Another replica syncing the policy answers 429 until its Lease expires; on a ping that is
// counted as busy. The Lease is released (not deleted) after the sync, so the next sync reuses it —
// unless the policy was gone by the re-read: then finalize deleted it and nothing is left to release.
async function syncUnderLease(d: Discoverer, name: string, ctx: HandlerContext): Promise<Outcome> {
  const lease = leaseName('discover', name);
  const attempt = await acquireLease(ctx.kube, d.namespace, lease, d.identity, LEASE_SECONDS, ctx.now());
  if (!attempt.held) return heldElsewhere(attempt, `Lease ${lease}`, ctx.now(), LEASE_SECONDS);
  let deleted = false;
  try {
    return await syncHeld(d, name, ctx, async () => {
      deleted = true;
      return forgetPolicy(d, name, ctx.kube);
    });
  } finally {
    if (!deleted) await releaseLease(ctx.kube, attempt.lease, {}, ctx.now());
  }
}

/**
 * Re-reads the policy under the Lease (another replica may have synced it just now), queries every
 * source and writes status. One attempt: the status PUT carries the resourceVersion read here, so
 * a spec change during the sync is a 409, answered 503, and that change's own event (or the next
 * ping) syncs the new spec.
 */
async function syncHeld(
  d: Discoverer,
  name: string,
  ctx: HandlerContext,
  finalize: () => Promise<string>,
): Promise<Outcome> {
  const synced: { status?: DiscoveryPolicyStatus; started?: number } = {};
  const outcome = await reconcileByName<DiscoveryPolicy, DiscoveryPolicyStatus>({
    kube: ctx.kube,
    kind: KIND,
    name,
    path: paths.discoveryPolicy(name),
    attempts: 1,
    finalize,
    sync: async (policy) => {
      const due = syncDue(policy, ctx.now());
      if (!due.due) return { result: 'ignored', detail: `${KIND} ${name} was just synced elsewhere` };
      synced.started = performance.now();
      const { status, sourceRequests } = await discover(d, policy, ctx);
      synced.status = status;
      return {
        status,
        detail: `${KIND} ${name}: ${status.phase}, ${status.imageCount} images, ${sourceRequests} source requests (${due.why})`,
      };
    },
  });
  // After the status write, and whether or not it conflicted: the sources were queried either way.
  if (synced.status && synced.started !== undefined) {
    discoverySyncsTotal.inc({ policy: name, result: synced.status.phase ?? 'Unknown' });
    discoverySyncDuration.observe({ policy: name }, (performance.now() - synced.started) / 1000);
    discoveryImages.set({ policy: name }, synced.status.imageCount ?? 0);
  }
  return outcome;
}

/** A policy that is gone: its Lease and its metrics go too. */
async function forgetPolicy(d: Discoverer, name: string, kube: Kube): Promise<string> {
  await kube.delete(paths.lease(d.namespace, leaseName('discover', name)));
  discoveryImages.remove({ policy: name });
  return 'removed its Lease';
}

async function discover(
  d: Discoverer,
  policy: DiscoveryPolicy,
  ctx: HandlerContext,
): Promise<{ readonly status: DiscoveryPolicyStatus; readonly sourceRequests: number }> {
  const generation = policy.metadata.generation ?? 0;
  const spec = parseSpec('DiscoveryPolicy', policy.spec);
  if (!spec.ok) {
    const input = {
      generation,
      previous: policy.status,
      now: ctx.now(),
      sourceCount: declaredSources(policy.spec),
    };
    return { status: invalidSpecStatus(input, spec.message), sourceRequests: 0 };
  }
  let sourceRequests = 0;
  const runs = await runSources(d, spec.spec, ctx, () => {
    sourceRequests++;
  });
  const status = syncedStatus({ generation, spec: spec.spec, previous: policy.status, runs, now: ctx.now() });
  return { status, sourceRequests };
}
