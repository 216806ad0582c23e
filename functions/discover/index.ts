import type { Hono } from 'hono';
import { eventApp, replicaIdentity } from '../../lib/controller/index.ts';
import type { Kube } from '../../lib/kube/index.ts';
import { reconcilePolicy, resyncPolicies } from './reconcile.ts';
import { SyncSlots } from './slots.ts';
import { watches } from './watches.ts';

export const FUNCTION = 'discover';

export interface DiscoverOptions {
  readonly kube: Kube;
  readonly namespace: string;
  readonly identity?: string;
  readonly now?: () => Date;
  /** Per HTTP request to a query's server (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Per query, its pages and waits together (default 60 s). */
  readonly queryTimeoutMs?: number;
  /** The syncs of this process (default: up to 8 at once); tests pass one to await them. */
  readonly slots?: SyncSlots;
  /** Largest response read from a source (default 32 MiB). */
  readonly maxResponseBytes?: number;
  /** A whole sync of one policy (default 90 s, below the 120 s sync Lease). */
  readonly syncDeadlineMs?: number;
}

/** The discover function: DiscoveryPolicy events sync that policy when due; the ping syncs every due one. */
export function createDiscoverApp(options: DiscoverOptions): Hono {
  const discoverer = {
    ...options,
    identity: options.identity ?? replicaIdentity(),
    slots: options.slots ?? new SyncSlots(),
  };
  return eventApp({
    name: FUNCTION,
    kube: options.kube,
    now: options.now,
    watches,
    reconcile: (name, ctx) => reconcilePolicy(discoverer, name, ctx),
    resync: (ctx) => resyncPolicies(discoverer, ctx),
  });
}
