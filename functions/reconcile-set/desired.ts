import type { CachedImageSetSpec } from '../../lib/api/index.ts';
import { formatReference, type ImageParts, imagePartsOf, parseImageReference } from '../../lib/image-ref.ts';

export type ChildSource = 'static' | 'discovery';

/** One image the set should have a child for, keyed by its normalised pull reference. */
export interface DesiredImage {
  /** e.g. `docker.io/library/golang:1.22` or `registry:5000/app@sha256:…`: equal references are one child. */
  readonly reference: string;
  readonly parts: ImageParts;
  readonly source: ChildSource;
}

export interface DesiredImages {
  readonly images: readonly DesiredImage[];
  /** What the user should know: repeated entries, references that cannot be pulled. */
  readonly notes: readonly string[];
}

/**
 * Static entries first, then discovered ones, each reference once: `golang:1.22` and
 * `docker.io/library/golang:1.22` are the same image, and a static entry wins over a discovered one.
 */
export function desiredImages(
  spec: CachedImageSetSpec,
  /** The references a DiscoveryPolicy lists (discoveredImages[].image), best first. */
  discovered: readonly string[],
): DesiredImages {
  const byReference = new Map<string, DesiredImage>();
  const notes: string[] = [];
  for (const [index, entry] of (spec.images ?? []).entries()) {
    const where = `spec.images[${index}]`;
    const parsed = parseImageReference(formatReference(entry));
    if (!parsed.ok) {
      notes.push(`${where}: ${parsed.message}`);
      continue;
    }
    const parts = imagePartsOf(parsed.ref);
    const reference = formatReference(parts);
    const first = byReference.get(reference);
    if (first) {
      notes.push(`${where} repeats ${reference}; it is cached once`);
      continue;
    }
    byReference.set(reference, { reference, parts, source: 'static' });
  }
  let unusable = 0;
  for (const found of discovered) {
    const parsed = parseImageReference(found);
    if (!parsed.ok) {
      unusable++;
      continue;
    }
    const parts = imagePartsOf(parsed.ref);
    const reference = formatReference(parts);
    if (!byReference.has(reference)) byReference.set(reference, { reference, parts, source: 'discovery' });
  }
  if (unusable > 0) notes.push(`${unusable} discovered images have references that cannot be pulled`);
  return { images: [...byReference.values()], notes };
}
