// Digest drift: which digest each cached node holds, and which of them hold an older one than the
// registry names for the tag now. Pure; the registry is asked in reconcile.ts (askManifest).
import type { DigestGroup } from '../../lib/api/index.ts';
import { compareText } from '../../lib/order.ts';

/**
 * The digests the cached nodes hold, as groups: the recorded groups, moved by the pulls this plan
 * recorded (`pulled`: node → digest), less the nodes that no longer hold the image. A cached node
 * no group names (cached before digests were tracked) holds `fallback`, the digest last recorded.
 */
export function digestGroups(
  before: readonly DigestGroup[] | undefined,
  pulled: ReadonlyMap<string, string>,
  cached: readonly string[],
  fallback: string | undefined,
): DigestGroup[] {
  const byNode = new Map<string, string>();
  for (const group of before ?? []) for (const node of group.nodes) byNode.set(node, group.digest);
  for (const [node, digest] of pulled) byNode.set(node, digest);
  const groups = new Map<string, string[]>();
  for (const node of cached) {
    const digest = byNode.get(node) ?? fallback;
    if (digest === undefined) continue;
    groups.set(digest, [...(groups.get(digest) ?? []), node]);
  }
  return [...groups]
    .map(([digest, nodes]) => ({ digest, nodes: nodes.sort() }))
    .sort((a, b) => b.nodes.length - a.nodes.length || compareText(a.digest, b.digest));
}

/** Cached nodes that hold another digest than the registry's current one (none when it is unknown). */
export function outdatedNodes(groups: readonly DigestGroup[], current: string | undefined): string[] {
  if (current === undefined) return [];
  return groups
    .filter((g) => g.digest !== current)
    .flatMap((g) => g.nodes)
    .sort();
}

/** Whether to ask the registry for the tag's digest now: checks are on, and the last is old enough. */
export function driftCheckDue(
  previous: { readonly reference: string; readonly checkedAt: string } | undefined,
  reference: string,
  intervalMs: number | undefined,
  now: Date,
): boolean {
  if (intervalMs === undefined || intervalMs <= 0) return false;
  if (previous?.reference !== reference) return true;
  return now.getTime() - Date.parse(previous.checkedAt) >= intervalMs;
}
