// Garbage collection: cached nodes whose kubelet removed the image. Pure; the node image lists come
// from reconcile-image's node cache (lib/node-images.ts), the probes' outcomes from the pull pods.
import type { CollectedNode, DigestGroup } from '../../lib/api/index.ts';
import { listVerdict, type NodeImageReport, namesFor } from '../../lib/node-images.ts';
import { compareText } from '../../lib/order.ts';

export interface CollectedInput {
  /** Nodes the status records as holding the image, less those pulling it now or recorded in this plan. */
  readonly cached: readonly string[];
  /** Each node's image list, where it reports one. */
  readonly reports: ReadonlyMap<string, NodeImageReport>;
  readonly reference: string;
  /** Which digest each cached node holds (status.digests), and the digest last pulled. */
  readonly digests?: readonly DigestGroup[] | undefined;
  readonly resolvedDigest?: string | undefined;
  readonly lastPulledAt?: string | undefined;
}

/** The cached nodes whose complete, fresh image list names the image by none of its names. */
export function goneFromNodeStatus(input: CollectedInput): string[] {
  const digestOf = new Map<string, string>();
  for (const group of input.digests ?? []) for (const node of group.nodes) digestOf.set(node, group.digest);
  // The names differ only by the digest a node holds: made once per digest, not once per node.
  const namesByDigest = new Map<string | undefined, string[]>();
  const namesOn = (node: string) => {
    const digest = digestOf.get(node);
    let names = namesByDigest.get(digest);
    if (names === undefined) {
      names = namesFor(input.reference, [digest, input.resolvedDigest]);
      namesByDigest.set(digest, names);
    }
    return names;
  };
  return input.cached
    .filter((node) => listVerdict(input.reports.get(node), namesOn(node), input.lastPulledAt) === 'absent')
    .sort();
}

/**
 * The record of collected nodes after this plan: the earlier entries of nodes that still wait for
 * the image (a target, not cached again), and an entry for each node found gone now.
 */
export function collectedRecord(
  before: readonly CollectedNode[] | undefined,
  gone: readonly { readonly node: string; readonly how: string }[],
  stillWaiting: (node: string) => boolean,
  now: Date,
): CollectedNode[] {
  const byNode = new Map((before ?? []).filter((c) => stillWaiting(c.node)).map((c) => [c.node, c]));
  for (const { node, how } of gone) byNode.set(node, { node, at: now.toISOString(), how });
  return [...byNode.values()].sort((a, b) => compareText(a.node, b.node));
}
