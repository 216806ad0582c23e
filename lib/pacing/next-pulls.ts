import { compareText } from '../order.ts';
import type { PacingLimits } from '../policy/limits.ts';
import { firstNodeBlock, heldOnNode, imageBlockers, isTimed, nodeBlockers } from './blockers.ts';
import type { HostState, ImageDemand, InFlightPull, PullStart } from './demand.ts';
import { Draft } from './draft.ts';
import { servedFirst } from './new-nodes.ts';
import { makeRoom, pickNode } from './node-choice.ts';
import { liveCursor, type PacingCursor, type PriorityGroup, priorityGroups } from './rotation.ts';
import { toWaiting, type WaitingPull, type WaitingSummary, WaitingTally, wakeAt } from './waiting.ts';

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
  /**
   * How far past `now` starts may be spread (ms; default 0, every start now): an image held only
   * by its minDelayBetweenPulls may start again within it, each start minDelay after the one
   * before, with `at` saying when. A caller that decides a round at most every T ms passes T, so
   * that an image's starts are not capped at one per round (at a thousand nodes a round costs tens
   * of ms, and rounds are spaced by ten times that).
   */
  readonly horizonMs?: number | undefined;
  /**
   * Registry hosts with a cap or a pause, by host (ImageDemand.host names one): pulls from a host
   * start only while its cap and pause allow, counted across every policy (lib/pacing/hosts.ts).
   */
  readonly hosts?: ReadonlyMap<string, HostState> | undefined;
  /**
   * Nodes that joined recently (lib/pacing/new-nodes.ts): within each priority, their pending pulls
   * are served before any other, so routine work never takes a slot one of them could use.
   */
  readonly newNodes?: ReadonlySet<string> | undefined;
  /**
   * How to explain the pulls that wait: `each` lists every pair with its reason (the default);
   * `summary` counts them by image and limit and names the first few — at a thousand nodes the
   * list is most of the call's work and nobody reads it whole; `wake` only counts them and says
   * when to wake (what a round needs when nobody reads why).
   */
  readonly explain?: 'each' | 'summary' | 'wake';
}

export interface PacingDecision {
  /** In the order decided; start each now, or at its `at` (only with `horizonMs`). */
  readonly starts: readonly PullStart[];
  /** To store (in the policy's Lease) and pass to the next call. */
  readonly cursor: PacingCursor;
  /** The earliest later time at which time alone lets a pending pull start; absent when only a finishing pull can. */
  readonly nextWakeAt?: number;
  /** Every pending (image, node) that does not start, with the reason; sorted by image, then node (`each`). */
  readonly waiting: readonly WaitingPull[];
  /** The same counted by image and limit, the first few nodes named (`summary`). */
  readonly waitingSummary: readonly WaitingSummary[];
  /** How many pending (image, node) pairs do not start. */
  readonly waitingCount: number;
}

/**
 * The pulls one policy should start at `now`: as many as every limit allows (docs/design.md §Pacing),
 * higher priority first, equal priorities in turns after the cursor.
 */
export function nextPulls(input: NextPullsInput): PacingDecision {
  const draft = new Draft({ ...input, newNodes: servedFirst(input.images, input.newNodes) });
  const cursor = liveCursor(input.images, input.cursor ?? {});
  for (const group of priorityGroups(input.images, input.cursor ?? {})) {
    const lastServed = serveGroup(group, draft);
    if (lastServed !== undefined) cursor[group.cursorKey] = lastServed;
  }
  const starts = draft.starts();
  const { nextWakeAt, ...reasons } = explain(input.images, draft, input.explain ?? 'each');
  return nextWakeAt === undefined
    ? { starts, cursor, ...reasons }
    : { starts, cursor, nextWakeAt, ...reasons };
}

/**
 * Serves the group's new nodes first, then all its nodes; returns the last image served. After the
 * first part no pending pull on a new node may start (starts only add load, and a start on a new
 * node never moves), so nothing the second part starts took a slot a new node could have used.
 */
function serveGroup(group: PriorityGroup, draft: Draft): string | undefined {
  const first = draft.newNodes.size > 0 ? servePasses(group, draft, draft.newNodes) : undefined;
  return servePasses(group, draft) ?? first;
}

/**
 * Passes over the group in rotation, at most one start per image per pass, until a pass starts
 * nothing; returns the last image served. With `only`, starts go to those nodes alone.
 */
function servePasses(group: PriorityGroup, draft: Draft, only?: ReadonlySet<string>): string | undefined {
  let lastServed: string | undefined;
  // Starts only ever add load (a start moved by makeRoom leaves its node to the image that asked),
  // so an image that cannot start now cannot start later in this call either.
  let open = group.images;
  while (open.length > 0) {
    const stillOpen: ImageDemand[] = [];
    for (const image of open) {
      const node = only ? pickNode(image, draft, only) : (pickNode(image, draft) ?? makeRoom(image, draft));
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
  mode: 'each' | 'summary' | 'wake',
): Omit<PacingDecision, 'starts' | 'cursor'> {
  if (mode === 'summary') return summarize(images, draft);
  if (mode === 'wake') return wakeOnly(images, draft);
  const waiting: WaitingPull[] = [];
  let nextWakeAt: number | undefined;
  for (const image of [...images].sort((a, b) => compareText(a.name, b.name))) {
    const heldByImage = imageBlockers(image, draft);
    for (const node of [...draft.pending.nodesOf(image)].sort(compareText)) {
      const blockers = [...nodeBlockers(image, node, draft), ...heldByImage];
      waiting.push(toWaiting(image.name, node, blockers, draft.policy));
      const wake = wakeAt(blockers);
      if (wake !== undefined && (nextWakeAt === undefined || wake < nextWakeAt)) nextWakeAt = wake;
    }
  }
  return { waiting, waitingSummary: [], waitingCount: waiting.length, nextWakeAt };
}

/**
 * What `each` says, counted: the same limits and the same nextWakeAt (a property test holds the
 * two together), in a few map lookups per waiting pair and no objects for most of them.
 */
function summarize(images: readonly ImageDemand[], draft: Draft): Omit<PacingDecision, 'starts' | 'cursor'> {
  const tally = new WaitingTally(draft.policy);
  let nextWakeAt: number | undefined;
  let waitingCount = 0;
  for (const image of [...images].sort((a, b) => compareText(a.name, b.name))) {
    const heldByImage = imageBlockers(image, draft);
    const imageTimed = heldByImage.every(isTimed);
    const imageUntil = Math.max(...heldByImage.flatMap((b) => (isTimed(b) ? [b.until] : [])));
    for (const node of [...draft.pending.nodesOf(image)].sort(compareText)) {
      waitingCount++;
      const block = firstNodeBlock(image, node, draft);
      const limit = block?.limit ?? heldByImage[0]?.limit;
      if (limit === undefined)
        throw new Error(`pacing bug: ${image.name} on ${node} was eligible but not started`);
      tally.count(image.name, node, limit, () => [...nodeBlockers(image, node, draft), ...heldByImage]);
      // Time alone starts a pair only when every limit on it is a wait: a backoff on the node, a
      // minDelay on the image.
      if (!imageTimed || heldOnNode(image, node, draft)) continue;
      const wake = Math.max(imageUntil, block?.until ?? Number.NEGATIVE_INFINITY);
      if (Number.isFinite(wake) && (nextWakeAt === undefined || wake < nextWakeAt)) nextWakeAt = wake;
    }
  }
  return { waiting: [], waitingSummary: tally.groups(), waitingCount, nextWakeAt };
}

/**
 * What `each` says of when to wake, and how many wait, without looking at every waiting pair: an
 * image held by a full slot waits for a pull to end (no pair of it wakes by time), and one held
 * only by waits wakes when the image's wait ends on a node free of anything but a backoff.
 */
function wakeOnly(images: readonly ImageDemand[], draft: Draft): Omit<PacingDecision, 'starts' | 'cursor'> {
  let nextWakeAt: number | undefined;
  let waitingCount = 0;
  for (const image of images) {
    const pending = draft.pending.nodesOf(image);
    waitingCount += pending.size;
    const heldByImage = imageBlockers(image, draft);
    if (pending.size === 0 || !heldByImage.every(isTimed)) continue;
    const imageUntil = Math.max(...heldByImage.flatMap((b) => (isTimed(b) ? [b.until] : [])));
    for (const node of pending) {
      if (heldOnNode(image, node, draft)) continue;
      const until = firstNodeBlock(image, node, draft)?.until;
      const wake = Math.max(imageUntil, until ?? Number.NEGATIVE_INFINITY);
      if (Number.isFinite(wake) && (nextWakeAt === undefined || wake < nextWakeAt)) nextWakeAt = wake;
      // No pair of this image wakes sooner than its own wait ends.
      if (until === undefined) break;
    }
  }
  return { waiting: [], waitingSummary: [], waitingCount, nextWakeAt };
}
