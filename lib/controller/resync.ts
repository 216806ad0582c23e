import { firstRetryOr, type Outcome } from './outcome.ts';

const BATCH = 4;

/**
 * Runs `work` over `items` a few at a time: a resync of hundreds of objects neither queues them all
 * on the API server at once nor waits for each in turn. Results come back in input order.
 */
export async function inBatches<T, R>(
  items: readonly T[],
  work: (item: T) => Promise<R>,
  size = BATCH,
): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    results.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  }
  return results;
}

/**
 * Reconciles every item (from one list, read once by the caller) in batches, and answers the first
 * outcome that asks for a retry — so a resync that could not finish is delivered again — else done
 * with `detail`.
 */
export async function reconcileEach<T>(
  items: readonly T[],
  reconcile: (item: T) => Promise<Outcome>,
  detail: string,
): Promise<Outcome> {
  return firstRetryOr(await inBatches(items, reconcile), detail);
}
