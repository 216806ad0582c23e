import type { InFlightPull, PullStart } from './demand.ts';

/**
 * The Drop pulls in flight as one call of nextPulls sees them: those the caller observed plus the
 * starts decided so far in the same call, so every later decision counts the earlier ones.
 */
export class Occupancy {
  readonly #policy: string;
  readonly #perNode = new Map<string, number>();
  readonly #byImage = new Map<string, { pulls: number; readonly nodes: Set<string> }>();
  readonly #lastStartByImage = new Map<string, number>();
  #ownPolicy = 0;

  constructor(policy: string, inFlight: readonly InFlightPull[]) {
    this.#policy = policy;
    for (const pull of inFlight) this.#count(pull.image, pull.node, pull.policy, pull.startedAt);
  }

  /** Records a start decided at `now`. */
  add(start: PullStart, now: number): void {
    this.#count(start.image, start.node, this.#policy, now);
  }

  /** Moves a start decided in this call to another node; it keeps its start time. */
  move(start: PullStart, to: string): void {
    this.#perNode.set(start.node, this.pullsOnNode(start.node) - 1);
    this.#perNode.set(to, this.pullsOnNode(to) + 1);
    const nodes = this.#byImage.get(start.image)?.nodes;
    nodes?.delete(start.node);
    nodes?.add(to);
  }

  /** Drop pulls on this node, of every policy: two images must never fight over one node's bandwidth. */
  pullsOnNode(node: string): number {
    return this.#perNode.get(node) ?? 0;
  }

  /**
   * Pulls of this image, whatever policy the caller attributed them to: the image name identifies
   * the CachedImage, and a pull started under its previous policy still loads the registry.
   */
  pullsOfImage(image: string): number {
    return this.#byImage.get(image)?.pulls ?? 0;
  }

  /** Pulls in flight under this call's policy, including those of images it no longer lists. */
  pullsOfPolicy(): number {
    return this.#ownPolicy;
  }

  isPulling(image: string, node: string): boolean {
    return this.#byImage.get(image)?.nodes.has(node) ?? false;
  }

  /** The latest start of this image among the pulls in flight, if any. */
  lastStartOf(image: string): number | undefined {
    return this.#lastStartByImage.get(image);
  }

  #count(image: string, node: string, policy: string, startedAt: number): void {
    this.#perNode.set(node, this.pullsOnNode(node) + 1);
    const ofImage = this.#byImage.get(image);
    if (ofImage) {
      ofImage.pulls += 1;
      ofImage.nodes.add(node);
    } else {
      this.#byImage.set(image, { pulls: 1, nodes: new Set([node]) });
    }
    const last = this.#lastStartByImage.get(image);
    if (last === undefined || startedAt > last) this.#lastStartByImage.set(image, startedAt);
    if (policy === this.#policy) this.#ownPolicy += 1;
  }
}
