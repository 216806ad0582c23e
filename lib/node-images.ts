import { parseImageReference } from './image-ref.ts';
import type { Node } from './kube/core.ts';

// What a node's kubelet says it holds (node.status.images), as garbage-collection detection reads
// it (docs/design.md §Garbage collection). The list is trustworthy about an absence only when the
// kubelet listed every image: it lists the largest `--node-status-max-images` (50 by default), so
// a node that reports 50 may hold ours below the cut (`-1` lifts the cut; such a node is read as
// cut too, and left to the probe); and a node that reports none (kwok) proves nothing either.

/** The kubelet's default --node-status-max-images: a list this long may be cut. */
export const KUBELET_MAX_IMAGES = 50;

/**
 * How long after a pull the kubelet's list can still lack the image: it posts the images its image
 * manager cached, refreshed every 30 s (pkg/kubelet/images/image_gc_manager.go), and a node status
 * is posted within 10 s of a change. A list reported sooner after the image's last pull is not read.
 */
export const IMAGE_LIST_LAG_MS = 60_000;

/** A node's image list, as kept in memory: its length, when it was reported, and the names hashed. */
export interface NodeImageReport {
  /** Entries the kubelet listed (images, not names). */
  readonly listed: number;
  /** The latest heartbeat of the node's conditions: the kubelet posts them with the list. */
  readonly reportedAt?: number;
  /** 32-bit hashes of the normalised names (lib/image-ref.ts): a collision can only hide an absence. */
  readonly names: ReadonlySet<number>;
}

/** The report of a node as the API serves it (undefined: the node lists no images). */
export function imageReportOf(node: Node): NodeImageReport | undefined {
  const images = node.status?.images ?? [];
  if (images.length === 0) return undefined;
  const names = new Set<number>();
  for (const image of images) for (const name of image.names ?? []) names.add(hashOf(normalised(name)));
  const beats = (node.status?.conditions ?? [])
    .map((c) => Date.parse(c.lastHeartbeatTime ?? ''))
    .filter((t) => !Number.isNaN(t));
  return {
    listed: images.length,
    ...(beats.length > 0 ? { reportedAt: Math.max(...beats) } : {}),
    names,
  };
}

/** What the node's list says about an image Drop recorded as cached there. */
export type ListVerdict = 'listed' | 'absent' | 'unknown';

/**
 * Whether the list proves the image gone: the list is complete (fewer than the kubelet's maximum,
 * and not empty), reported at least IMAGE_LIST_LAG_MS after the image's last pull, and names none of
 * `names` (the reference, `image@digest` of what the node holds). Otherwise `unknown` or `listed`.
 */
export function listVerdict(
  report: NodeImageReport | undefined,
  names: readonly string[],
  lastPulledAt: string | undefined,
): ListVerdict {
  if (!report || report.listed === 0 || report.listed >= KUBELET_MAX_IMAGES) return 'unknown';
  if (hashesOf(names).some((hash) => report.names.has(hash))) return 'listed';
  const pulled = lastPulledAt ? Date.parse(lastPulledAt) : Number.NaN;
  if (!Number.isNaN(pulled) && (report.reportedAt ?? 0) < pulled + IMAGE_LIST_LAG_MS) return 'unknown';
  return 'absent';
}

/** The names a node may list an image by: the reference itself, and `image@digest` of each digest. */
export function namesFor(reference: string, digests: readonly (string | undefined)[]): string[] {
  const parsed = parseImageReference(reference);
  const image = parsed.ok ? parsed.ref.image : reference.replace(/[:@].*$/, '');
  const byDigest = digests.filter((d): d is string => Boolean(d)).map((d) => `${image}@${d}`);
  return [...new Set([reference, ...byDigest])];
}

const reports = new WeakMap<object, NodeImageReport>();

/**
 * Keeps the report of `full` beside its trimmed copy (lib/watched.ts drops the list itself: at a
 * thousand nodes the names are megabytes, their hashes a tenth of that).
 */
export function keepImageReport(full: Node, trimmed: Node): void {
  // A node trimmed once already (a watch cache's, handed back to observe) keeps its report.
  const report = imageReportOf(full) ?? reports.get(full);
  if (report) reports.set(trimmed, report);
}

/** The report kept for a node of a watch cache (undefined: it lists no images). */
export function imageReportIn(node: Node | undefined): NodeImageReport | undefined {
  return node ? reports.get(node) : undefined;
}

// Kept per list of names (a caller asks with the same list for every node that holds one digest).
const nameHashes = new WeakMap<readonly string[], readonly number[]>();

function hashesOf(names: readonly string[]): readonly number[] {
  let hashes = nameHashes.get(names);
  if (hashes === undefined) {
    hashes = names.map((name) => hashOf(normalised(name)));
    nameHashes.set(names, hashes);
  }
  return hashes;
}

function normalised(name: string): string {
  const parsed = parseImageReference(name);
  return parsed.ok ? parsed.ref.reference : name;
}

// FNV-1a, 32 bits.
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
