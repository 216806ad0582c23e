import type {
  DiscoveredImage,
  DiscoveryPolicy,
  DiscoveryPolicySpec,
  DiscoveryPolicyStatus,
} from '../../lib/api/index.ts';
import {
  finalScoreText,
  type Pipeline,
  type QueryOutcome,
  type RankedImage,
  type Ranking,
  rankDiscovered,
  type SourceFailure,
  strategyOf,
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

/** What one query of the spec gave in this sync. */
export interface QueryRun {
  readonly name: string;
  /** `source 0` or `query runner-image-usage`. */
  readonly label: string;
  readonly type: string;
  readonly outcome: QueryOutcome;
}

/** A query that failed in this sync. */
export interface FailedQuery {
  readonly run: QueryRun;
  readonly failure: SourceFailure;
}

export interface SyncInput {
  readonly spec: DiscoveryPolicySpec;
  readonly pipeline: Pipeline;
  readonly runs: readonly QueryRun[];
  /** N of a modelExposure ranking. */
  readonly nodes: number;
  readonly previous: DiscoveryPolicyStatus | undefined;
  /** When the sync finished. */
  readonly now: Date;
}

/** What a sync's query runs decide for discoveredImages and the next sync. */
export type ImagesPlan =
  | {
      /** Some query failed: the last good list stays, and the sync is retried soon. */
      readonly kept: true;
      readonly failed: readonly FailedQuery[];
      readonly images: readonly DiscoveredImage[];
      readonly nextSyncTime: string;
    }
  | {
      /** Every query answered: their observations, ranked, replace the list. */
      readonly kept: false;
      readonly ranking: Ranking;
      readonly images: readonly DiscoveredImage[];
      readonly nextSyncTime: string;
    };

/**
 * The images after a sync. Every query succeeded: the ranked images replace the list. Any query
 * failed: the list stays exactly as the last successful sync left it (a broken Prometheus must
 * not empty the cache, and a ranking without one of its signals is not the ranking asked for), and
 * the next sync comes sooner than syncInterval.
 */
export function planImages(input: SyncInput): ImagesPlan {
  const { spec, pipeline, runs, now } = input;
  const failed = runs.flatMap((run) => (run.outcome.ok ? [] : [{ run, failure: run.outcome.failure }]));
  if (failed.length > 0) {
    return {
      kept: true,
      failed,
      images: lastGoodImages(input.previous),
      nextSyncTime: retryTime(
        spec,
        failed.map((f) => f.failure),
        now,
      ),
    };
  }
  const ranking = rankDiscovered({
    data: new Map(runs.map((r) => [r.name, r.outcome.ok ? r.outcome.data : new Map()])),
    signals: pipeline.signals,
    strategy: strategyOf(pipeline.ranking, input.nodes),
    ...(spec.imageFilter !== undefined ? { imageFilter: new RegExp(spec.imageFilter) } : {}),
    maxImages: spec.maxImages,
    now,
  });
  return {
    kept: false,
    ranking,
    images: ranking.images.map(toDiscoveredImage),
    nextSyncTime: new Date(now.getTime() + intervalMs(spec)).toISOString(),
  };
}

/** The list to keep: the last written, or the one written before discoveredImages existed. */
export function lastGoodImages(previous: DiscoveryPolicyStatus | undefined): readonly DiscoveredImage[] {
  if (previous?.discoveredImages) return previous.discoveredImages;
  return (previous?.images ?? []).map((image, i) => ({
    image: image.reference,
    rank: i + 1,
    finalScore: finalScoreText(image.score ?? 0),
    repository: image.image,
    ...(image.tag !== undefined ? { tag: image.tag } : {}),
    ...(image.digest !== undefined ? { digest: image.digest } : {}),
  }));
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

/** A ranked image as status lists it: Go Drop's image, rank and finalScore, and how the score was made. */
function toDiscoveredImage(ranked: RankedImage, index: number): DiscoveredImage {
  const { id } = ranked;
  return {
    image: id.reference,
    rank: index + 1,
    finalScore: finalScoreText(ranked.score),
    repository: id.repository,
    ...(id.tag !== undefined ? { tag: id.tag } : {}),
    ...(id.digest !== undefined ? { digest: id.digest } : {}),
    queries: [...ranked.queries],
    contributions: ranked.parts.map(finiteParts),
  };
}

// JSON has no Infinity or NaN: a number that overflowed is left out (the score counts as 0).
function finiteParts(
  part: RankedImage['parts'][number],
): NonNullable<DiscoveredImage['contributions']>[number] {
  const kept = Object.fromEntries(
    Object.entries(part).filter(([, v]) => typeof v !== 'number' || Number.isFinite(v)),
  );
  return { ...kept, signal: part.signal, score: Number.isFinite(part.score) ? part.score : 0 };
}
