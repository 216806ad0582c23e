import { compareText } from '../order.ts';
import type { ImageDemand } from './demand.ts';

/** The pending (image, node) pairs one call has not started yet, and how many wait on each node. */
export class PendingWork {
  readonly #nodesByImage = new Map<ImageDemand, Set<string>>();
  readonly #perNode = new Map<string, number>();

  constructor(images: readonly ImageDemand[]) {
    for (const image of images) {
      // In name order, so every walk over them is in name order whatever order the caller sent
      // (the pacer sends them sorted: checked, not sorted again).
      const given = image.pendingNodes;
      const nodes = new Set(inNameOrder(given) ? given : [...given].sort(compareText));
      this.#nodesByImage.set(image, nodes);
      for (const node of nodes) this.#perNode.set(node, this.remainingOn(node) + 1);
    }
  }

  /** In name order, except that a node given back by `restore` comes last. */
  nodesOf(image: ImageDemand): ReadonlySet<string> {
    return this.#nodesByImage.get(image) ?? new Set();
  }

  /** Pairs of this policy still pending on the node: how long the node stays busy. */
  remainingOn(node: string): number {
    return this.#perNode.get(node) ?? 0;
  }

  take(image: ImageDemand, node: string): void {
    if (this.#nodesByImage.get(image)?.delete(node)) this.#perNode.set(node, this.remainingOn(node) - 1);
  }

  /** Gives back a pair whose start moved to another node. */
  restore(image: ImageDemand, node: string): void {
    const nodes = this.#nodesByImage.get(image);
    if (nodes === undefined || nodes.has(node)) return;
    nodes.add(node);
    this.#perNode.set(node, this.remainingOn(node) + 1);
  }
}

function inNameOrder(names: readonly string[]): boolean {
  for (let i = 1; i < names.length; i++) if (compareText(names[i - 1]!, names[i]!) > 0) return false;
  return true;
}
