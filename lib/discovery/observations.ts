import { type ImageReference, pullReference } from '../image-ref.ts';

// What a query observed, per image: time series samples (Prometheus; one sample per tag for a
// registry; pull durations for event queries) and pull events (Loki, Kubernetes Events). Signals
// reduce these to one number per image (signals.ts).

/** An image as discovery names it: what a node pulls, and its parts. */
export interface ImageId {
  /** `image:tag` or `image@digest`, normalised: `docker.io/library/golang:1.22`. */
  readonly reference: string;
  /** The reference without tag or digest. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** The id of `ref`; the digest wins over a tag, as in a CachedImage spec. */
export function imageIdOf(ref: ImageReference): ImageId {
  const base = { reference: pullReference(ref), repository: ref.image };
  if (ref.digest !== undefined) return { ...base, digest: ref.digest };
  return { ...base, tag: ref.tag ?? 'latest' };
}

/** One sample: Unix seconds and a finite value. */
export interface Sample {
  readonly at: number;
  readonly value: number;
}

export type PullEventKind = 'pulling' | 'pulled' | 'cacheHit' | 'failed';

/** One kubelet image event about an image. */
export interface PullEvent {
  readonly at: number;
  readonly kind: PullEventKind;
  readonly pod?: string;
  /** pulled: the pull time the message states ("in 12.3s"). */
  readonly seconds?: number;
  /** pulled: the time since the same pod's Pulling event for this image. */
  readonly pairSeconds?: number;
  /** pulled: "Image size: N bytes". */
  readonly bytes?: number;
}

export interface ImageObservations {
  readonly id: ImageId;
  readonly samples: readonly Sample[];
  readonly pulls: readonly PullEvent[];
}

/** A query's observations by reference. */
export type QueryData = ReadonlyMap<string, ImageObservations>;

/** Collects observations per image in the order they come. */
export class ObservationsBuilder {
  private readonly images = new Map<string, { id: ImageId; samples: Sample[]; pulls: PullEvent[] }>();

  private entry(ref: ImageReference) {
    const id = imageIdOf(ref);
    let entry = this.images.get(id.reference);
    if (!entry) {
      entry = { id, samples: [], pulls: [] };
      this.images.set(id.reference, entry);
    }
    return entry;
  }

  samples(ref: ImageReference, samples: readonly Sample[]): void {
    this.entry(ref).samples.push(...samples);
  }

  pull(ref: ImageReference, event: PullEvent): void {
    const entry = this.entry(ref);
    entry.pulls.push(event);
    if (event.kind === 'pulled' && event.seconds !== undefined)
      entry.samples.push({ at: event.at, value: event.seconds });
  }

  get size(): number {
    return this.images.size;
  }

  build(): QueryData {
    return this.images;
  }
}
