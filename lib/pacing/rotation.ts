import { compareText } from '../order.ts';
import type { ImageDemand } from './demand.ts';

/**
 * The last image given a start at each priority, keyed by `String(priority)`. One entry per
 * priority, because a single "last served" name shared by all priorities lets a lower-priority
 * start reset the rotation of a higher one and starve an image there.
 */
export type PacingCursor = Readonly<Record<string, string>>;

/** The images of one priority, in the order they are offered starts. */
export interface PriorityGroup {
  readonly priority: number;
  readonly cursorKey: string;
  readonly images: readonly ImageDemand[];
}

export function cursorKey(priority: number): string {
  return String(priority);
}

/**
 * The images grouped by priority, highest first; within a group sorted by name and rotated so the
 * first image is the one after the group's cursor (wrapping round), which makes equal priorities
 * take turns across calls.
 */
export function priorityGroups(
  images: readonly ImageDemand[],
  cursor: PacingCursor,
): readonly PriorityGroup[] {
  const byPriority = new Map<number, ImageDemand[]>();
  for (const image of images) {
    const group = byPriority.get(image.priority);
    if (group) group.push(image);
    else byPriority.set(image.priority, [image]);
  }
  return [...byPriority.entries()]
    .sort(([a], [b]) => b - a)
    .map(([priority, group]) => {
      const key = cursorKey(priority);
      return { priority, cursorKey: key, images: rotateAfter(group.sort(byName), cursorEntry(cursor, key)) };
    });
}

/** The cursor entries that still name a priority some image has, so stale priorities do not pile up. */
export function liveCursor(images: readonly ImageDemand[], cursor: PacingCursor): Record<string, string> {
  const live: Record<string, string> = {};
  for (const image of images) {
    const key = cursorKey(image.priority);
    const last = cursorEntry(cursor, key);
    if (last !== undefined) live[key] = last;
  }
  return live;
}

// The cursor comes from a Lease annotation; only its own entries count.
function cursorEntry(cursor: PacingCursor, key: string): string | undefined {
  return Object.hasOwn(cursor, key) ? cursor[key] : undefined;
}

// Rotation by name rather than by position, so it survives images coming and going between calls.
function rotateAfter(sorted: readonly ImageDemand[], last: string | undefined): readonly ImageDemand[] {
  if (last === undefined) return sorted;
  const first = sorted.findIndex((image) => image.name > last);
  if (first <= 0) return sorted;
  return [...sorted.slice(first), ...sorted.slice(0, first)];
}

function byName(a: ImageDemand, b: ImageDemand): number {
  return compareText(a.name, b.name);
}
