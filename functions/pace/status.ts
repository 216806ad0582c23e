import type { CachedImage, WaitingNode } from '../../lib/api/index.ts';
import type { WaitingPull } from '../../lib/pacing/index.ts';

// The pacer knows which limit holds each waiting node (lib/pacing's `waiting`); reconcile-image,
// which owns the rest of the status, only knows that a node waits. So the pacer writes that part:
// `limit` and its message, on the entries reconcile-image wrote, and reconcile-image keeps them
// while the node waits for the same reason (functions/reconcile-image/status.ts).

/**
 * The image's waiting entries with the limit the pacer saw for each node it could not start, or
 * undefined when no node's limit changed (messages carry counts and times that move every round:
 * writing for those would cost a status write per round).
 */
export function waitingWithLimits(
  image: CachedImage,
  waiting: readonly WaitingPull[],
): WaitingNode[] | undefined {
  const held = new Map(
    waiting
      .filter((w) => w.image === image.metadata.name && w.reason === 'WaitingForSlot')
      .map((w) => [w.node, w]),
  );
  let changed = false;
  const entries = (image.status?.waitingNodes ?? []).map((entry) => {
    const pull = held.get(entry.node);
    // Backoff and re-pull timing are reconcile-image's to say; a node being started has no limit.
    if (!pull || entry.reason === 'BackOff' || entry.limit === pull.limit) return entry;
    changed = true;
    return { ...entry, limit: pull.limit, message: pull.message };
  });
  return changed ? entries : undefined;
}
