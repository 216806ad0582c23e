import type { Occurrence } from '../../lib/controller/index.ts';
import type { Taint } from '../../lib/kube/core.ts';
import { compareText } from '../../lib/order.ts';
import type { StartupTaintSetting } from '../../lib/policy/index.ts';

// The opt-in startup taint (PullPolicy startupTaint; docs/design.md §Startup taint): a node that
// joins carrying it keeps it until every image marked for it (paced by a policy that names the
// taint, and targeting the node) is cached there, or until the policy's timeout after the node's
// creationTimestamp, so a registry that keeps failing never strands a node. Pure: the shell
// (untaint.ts) reads nodes and images from the caches and patches what this returns.

/** A node as the decision needs it. */
export interface NodeSeen {
  readonly name: string;
  /** metadata.creationTimestamp, epoch ms. */
  readonly createdAt: number;
  /** Ready and schedulable: until then no image targets it, and "every image cached" would be vacuous. */
  readonly ready: boolean;
  readonly taints: readonly Taint[];
}

/** An image whose PullPolicy sets a startupTaint. */
export interface MarkedImage {
  readonly name: string;
  readonly taint: StartupTaintSetting;
  /** Its target nodes now, with the startup taint tolerated (lib/targets.ts placementOf). */
  readonly targets: readonly string[];
  /** The nodes its status, written for its current spec, records as holding it. */
  readonly cachedNodes: readonly string[];
  /**
   * Why the image will not be pulled until someone changes it (its status's Ready reason:
   * ImageTooLarge, InvalidSpec, InvalidPolicy): such an image never holds a node's taint.
   */
  readonly refused?: string;
}

export interface TaintRemoval {
  readonly node: string;
  readonly key: string;
  readonly effect: string;
  /** The node's taints as read: the patch tests them, so a change meanwhile is never overwritten. */
  readonly before: readonly Taint[];
  /** The taints without the startup taint. */
  readonly after: readonly Taint[];
  readonly why: 'warm' | 'deadline';
  /** The marked images targeting the node that are not cached there (at the deadline). */
  readonly notCached: readonly string[];
  /** How many marked images target the node. */
  readonly marked: number;
}

export interface StartupTaintPlan {
  readonly remove: readonly TaintRemoval[];
  /** The earliest deadline still ahead (epoch ms): when to look again if nothing else wakes us. */
  readonly nextDeadlineAt?: number;
}

const keyOf = (t: { readonly key: string; readonly effect: string }) => `${t.effect}\u0000${t.key}`;

/** Which startup taints to remove now, on which nodes, and why. */
export function startupTaintPlan(
  nodes: readonly NodeSeen[],
  images: readonly MarkedImage[],
  now: number,
): StartupTaintPlan {
  const byTaint = new Map<string, MarkedImage[]>();
  for (const image of images)
    byTaint.set(keyOf(image.taint), [...(byTaint.get(keyOf(image.taint)) ?? []), image]);
  const remove: TaintRemoval[] = [];
  let nextDeadlineAt: number | undefined;
  for (const node of [...nodes].sort((a, b) => compareText(a.name, b.name))) {
    let taints = node.taints;
    for (const [key, marked] of [...byTaint].sort(([a], [b]) => compareText(a, b))) {
      const { key: taintKey, effect } = marked[0]!.taint;
      if (!taints.some((t) => keyOf(t) === key)) continue;
      // Policies that share a taint: each gets its full time, so the longest timeout holds.
      const deadline = node.createdAt + Math.max(...marked.map((i) => i.taint.timeoutMs));
      // An image refused until someone changes it would only hold the node until the deadline.
      const targeting = marked.filter((i) => !i.refused && i.targets.includes(node.name));
      const notCached = targeting
        .filter((i) => !i.cachedNodes.includes(node.name))
        .map((i) => i.name)
        .sort();
      const why = node.ready && notCached.length === 0 ? 'warm' : now >= deadline ? 'deadline' : undefined;
      if (!why) {
        nextDeadlineAt = Math.min(nextDeadlineAt ?? deadline, deadline);
        continue;
      }
      const after = taints.filter((t) => keyOf(t) !== key);
      remove.push({
        node: node.name,
        key: taintKey,
        effect,
        before: taints,
        after,
        why,
        notCached,
        marked: targeting.length,
      });
      taints = after;
    }
  }
  return { remove, ...(nextDeadlineAt !== undefined ? { nextDeadlineAt } : {}) };
}

/** How many images a message names before "and N more". */
const NAMED = 5;

/** The Event on the Node (kubectl describe node): why Drop removed its startup taint. */
export function removalEvent(removal: TaintRemoval): Occurrence {
  const taint = `${removal.key}:${removal.effect}`;
  if (removal.why === 'warm')
    return {
      type: 'Normal',
      reason: 'StartupTaintRemoved',
      action: 'Untaint',
      note:
        removal.marked === 0
          ? `Removed ${taint}: no image to warm targets the node`
          : `Removed ${taint}: warm, ${removal.marked} ${removal.marked === 1 ? 'image' : 'images'} cached`,
    };
  const named = removal.notCached.slice(0, NAMED).join(', ');
  const more = removal.notCached.length > NAMED ? ` and ${removal.notCached.length - NAMED} more` : '';
  const count = removal.notCached.length;
  return {
    type: 'Warning',
    reason: 'StartupTaintRemoved',
    action: 'Untaint',
    note:
      count === 0
        ? `Removed ${taint}: deadline passed before the node was Ready`
        : `Removed ${taint}: deadline passed with ${count} ${count === 1 ? 'image' : 'images'} not cached: ${named}${more}`,
  };
}
