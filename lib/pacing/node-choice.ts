import { type Blocker, firstNodeBlock, imageBlockers, nodeBlockers } from './blockers.ts';
import type { ImageDemand } from './demand.ts';
import type { DecidedStart, Draft } from './draft.ts';

/**
 * The node this image should start on now without moving other starts, if any may; with `only`,
 * among those nodes alone (the new nodes served first).
 */
export function pickNode(image: ImageDemand, draft: Draft, only?: ReadonlySet<string>): string | undefined {
  if (imageBlockers(image, draft).length > 0) return undefined;
  // One pass over the pending nodes, nothing built per node: at a thousand nodes a round runs this
  // for every start, and most of its nodes are full.
  const choice = new Choice(draft);
  for (const node of draft.pending.nodesOf(image))
    if ((only === undefined || only.has(node)) && firstNodeBlock(image, node, draft) === undefined)
      choice.offer(node);
  return choice.best;
}

interface Seeker {
  readonly image: ImageDemand;
  /** The start this image would give up its node from, when it is not the image asking. */
  readonly moving?: DecidedStart;
  readonly parent?: Seeker;
}

/**
 * A node for an image whose nodes are all full only because of starts decided earlier in this
 * call: moves some of those starts to nodes that are still free, along the shortest chain (an
 * augmenting path in the matching of images to nodes). Greedy choice alone strands images while
 * nodes idle: 100 nodes × 10 images at 10 nodes per image took 11 waves of pulls where 10 suffice.
 */
export function makeRoom(image: ImageDemand, draft: Draft): string | undefined {
  if (imageBlockers(image, draft).length > 0) return undefined;
  const visited = new Set<string>();
  // Which of an image's starts would move does not change where it could go, so each image is
  // searched from once; this keeps the search to one pass over each image's pending nodes.
  const searched = new Set<ImageDemand>();
  const queue: Seeker[] = [{ image }];
  for (let i = 0; i < queue.length; i++) {
    const seeker = queue[i]!;
    if (searched.has(seeker.image)) continue;
    searched.add(seeker.image);
    const free: string[] = [];
    for (const node of draft.pending.nodesOf(seeker.image)) {
      const blockers = nodeBlockers(seeker.image, node, draft);
      if (blockers.length === 0) free.push(node);
      // A start on a new node stays there: moving it to an older node would hand routine work
      // the slot a new node was served first for.
      else if (isOnlyFull(blockers) && !visited.has(node) && !draft.newNodes.has(node)) {
        visited.add(node);
        for (const moving of draft.startsOn(node))
          queue.push({ image: moving.image, moving, parent: seeker });
      }
    }
    const choice = new Choice(draft);
    for (const node of free) choice.offer(node);
    if (choice.best !== undefined) return shiftAlong(seeker, choice.best, draft);
  }
  return undefined;
}

/** Moves each start on the chain into the node the next one frees; returns the node left for the asker. */
function shiftAlong(seeker: Seeker, free: string, draft: Draft): string {
  let to = free;
  for (
    let step: Seeker = seeker;
    step.moving !== undefined && step.parent !== undefined;
    step = step.parent
  ) {
    const from = step.moving.node;
    draft.move(step.moving, to);
    to = from;
  }
  return to;
}

// Only a node full of pulls can be freed by moving one; backoff or a pull of this image there cannot.
function isOnlyFull(blockers: readonly Blocker[]): boolean {
  return blockers.length === 1 && blockers[0]?.limit === 'maxConcurrentPullsPerNode';
}

/**
 * The preferred of the nodes offered, first offered first among equals. Node order: fewest Drop
 * pulls in flight first, to spread bandwidth. Then the nodes whose pending pulls of this policy
 * come near the waves the images still need (Draft.wavesLeft): such a node bounds convergence, so
 * the busiest of them goes first. Among the others the node closest to done goes first: its pulls
 * come back to back and it is finished soon, where spreading starts over every node leaves each one
 * idle between its pulls (at 1,000 nodes and 400 image slots, ~9 s). Then name, so the choice is
 * deterministic. The best node's figures are kept, so each offer looks up only the new node's.
 */
class Choice {
  best: string | undefined;
  #load = 0;
  #left = 0;
  #critical = false;

  constructor(private readonly draft: Draft) {}

  offer(node: string): void {
    const load = this.draft.occupancy.pullsOnNode(node);
    if (this.best !== undefined && load > this.#load) return;
    const left = this.draft.pending.remainingOn(node);
    const critical = isCritical(left, this.draft);
    if (this.best !== undefined && load === this.#load && !this.#beats(node, left, critical)) return;
    this.best = node;
    this.#load = load;
    this.#left = left;
    this.#critical = critical;
  }

  #beats(node: string, left: number, critical: boolean): boolean {
    if (critical !== this.#critical) return critical;
    if (left !== this.#left) return critical ? left > this.#left : left < this.#left;
    return node < this.best!;
  }
}

/**
 * A node whose pulls left, one wave each, reach within two waves of the images' own: the slack keeps
 * it from becoming the last node to finish. A pull counts a whole wave even where
 * maxConcurrentPullsPerNode lets pulls run side by side: pulls on one node share its bandwidth and
 * disk, so side by side they take about as long as one after another.
 */
function isCritical(pullsLeft: number, draft: Draft): boolean {
  return pullsLeft + CRITICAL_SLACK_WAVES >= draft.wavesLeft;
}

const CRITICAL_SLACK_WAVES = 2;
