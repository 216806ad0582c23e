import type {
  DiscoveredImage,
  DiscoveryPolicy,
  DiscoveryPolicySpec,
  DiscoveryPolicyStatus,
} from '../../lib/api/index.ts';
import {
  type Candidate,
  type Ranking,
  rankImages,
  type SourceFailure,
  type SourceOutcome,
} from '../../lib/discovery/index.ts';
import { parseDuration } from '../../lib/duration.ts';

/** After a failed sync, try again this soon (or at syncInterval, if that is shorter). */
export const RETRY_AFTER_FAILURE_MS = 5 * 60_000;
const DEFAULT_INTERVAL_MS = 30 * 60_000;

export type Due =
  | { readonly due: true; readonly why: string }
  | { readonly due: false; readonly why: string };

/**
 * Whether a policy needs a sync now: it never synced, its spec changed since the last sync
 * (generation ≠ observedGeneration), or its nextSyncTime has come. A status-only update (ours)
 * changes none of these, so writing status never triggers another sync.
 */
export function syncDue(policy: DiscoveryPolicy, now: Date): Due {
  const status = policy.status;
  if (!status?.lastSyncTime) return { due: true, why: 'never synced' };
  if (status.observedGeneration !== policy.metadata.generation)
    return { due: true, why: `spec changed (generation ${policy.metadata.generation})` };
  // Only a spec that cannot be parsed has no nextSyncTime; a bad Secret is retried like any failure.
  if (status.phase === 'InvalidSpec' && !status.nextSyncTime)
    return { due: false, why: 'the spec is invalid; waiting for a change' };
  // A CRD older than this code prunes nextSyncTime: fall back to lastSyncTime + syncInterval.
  const next = status.nextSyncTime
    ? Date.parse(status.nextSyncTime)
    : Date.parse(status.lastSyncTime) +
      (parseDuration(policy.spec?.syncInterval ?? '') ?? DEFAULT_INTERVAL_MS);
  if (Number.isNaN(next) || next <= now.getTime()) return { due: true, why: 'syncInterval passed' };
  return { due: false, why: `next sync at ${new Date(next).toISOString()}` };
}

/** What one source of the spec gave in this sync. */
export interface SourceRun {
  readonly type: string;
  readonly outcome: SourceOutcome;
}

/** A source that failed in this sync, at its position in spec.sources. */
export interface FailedSource {
  readonly index: number;
  readonly type: string;
  readonly failure: SourceFailure;
}

/** What a sync's source runs decide for status.images and the next sync. */
export type ImagesPlan =
  | {
      /** Some source failed: the last good list stays, and the sync is retried soon. */
      readonly kept: true;
      readonly first: FailedSource;
      readonly failed: readonly FailedSource[];
      readonly images: readonly DiscoveredImage[];
      readonly nextSyncTime: string;
    }
  | {
      /** Every source answered: their candidates, merged and ranked, replace the list. */
      readonly kept: false;
      readonly ranking: Ranking;
      readonly images: readonly DiscoveredImage[];
      readonly nextSyncTime: string;
    };

/**
 * The images after a sync. Every source succeeded: the ranked images replace the list. Any source
 * failed: the list stays exactly as the last successful sync left it (a broken Prometheus must not
 * empty the cache), and the next sync comes sooner than syncInterval.
 */
export function planImages(
  spec: DiscoveryPolicySpec,
  previous: DiscoveryPolicyStatus | undefined,
  runs: readonly SourceRun[],
  now: Date,
): ImagesPlan {
  const failed = runs.flatMap((run, index) =>
    run.outcome.ok ? [] : [{ index, type: run.type, failure: run.outcome.failure }],
  );
  const first = failed[0];
  if (first) {
    return {
      kept: true,
      first,
      failed,
      images: previous?.images ?? [],
      nextSyncTime: retryTime(
        spec,
        failed.map((f) => f.failure),
        now,
      ),
    };
  }
  const ranking = rankImages(
    runs.map((r) => (r.outcome.ok ? r.outcome.candidates : [])),
    {
      ...(spec.imageFilter !== undefined ? { imageFilter: new RegExp(spec.imageFilter) } : {}),
      maxImages: spec.maxImages,
    },
  );
  return {
    kept: false,
    ranking,
    images: ranking.images.map(toDiscoveredImage),
    nextSyncTime: new Date(now.getTime() + intervalMs(spec)).toISOString(),
  };
}

function intervalMs(spec: DiscoveryPolicySpec): number {
  return parseDuration(spec.syncInterval) ?? DEFAULT_INTERVAL_MS;
}

// Sooner than syncInterval after a failure, so a fixed Secret or endpoint is picked up within
// minutes; never sooner than a server's Retry-After.
function retryTime(spec: DiscoveryPolicySpec, failures: readonly SourceFailure[], now: Date): string {
  const wait = Math.min(intervalMs(spec), RETRY_AFTER_FAILURE_MS);
  const asked = Math.max(0, ...failures.map((f) => f.retryAfterMs ?? 0));
  return new Date(now.getTime() + Math.max(wait, asked)).toISOString();
}

// Only the contract's fields, whatever else a source attached.
function toDiscoveredImage(candidate: Candidate): DiscoveredImage {
  return {
    reference: candidate.reference,
    image: candidate.image,
    ...(candidate.tag !== undefined ? { tag: candidate.tag } : {}),
    ...(candidate.digest !== undefined ? { digest: candidate.digest } : {}),
    score: candidate.score,
    source: candidate.source,
  };
}
