import type { CachedImage } from '../../lib/api/index.ts';
import type { Pod } from '../../lib/kube/index.ts';
import { policyOf } from '../../lib/policy/index.ts';
import { LABEL, pullOutcome } from '../../lib/pull-pod.ts';
import { hasPacerWork } from './plan.ts';

// Each policy has its own Lease, but maxConcurrentPullsPerNode counts every policy's pulls on a
// node: two holders deciding in the same moment can both start a pull on one node. After creating
// its pulls a holder therefore checks the nodes that another policy could be starting on too, and
// withdraws its own new pull from any node that is over the limit. Whichever holder sees the
// collision withdraws (if both see it, both do, and the node is offered again next round), so a
// collision never outlives the round that made it.

/**
 * True when another policy has an image waiting on, or a pull on, one of these nodes: a collision
 * is possible. `targetsOf` gives an image's target nodes; the cached ones wait for nothing.
 */
export function contested(
  policy: string,
  nodes: ReadonlySet<string>,
  images: readonly CachedImage[],
  pods: readonly Pod[],
  targetsOf: (image: CachedImage) => readonly string[],
): boolean {
  const waiting = images
    .filter((image) => policyOf(image) !== policy && hasPacerWork(image))
    .some((image) => {
      const cached = new Set(image.status?.cachedNodes ?? []);
      return targetsOf(image).some((node) => nodes.has(node) && !cached.has(node));
    });
  const pulling = pods.some(
    (pod) => pod.metadata.labels?.[LABEL.policy] !== policy && nodes.has(pod.spec?.nodeName ?? ''),
  );
  return waiting || pulling;
}

export interface Collision {
  readonly pod: Pod;
  /**
   * How many of the other policies pulling on the node sort before this one: the holder waits that
   * many hold-off periods before offering the node again, so holders that withdrew at the same
   * moment do not collide again at the next (the first in name order goes first).
   */
  readonly rank: number;
}

/** Of the pulls just started, those on a node that now has more pulls than `perNode` allows. */
export function collisions(
  policy: string,
  started: readonly Pod[],
  onNodes: readonly Pod[],
  perNode: number,
): Collision[] {
  const pulling = new Map<string, Pod[]>();
  for (const pod of onNodes) {
    if (pod.metadata.deletionTimestamp || pullOutcome(pod).kind !== 'pulling') continue;
    const node = pod.spec?.nodeName ?? '';
    pulling.set(node, [...(pulling.get(node) ?? []), pod]);
  }
  return started.flatMap((pod) => {
    const there = pulling.get(pod.spec?.nodeName ?? '') ?? [];
    if (there.length <= perNode) return [];
    const others = new Set(
      there.map((p) => p.metadata.labels?.[LABEL.policy] ?? '').filter((p) => p !== policy),
    );
    return [{ pod, rank: [...others].filter((other) => other < policy).length }];
  });
}
