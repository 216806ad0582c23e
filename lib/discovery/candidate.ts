import { type ImageReference, pullReference } from '../image-ref.ts';

export type SourceType = 'prometheus' | 'registry';

/** One image a source found, with its score; the shape of a DiscoveryPolicy's status.images entry. */
export interface Candidate {
  /** What a node pulls: `image:tag` or `image@digest`, normalised (`docker.io/library/golang:1.22`). */
  readonly reference: string;
  readonly image: string;
  readonly tag?: string;
  readonly digest?: string;
  readonly score: number;
  /** Which kinds of source found it, e.g. `prometheus` or `prometheus,registry`. */
  readonly source: string;
}

/** A candidate for `ref`; the digest wins over a tag, as in a CachedImage spec. */
export function candidateOf(ref: ImageReference, score: number, source: SourceType): Candidate {
  const base = { reference: pullReference(ref), image: ref.image, score, source };
  if (ref.digest !== undefined) return { ...base, digest: ref.digest };
  return { ...base, tag: ref.tag ?? 'latest' };
}
