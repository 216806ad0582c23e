// New nodes first (docs/design.md §Pacing, rule "new nodes"): a node that joined recently is the
// one workloads are about to land on, so its pulls take the slots before routine work — the rest
// of a rollout, re-pulls, digest-drift re-pulls and garbage-collection re-warms on older nodes.

/**
 * How long a node counts as new after it joined (its creationTimestamp). A joined node is Ready
 * within a minute or two (Karpenter, Cluster API); warming it at the pace of the default limits
 * (one pull per node at once) takes a few minutes per image. Long enough to cover that, short enough
 * that a fleet's ordinary churn does not make every node "new".
 */
export const NEW_NODE_WINDOW_MS = 15 * 60_000;

/**
 * The nodes that joined within the window before `now`, by name. By creation time rather than by
 * what Drop recorded there: every replica reads the same time from the API, a status that lags
 * cannot make an old node look new, and an old node whose pulls keep failing is not where
 * workloads are about to land.
 */
export function newNodesOf(
  nodes: Iterable<string>,
  joinedAt: (node: string) => number | undefined,
  now: number,
  windowMs = NEW_NODE_WINDOW_MS,
): Set<string> {
  const fresh = new Set<string>();
  for (const node of nodes) {
    const joined = joinedAt(node);
    if (joined !== undefined && now - joined < windowMs) fresh.add(node);
  }
  return fresh;
}

/**
 * The new nodes that go first in one call: those with pending pulls, and none at all when every
 * pending node is new — then there is no older node to go ahead of, and the call decides exactly
 * as without the rule (makeRoom moving starts freely, which a fleet that joined at once needs).
 */
export function servedFirst(
  images: readonly { readonly pendingNodes: readonly string[] }[],
  newNodes: ReadonlySet<string> | undefined,
): ReadonlySet<string> {
  if (!newNodes || newNodes.size === 0) return EMPTY;
  const first = new Set<string>();
  let older = false;
  for (const image of images)
    for (const node of image.pendingNodes) {
      if (newNodes.has(node)) first.add(node);
      else older = true;
    }
  return older ? first : EMPTY;
}

const EMPTY: ReadonlySet<string> = new Set();
