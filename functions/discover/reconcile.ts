import {
  type DiscoveryPolicy,
  type DiscoveryPolicyStatus,
  discoveryPolicySpecSchema,
  parseSpec,
} from '../../lib/api/index.ts';
import {
  acquireLease,
  type HandlerContext,
  heldElsewhere,
  leaseName,
  type Outcome,
  reconcileByName,
  releaseLease,
} from '../../lib/controller/index.ts';
import { pipelineOf } from '../../lib/discovery/index.ts';
import { beginSourceSeries, discoverySourceLatency } from '../../lib/go-drop-metrics.ts';
import { type Kube, paths } from '../../lib/kube/index.ts';
import { discoveryImages, discoverySyncDuration, discoverySyncsTotal } from '../../lib/metrics.ts';
import { syncDue } from './plan.ts';
import { nodesFor, type QueryBounds, runQueries } from './queries.ts';
import type { SyncSlots } from './slots.ts';
import { declaredQueries, invalidSpecStatus, syncedStatus } from './status.ts';

/** What a sync needs besides the event's client and clock: index.ts's DiscoverOptions. */
export interface Discoverer extends QueryBounds {
  /** Who holds a sync Lease: one per process. */
  readonly identity: string;
  /** The syncs running in this process. */
  readonly slots: SyncSlots;
}

const KIND = 'DiscoveryPolicy';
// Two replicas must not sync one policy at once. A Lease rather than a "syncing" mark in status:
// the mark would be a status write that wakes every watcher of DiscoveryPolicies (reconcile-set,
// kubectl -w) for nothing, and a crashed replica's mark would need the same expiry a Lease has.
const LEASE_SECONDS = 120;

/**
 * Reconciles one policy on its event: gone → its Lease and metrics go; not due → nothing (one
 * GET); due → its sync starts under its Lease and the event is answered at once. The adapter
 * sends one event at a time per watch, so waiting for the sync would hold every other policy's
 * event behind a slow server (docs/design.md §Discovery).
 */
export async function reconcilePolicy(d: Discoverer, name: string, ctx: HandlerContext): Promise<Outcome> {
  const started = await startIfDue(d, name, ctx, undefined);
  return started.outcome;
}

/**
 * The ping: every due policy, each starting as soon as a sync slot is free and each on its own,
 * so a hanging server delays no other policy; answered when all have ended (at most the sync
 * deadline). A failure, a held Lease or a bug in one is logged and the others go on.
 */
export async function resyncPolicies(d: Discoverer, ctx: HandlerContext): Promise<Outcome> {
  const policies = await ctx.kube.list<DiscoveryPolicy>(paths.discoveryPolicies());
  const due = policies.items.filter((p) => syncDue(p, ctx.now()).due);
  const outcomes = await Promise.all(
    due.map(async (policy) => {
      const started = await startIfDue(d, policy.metadata.name, ctx, policy);
      await started.done;
      return started.outcome;
    }),
  );
  const busy = outcomes.filter((o) => o.result === 'retry').length;
  // Done even when some were busy or failed: another replica holds the busy ones, the others are
  // still due at the next tick, and a ping delivered again would sync every due policy again.
  return {
    result: 'done',
    detail: `${due.length} of ${policies.items.length} policies due; ${outcomes.length - busy} synced${busy ? `, ${busy} busy or failed` : ''}`,
  };
}

interface Started {
  readonly outcome: Outcome;
  /** Resolves with the sync's own outcome when the sync this started has ended (at once when none started). */
  readonly done: Promise<Outcome | undefined>;
}

// With `listed` (the ping) a policy waits for a free sync slot; an event is answered 429 instead.
async function startIfDue(
  d: Discoverer,
  name: string,
  ctx: HandlerContext,
  listed: DiscoveryPolicy | undefined,
): Promise<Started> {
  let done: Promise<Outcome | undefined> = Promise.resolve(undefined);
  try {
    const outcome = await reconcileByName<DiscoveryPolicy, DiscoveryPolicyStatus>({
      kube: ctx.kube,
      kind: KIND,
      name,
      path: paths.discoveryPolicy(name),
      cached: listed ? () => listed : undefined,
      finalize: () => forgetPolicy(d, name, ctx.kube),
      sync: async (policy) => {
        const due = syncDue(policy, ctx.now());
        if (!due.due) return { result: 'ignored', detail: `${KIND} ${name} is not due: ${due.why}` };
        const started = await startUnderLease(d, name, ctx, listed !== undefined);
        done = started.done;
        return started.outcome;
      },
    });
    return { outcome, done };
  } catch (error) {
    ctx.log.error('sync failed', {
      policy: name,
      error: error instanceof Error ? error.message : String(error),
    });
    return { outcome: { result: 'retry', detail: `${KIND} ${name}: ${String(error)}` }, done };
  }
}

// Another replica syncing the policy answers 429 until its Lease expires; so does this process
// when all its sync slots are taken. The Lease is released (not deleted) after the sync, so the
// next sync reuses it — unless the policy was gone by the re-read: then finalize deleted it.
async function startUnderLease(
  d: Discoverer,
  name: string,
  ctx: HandlerContext,
  wait: boolean,
): Promise<Started> {
  let slot = d.slots.take(name);
  // Others woken with this one may take the freed slots first: take again after every wait.
  while (wait && slot.kind === 'full') {
    await d.slots.free();
    slot = d.slots.take(name);
  }
  if (slot.kind === 'running')
    return {
      outcome: { result: 'done', detail: `${KIND} ${name} is syncing here already` },
      done: slot.done,
    };
  if (slot.kind === 'full')
    return {
      outcome: {
        result: 'retry',
        status: 429,
        retryAfterSeconds: 10,
        detail: `all ${d.slots.size} sync slots are busy`,
      },
      done: Promise.resolve(undefined),
    };
  const lease = leaseName('discover', name);
  const attempt = await acquireLease(
    ctx.kube,
    d.namespace,
    lease,
    d.identity,
    LEASE_SECONDS,
    ctx.now(),
  ).catch((error: unknown) => {
    slot.release();
    throw error;
  });
  if (!attempt.held) {
    slot.release();
    return {
      outcome: heldElsewhere(attempt, `Lease ${lease}`, ctx.now(), LEASE_SECONDS),
      done: Promise.resolve(undefined),
    };
  }
  const done = (async (): Promise<Outcome | undefined> => {
    let deleted = false;
    try {
      const outcome = await syncHeld(d, name, ctx, async () => {
        deleted = true;
        return forgetPolicy(d, name, ctx.kube);
      });
      ctx.log.info('sync ended', { policy: name, result: outcome.result, detail: outcome.detail });
      return outcome;
    } catch (error) {
      ctx.log.error('sync failed', {
        policy: name,
        error: error instanceof Error ? error.message : String(error),
      });
      return { result: 'retry', status: 503, detail: `${KIND} ${name}: ${String(error)}` };
    } finally {
      if (!deleted) await releaseLease(ctx.kube, attempt.lease, {}, ctx.now()).catch(() => undefined);
      slot.release();
    }
  })();
  slot.running(done);
  return { outcome: { result: 'done', detail: `${KIND} ${name}: syncing under Lease ${lease}` }, done };
}

/**
 * Re-reads the policy under the Lease (another replica may have synced it just now), queries
 * everything and writes status. One attempt: the status PUT carries the resourceVersion read
 * here, so a spec change during the sync is a 409, and that change's own event (or the next
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
      const { status, requests } = await discover(d, policy, ctx);
      synced.status = status;
      return {
        status,
        detail: `${KIND} ${name}: ${status.phase}, ${status.imageCount} images, ${requests} query requests (${due.why})`,
      };
    },
  });
  // After the status write, and whether or not it conflicted: the queries ran either way.
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
): Promise<{ readonly status: DiscoveryPolicyStatus; readonly requests: number }> {
  const generation = policy.metadata.generation ?? 0;
  const spec = parseSpec(discoveryPolicySpecSchema, policy.spec);
  if (!spec.ok) {
    const input = {
      generation,
      previous: policy.status,
      now: ctx.now(),
      sourceCount: declaredQueries(policy.spec),
    };
    return { status: invalidSpecStatus(input, spec.message), requests: 0 };
  }
  const pipeline = pipelineOf(spec.spec);
  let requests = 0;
  const [runs, nodes] = await Promise.all([
    runQueries(d, pipeline, { ...ctx, timeQuery: timerFor(policy.metadata.name) }, () => {
      requests++;
    }),
    nodesFor(pipeline, ctx.kube),
  ]);
  const status = syncedStatus({
    generation,
    spec: spec.spec,
    pipeline,
    runs,
    nodes: nodes.nodes,
    ...(nodes.note ? { nodesNote: nodes.note } : {}),
    previous: policy.status,
    now: ctx.now(),
  });
  return { status, requests };
}

/** Go Drop's drop_discovery_source_latency_seconds for each query of a policy's sync. */
function timerFor(policy: string): (query: { readonly type: string }) => () => void {
  return (query) => {
    beginSourceSeries(policy, query.type);
    return discoverySourceLatency.startTimer({ policy, source_type: query.type });
  };
}
