import type { CachedImage, CachedImageSet } from '../../lib/api/index.ts';

// What reconcile-set reads of the cluster for one set: the planner's input (plan.ts), from which
// status.ts words the status; reconcile.ts reads it.

/** A referenced object: absent when the set does not reference one. */
export type Lookup<T> =
  | { readonly name: string; readonly found: false }
  | { readonly name: string; readonly found: true; readonly object: T };

export interface ObservedSet {
  readonly set: CachedImageSet;
  /** CachedImages labelled with this set's name, whoever owns them. */
  readonly children: readonly CachedImage[];
  readonly discovery?: Lookup<DiscoveryView>;
  readonly pullPolicy?: Lookup<unknown>;
  /** Child names that turned out to be taken by a CachedImage this set does not manage. */
  readonly conflicts?: readonly string[];
  readonly now: Date;
}

/** What a set reads of its DiscoveryPolicy: the images, and whether the last sync worked. */
export interface DiscoveryView {
  /** The references it lists, best first (status.discoveredImages[].image). */
  readonly references: readonly string[];
  /** The policy's STATUS word (`Synced`, or why the last sync failed); absent before the first sync. */
  readonly phase?: string;
  readonly message?: string;
}
