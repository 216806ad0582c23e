import type { Hono } from 'hono';
import type { DiscoveryPolicy } from '../../lib/api/index.ts';
import { type DropEvent, eventApp, type HandlerContext, type Outcome } from '../../lib/events/index.ts';
import { type Kube, paths } from '../../lib/kube/index.ts';
import { type DiscoverDeps, forgetPolicy, replicaIdentity, syncIfDue, syncPolicy } from './apply.ts';
import { syncDue } from './plan.ts';

export const FUNCTION = 'discover';

export interface DiscoverOptions {
  readonly kube: Kube;
  readonly namespace: string;
  readonly identity?: string;
  readonly now?: () => Date;
  /** Per HTTP request to Prometheus or a registry (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Largest response read from a source (default 32 MiB). */
  readonly maxResponseBytes?: number;
  /** A whole sync of one policy (default 90 s, below the 120 s sync Lease). */
  readonly syncDeadlineMs?: number;
}

/** The discover function: DiscoveryPolicy events sync that policy when due; the ping syncs every due one. */
export function createDiscoverApp(options: DiscoverOptions): Hono {
  const identity = options.identity ?? replicaIdentity();
  return eventApp({
    name: FUNCTION,
    handle: (event, ctx) => route(discoverDeps(options, identity, ctx), event, ctx),
  });
}

/** The dependencies of one handled event; exported so that tests can sync a policy without HTTP. */
export function discoverDeps(options: DiscoverOptions, identity: string, ctx?: HandlerContext): DiscoverDeps {
  return {
    kube: options.kube.session(FUNCTION, ctx?.countRequest),
    namespace: options.namespace,
    identity,
    now: options.now ?? (() => new Date()),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    maxResponseBytes: options.maxResponseBytes ?? 32 * 1024 * 1024,
    syncDeadlineMs: options.syncDeadlineMs ?? 90_000,
  };
}

function route(deps: DiscoverDeps, event: DropEvent, ctx: HandlerContext): Promise<Outcome> {
  if (event.type === 'ping') return syncDuePolicies(deps, ctx);
  if (event.ref.kind !== 'DiscoveryPolicy') {
    return Promise.resolve({
      result: 'ignored',
      detail: `kind ${event.ref.kind} is not handled by ${FUNCTION}`,
    });
  }
  if (event.action === 'delete') return forgetPolicy(deps, event.ref.name);
  return syncIfDue(deps, event.ref.name);
}

const PARALLEL = 4;

/**
 * The ping: every policy whose sync is due. Each policy's sync stands alone: a failure, a held
 * Lease or even a bug in one is logged and the others go on.
 */
async function syncDuePolicies(deps: DiscoverDeps, ctx: HandlerContext): Promise<Outcome> {
  const policies = await deps.kube.list<DiscoveryPolicy>(paths.discoveryPolicies());
  const due = policies.items.filter((p) => syncDue(p, deps.now()).due).map((p) => p.metadata.name);
  const outcomes: Outcome[] = [];
  for (let i = 0; i < due.length; i += PARALLEL) {
    const batch = due.slice(i, i + PARALLEL).map((name) => syncAlone(deps, name, ctx));
    outcomes.push(...(await Promise.all(batch)));
  }
  const busy = outcomes.filter((o) => o.result === 'retry').length;
  return {
    result: 'done',
    detail: `${due.length} of ${policies.items.length} policies due; ${outcomes.length - busy} synced${busy ? `, ${busy} busy or failed` : ''}`,
  };
}

async function syncAlone(deps: DiscoverDeps, name: string, ctx: HandlerContext): Promise<Outcome> {
  try {
    return await syncPolicy(deps, name);
  } catch (error) {
    ctx.log.error('sync failed', {
      policy: name,
      error: error instanceof Error ? error.message : String(error),
    });
    return { result: 'retry', detail: `DiscoveryPolicy ${name}: ${String(error)}` };
  }
}
