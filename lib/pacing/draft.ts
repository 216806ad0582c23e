import type { PacingLimits } from '../policy/limits.ts';
import { type DraftState, lastStartOf } from './blockers.ts';
import type { HostState, ImageDemand, InFlightPull, PullStart } from './demand.ts';
import { Occupancy } from './occupancy.ts';
import { PendingWork } from './pending-work.ts';

/** A start decided in this call; its node may still move to make room for another image. */
export interface DecidedStart {
  readonly image: ImageDemand;
  node: string;
  /** When it starts (epoch ms): `now`, or later within the horizon. */
  readonly at: number;
}

/**
 * One call of nextPulls in progress: the limits and clock, the pulls counted so far and the work
 * left, kept consistent with each other as starts are decided and moved.
 */
export class Draft implements DraftState {
  readonly policy: string;
  readonly limits: PacingLimits;
  readonly now: number;
  readonly horizonMs: number;
  readonly occupancy: Occupancy;
  readonly pending: PendingWork;
  readonly hosts: ReadonlyMap<string, HostState> | undefined;
  /** Nodes served first (lib/pacing/new-nodes.ts); their starts never move to make room. */
  readonly newNodes: ReadonlySet<string>;
  /**
   * How many waves of pulls the policy's work takes at least, as the images' limits allow: the
   * most any image needs through its maxConcurrentNodes slots, or all pending pairs through
   * maxConcurrentPulls. A node with about this many pulls left bounds convergence (node-choice.ts).
   */
  readonly wavesLeft: number;
  readonly #hostStarts = new Map<string, number>();
  readonly #decided: DecidedStart[] = [];
  readonly #byNode = new Map<string, DecidedStart[]>();

  constructor(input: {
    policy: string;
    limits: PacingLimits;
    now: number;
    horizonMs?: number | undefined;
    images: readonly ImageDemand[];
    inFlight: readonly InFlightPull[];
    hosts?: ReadonlyMap<string, HostState> | undefined;
    newNodes?: ReadonlySet<string> | undefined;
  }) {
    this.hosts = input.hosts;
    this.newNodes = input.newNodes ?? new Set();
    this.policy = input.policy;
    this.limits = input.limits;
    this.now = input.now;
    this.horizonMs = Math.max(0, input.horizonMs ?? 0);
    this.occupancy = new Occupancy(input.policy, input.inFlight);
    this.pending = new PendingWork(input.images);
    this.wavesLeft = wavesLeft(input.images, input.limits);
  }

  /**
   * Decides a start: now, or — when only the image's minDelay holds it and the horizon reaches —
   * minDelay after its start before (imageBlockers let it through only then).
   */
  start(image: ImageDemand, node: string): void {
    const last = lastStartOf(image, this);
    const at = last === undefined ? this.now : Math.max(this.now, last + this.limits.minDelayBetweenPullsMs);
    const decided = { image, node, at };
    this.#decided.push(decided);
    this.#onNode(node).push(decided);
    this.occupancy.add({ image: image.name, node }, at);
    this.pending.take(image, node);
    if (image.host !== undefined) this.#hostStarts.set(image.host, this.hostStarts(image.host) + 1);
  }

  hostStarts(host: string): number {
    return this.#hostStarts.get(host) ?? 0;
  }

  /** Moves a decided start to another node; the image, its start count and its place in order stay. */
  move(decided: DecidedStart, to: string): void {
    const from = decided.node;
    this.occupancy.move({ image: decided.image.name, node: from }, to);
    this.pending.restore(decided.image, from);
    this.pending.take(decided.image, to);
    const onFrom = this.#onNode(from);
    const at = onFrom.indexOf(decided);
    if (at >= 0) onFrom.splice(at, 1);
    this.#onNode(to).push(decided);
    decided.node = to;
  }

  startsOn(node: string): readonly DecidedStart[] {
    return this.#byNode.get(node) ?? [];
  }

  /** The starts in the order they were decided, on the nodes they ended up on. */
  starts(): readonly PullStart[] {
    return this.#decided.map(({ image, node, at }) =>
      at > this.now ? { image: image.name, node, at } : { image: image.name, node },
    );
  }

  #onNode(node: string): DecidedStart[] {
    let starts = this.#byNode.get(node);
    if (starts === undefined) {
      starts = [];
      this.#byNode.set(node, starts);
    }
    return starts;
  }
}

function wavesLeft(images: readonly ImageDemand[], limits: PacingLimits): number {
  let waves = 0;
  let pairs = 0;
  for (const image of images) {
    pairs += image.pendingNodes.length;
    waves = Math.max(waves, Math.ceil(image.pendingNodes.length / Math.max(1, limits.maxConcurrentNodes)));
  }
  const policyCap = limits.maxConcurrentPulls;
  return policyCap === undefined ? waves : Math.max(waves, Math.ceil(pairs / Math.max(1, policyCap)));
}
