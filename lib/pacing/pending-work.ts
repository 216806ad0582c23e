import type { ImageDemand } from './demand.ts';

/**
 * The pending (image, node) pairs one call has not started yet, and how many wait on each node.
 * Built as the call asks: a round whose images are all held by a limit (most rounds at a thousand
 * nodes: every slot busy) only counts their pairs, and neither orders them nor tallies the nodes.
 */
export class PendingWork {
  readonly #images: readonly ImageDemand[];
  readonly #nodesByImage = new Map<ImageDemand, Set<string>>();
  /** The images whose set is in name order (and may since have changed). */
  readonly #ordered = new Set<ImageDemand>();
  #perNode: Map<string, number> | undefined;

  constructor(images: readonly ImageDemand[]) {
    this.#images = images;
  }

  /** In name order, except that a node given back by `restore` comes last. */
  nodesOf(image: ImageDemand): ReadonlySet<string> {
    return this.#orderedSet(image);
  }

  /** The same nodes in no promised order: for a caller whose answer does not depend on it. */
  unorderedNodesOf(image: ImageDemand): ReadonlySet<string> {
    return this.#set(image);
  }

  /** Pairs of this policy still pending on the node: how long the node stays busy. */
  remainingOn(node: string): number {
    return this.#tally().get(node) ?? 0;
  }

  take(image: ImageDemand, node: string): void {
    if (this.#orderedSet(image).delete(node) && this.#perNode)
      this.#perNode.set(node, (this.#perNode.get(node) ?? 0) - 1);
  }

  /** Gives back a pair whose start moved to another node. */
  restore(image: ImageDemand, node: string): void {
    const nodes = this.#orderedSet(image);
    if (nodes.has(node)) return;
    nodes.add(node);
    this.#perNode?.set(node, (this.#perNode.get(node) ?? 0) + 1);
  }

  #set(image: ImageDemand): Set<string> {
    let nodes = this.#nodesByImage.get(image);
    if (nodes === undefined) {
      nodes = new Set(image.pendingNodes);
      this.#nodesByImage.set(image, nodes);
    }
    return nodes;
  }

  // Sorted before its first change, so that every walk over it is in name order whatever order the
  // caller sent (a set only changes through take and restore, which order it first).
  #orderedSet(image: ImageDemand): Set<string> {
    if (this.#ordered.has(image)) return this.#set(image);
    const nodes = new Set([...this.#set(image)].sort(compareNames));
    this.#nodesByImage.set(image, nodes);
    this.#ordered.add(image);
    return nodes;
  }

  #tally(): Map<string, number> {
    if (this.#perNode === undefined) {
      this.#perNode = new Map();
      for (const image of this.#images)
        for (const node of this.#set(image)) this.#perNode.set(node, (this.#perNode.get(node) ?? 0) + 1);
    }
    return this.#perNode;
  }
}

export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
