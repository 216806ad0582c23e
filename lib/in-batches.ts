/**
 * Runs `work` over `items` a few at a time: a resync of hundreds of objects neither queues them all
 * on the API server at once nor waits for each in turn. Results come back in input order.
 */
export async function inBatches<T, R>(
  items: readonly T[],
  work: (item: T) => Promise<R>,
  size = 4,
): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    results.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  }
  return results;
}
