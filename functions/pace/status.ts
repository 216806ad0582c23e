import type { CachedImage, CachedImageStatus } from '../../lib/api/index.ts';
import type { WaitingSummary } from '../../lib/pacing/index.ts';

// The pacer knows which limit holds each waiting node (lib/pacing's waiting summary);
// reconcile-image, which owns the rest of the status, only knows that a node waits. So the pacer
// writes that part, `status.pacing`, and reconcile-image keeps it while nodes wait
// (functions/reconcile-image/status.ts).

/** A summary that changed only in its counts is written again after this long at the soonest. */
export const PACING_REFRESH_MS = 10_000;

/**
 * The image's `pacing` summary for what this round saw, or undefined when it need not be written:
 * nothing waits, the same limits hold as written (counts that moved are refreshed every
 * PACING_REFRESH_MS: they move every round, and each write is an event for every watcher).
 */
export function pacingUpdate(
  image: CachedImage,
  waiting: readonly WaitingSummary[],
  now: number,
): CachedImageStatus['pacing'] | undefined {
  const mine = waiting.filter((w) => w.image === image.metadata.name);
  if (mine.length === 0) return undefined;
  const pacing = {
    at: new Date(now).toISOString(),
    waiting: mine.map((w) => ({
      limit: w.limit,
      nodes: w.nodes,
      examples: [...w.examples],
      message: w.message,
    })),
  };
  const before = image.status?.pacing;
  if (!before) return pacing;
  const limits = (p: NonNullable<CachedImageStatus['pacing']>) => p.waiting.map((w) => w.limit).join(',');
  if (limits(before) !== limits(pacing)) return pacing;
  const counts = (p: NonNullable<CachedImageStatus['pacing']>) => p.waiting.map((w) => w.nodes).join(',');
  const stale = now - Date.parse(before.at) >= PACING_REFRESH_MS;
  return stale && counts(before) !== counts(pacing) ? pacing : undefined;
}
