import type { PacingLimits } from '../policy/limits.ts';
import { imageBlockers, nodeBlockers } from './blockers.ts';
import type { ImageDemand, InFlightPull, PullStart } from './demand.ts';
import { Draft } from './draft.ts';
import { makeRoom, pickNode } from './node-choice.ts';
import { compareNames } from './pending-work.ts';
import { liveCursor, type PacingCursor, type PriorityGroup, priorityGroups } from './rotation.ts';
import { toWaiting, type WaitingPull, wakeAt } from './waiting.ts';

export interface NextPullsInput {
  readonly policy: string;
  readonly limits: PacingLimits;
  /** Every image governed by the policy, also those with nothing pending (they keep their cursor entry). */
  readonly images: readonly ImageDemand[];
  /** Every Drop pull in flight in the cluster, of any policy. */
  readonly inFlight: readonly InFlightPull[];
  /** As returned by the previous call for this policy; absent on the first. */
  readonly cursor?: PacingCursor | undefined;
  /** Epoch ms. */
  readonly now: number;
}

export interface PacingDecision {
  /** In the order decided; start them all now. */
  readonly starts: readonly PullStart[];
  /** To store (in the policy's Lease) and pass to the next call. */
  readonly cursor: PacingCursor;
  /** The earliest later time at which time alone lets a pending pull start; absent when only a finishing pull can. */
  readonly nextWakeAt?: number;
  /** Every pending (image, node) that does not start, with the reason; sorted by image, then node. */
  readonly waiting: readonly WaitingPull[];
}

/**
 * The pulls one policy should start at `now`: as many as every limit allows (docs/design.md §Pacing),
 * higher priority first, equal priorities in turns after the cursor.
 */
export function nextPulls(input: NextPullsInput): PacingDecision {
  const draft = new Draft(input);
  const cursor = liveCursor(input.images, input.cursor ?? {});
  for (const group of priorityGroups(input.images, input.cursor ?? {})) {
    const lastServed = serveGroup(group, draft);
    if (lastServed !== undefined) cursor[group.cursorKey] = lastServed;
  }
  const starts = draft.starts();
  const { waiting, nextWakeAt } = explain(input.images, draft);
  return nextWakeAt === undefined ? { starts, cursor, waiting } : { starts, cursor, nextWakeAt, waiting };
}

/**
 * Passes over the group in rotation, at most one start per image per pass, until a pass starts
 * nothing; returns the last image served.
 */
function serveGroup(group: PriorityGroup, draft: Draft): string | undefined {
  let lastServed: string | undefined;
  // Starts only ever add load (a start moved by makeRoom leaves its node to the image that asked),
  // so an image that cannot start now cannot start later in this call either.
  let open = group.images;
  while (open.length > 0) {
    const stillOpen: ImageDemand[] = [];
    for (const image of open) {
      const node = pickNode(image, draft) ?? makeRoom(image, draft);
      if (node === undefined) continue;
      draft.start(image, node);
      lastServed = image.name;
      stillOpen.push(image);
    }
    open = stillOpen;
  }
  return lastServed;
}

function explain(
  images: readonly ImageDemand[],
  draft: Draft,
): { waiting: readonly WaitingPull[]; nextWakeAt: number | undefined } {
  const waiting: WaitingPull[] = [];
  let nextWakeAt: number | undefined;
  for (const image of [...images].sort((a, b) => compareNames(a.name, b.name))) {
    const heldByImage = imageBlockers(image, draft);
    for (const node of [...draft.pending.nodesOf(image)].sort(compareNames)) {
      const blockers = [...nodeBlockers(image, node, draft), ...heldByImage];
      waiting.push(toWaiting(image.name, node, blockers, draft.policy));
      const wake = wakeAt(blockers);
      if (wake !== undefined && (nextWakeAt === undefined || wake < nextWakeAt)) nextWakeAt = wake;
    }
  }
  return { waiting, nextWakeAt };
}
