import { normaliseImageLabel } from './normalise.ts';
import { ObservationsBuilder, type QueryData } from './observations.ts';
import { type RawPullEvent, withPairDurations } from './pull-events.ts';

export interface PullObservations {
  readonly data: QueryData;
  /** Events that were image events of some kind. */
  readonly events: number;
  readonly pulled: number;
  /** Image names no reference could be made of. */
  readonly unparsable: number;
}

/** Pull events under their images' normalised references (`nginx:1.25` → docker.io/library/nginx:1.25). */
export function observePulls(events: readonly RawPullEvent[]): PullObservations {
  const builder = new ObservationsBuilder();
  let unparsable = 0;
  let pulled = 0;
  for (const event of withPairDurations(events)) {
    const normalised = normaliseImageLabel(event.message.image);
    if (!normalised.ok) {
      unparsable++;
      continue;
    }
    if (event.message.kind === 'pulled') pulled++;
    const { kind, seconds, bytes } = event.message;
    builder.pull(normalised.ref, {
      at: event.at,
      kind,
      ...(event.pod !== undefined ? { pod: event.pod } : {}),
      ...(seconds !== undefined ? { seconds } : {}),
      ...(bytes !== undefined ? { bytes } : {}),
      ...(event.pairSeconds !== undefined ? { pairSeconds: event.pairSeconds } : {}),
    });
  }
  return { data: builder.build(), events: events.length, pulled, unparsable };
}

/** The numbers behind an event query's result, in words. */
export function describePulls(observed: PullObservations, read: number): string {
  const skipped = observed.unparsable ? `; skipped ${observed.unparsable} with an unparsable image` : '';
  return `${observed.data.size} images from ${observed.pulled} pulls in ${observed.events} image events of ${read} read${skipped}`;
}
