import type { DiscoveryPolicy, DiscoveryPolicySpec, DiscoveryPolicyStatus } from '../../lib/api/index.ts';
import { type Condition, setCondition } from '../../lib/conditions.ts';
import type { Candidate, SourceFailure, SourceOutcome, SyncReason } from '../../lib/discovery/index.ts';
import { rankImages } from '../../lib/discovery/index.ts';
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

/** One entry of status.images: what reconcile-set turns into a child CachedImage. */
export type DiscoveredImage = Candidate;

/** One entry of status.sources. */
export interface SourceStatus {
  readonly index: number;
  readonly type: string;
  readonly phase: SyncReason;
  readonly reason: SyncReason;
  readonly message: string;
  readonly images?: number;
  readonly lastSyncTime?: string;
}

/** The status discover writes (lib/api/discovery-policy.ts is its schema). */
export interface PolicyStatus {
  readonly phase: SyncReason;
  readonly message: string;
  readonly conditions: readonly Condition[];
  readonly observedGeneration: number;
  readonly images: readonly DiscoveredImage[];
  readonly imageCount: number;
  readonly sourceCount: number;
  readonly lastSyncTime: string;
  readonly lastSuccessfulSyncTime?: string;
  readonly nextSyncTime?: string;
  readonly sources: readonly SourceStatus[];
}

/** What one source of the spec gave in this sync. */
export interface SourceRun {
  readonly type: string;
  readonly outcome: SourceOutcome;
}

export interface SyncInput {
  readonly generation: number;
  readonly spec: DiscoveryPolicySpec;
  readonly previous: DiscoveryPolicyStatus | undefined;
  readonly runs: readonly SourceRun[];
  /** When the sync finished. */
  readonly now: Date;
}

/**
 * The status after a sync. Every source succeeded: the ranked images replace the list. Any source
 * failed: the list stays exactly as the last successful sync left it (a broken Prometheus must not
 * empty the cache), and STATUS is the first failing source's reason.
 */
export function syncedStatus(input: SyncInput): PolicyStatus {
  const { spec, previous, runs, now } = input;
  const failed = runs
    .map((run, index) => ({ index, type: run.type, outcome: run.outcome }))
    .flatMap((r) => (r.outcome.ok ? [] : [{ index: r.index, type: r.type, failure: r.outcome.failure }]));
  const sources = runs.map((run, index) => sourceResult(run, index, previous?.sources, now));
  const first = failed[0];
  if (first) {
    const images = previous?.images ?? [];
    const kept = previous?.lastSuccessfulSyncTime
      ? `keeping the ${images.length} images of the last good sync at ${previous.lastSuccessfulSyncTime}`
      : 'no good sync yet, so no images';
    const others = failed.length > 1 ? ` (and ${failed.length - 1} more failing sources)` : '';
    return finish(input, {
      reason: first.failure.reason,
      message: `source ${first.index} (${first.type}): ${first.failure.message}${others}; ${kept}`,
      images,
      sources,
      nextSyncTime: retryTime(
        spec,
        failed.map((f) => f.failure),
        now,
      ),
      ...(previous?.lastSuccessfulSyncTime
        ? { lastSuccessfulSyncTime: previous.lastSuccessfulSyncTime }
        : {}),
    });
  }
  const ranking = rankImages(
    runs.map((r) => (r.outcome.ok ? r.outcome.candidates : [])),
    {
      ...(spec.imageFilter !== undefined ? { imageFilter: new RegExp(spec.imageFilter) } : {}),
      maxImages: spec.maxImages,
    },
  );
  const notes = [
    ranking.filteredOut ? `${ranking.filteredOut} not matching imageFilter` : '',
    ranking.overLimit ? `${ranking.overLimit} beyond maxImages ${spec.maxImages}` : '',
  ].filter(Boolean);
  const perSource = runs.map((r, i) => `source ${i} (${r.type}): ${r.outcome.ok ? r.outcome.summary : ''}`);
  return finish(input, {
    reason: 'Synced',
    message: `${ranking.images.length} images from ${runs.length} sources${notes.length ? `, left out ${notes.join(' and ')}` : ''}; ${perSource.join('; ')}`,
    images: ranking.images.map(toDiscoveredImage),
    sources,
    nextSyncTime: new Date(now.getTime() + intervalMs(spec)).toISOString(),
    lastSuccessfulSyncTime: now.toISOString(),
  });
}

/** The status of a policy whose spec cannot be used; only a spec change syncs it again (no nextSyncTime). */
export function invalidSpecStatus(
  input: Pick<SyncInput, 'generation' | 'previous' | 'now'> & { readonly sourceCount: number },
  message: string,
): PolicyStatus {
  const previous = input.previous;
  const images = previous?.images ?? [];
  return finish(input, {
    reason: 'InvalidSpec',
    message: `${message}; ${images.length ? `keeping the ${images.length} images of the last good sync` : 'no images'}`,
    images,
    sources: [],
    ...(previous?.lastSuccessfulSyncTime ? { lastSuccessfulSyncTime: previous.lastSuccessfulSyncTime } : {}),
  });
}

interface Outcome {
  readonly reason: SyncReason;
  readonly message: string;
  readonly images: readonly DiscoveredImage[];
  readonly sources: readonly SourceStatus[];
  readonly nextSyncTime?: string;
  readonly lastSuccessfulSyncTime?: string;
}

function finish(
  input: Pick<SyncInput, 'generation' | 'previous' | 'now'> & {
    readonly sourceCount?: number;
    readonly spec?: DiscoveryPolicySpec;
  },
  outcome: Outcome,
): PolicyStatus {
  const { generation, previous, now } = input;
  const ready = outcome.reason === 'Synced';
  return {
    phase: outcome.reason,
    message: outcome.message,
    conditions: setCondition(
      previous?.conditions ?? [],
      { type: 'Ready', status: ready ? 'True' : 'False', reason: outcome.reason, message: outcome.message },
      { now, observedGeneration: generation },
    ),
    observedGeneration: generation,
    images: outcome.images,
    imageCount: outcome.images.length,
    sourceCount: input.spec?.sources.length ?? input.sourceCount ?? 0,
    lastSyncTime: now.toISOString(),
    ...(outcome.lastSuccessfulSyncTime ? { lastSuccessfulSyncTime: outcome.lastSuccessfulSyncTime } : {}),
    ...(outcome.nextSyncTime ? { nextSyncTime: outcome.nextSyncTime } : {}),
    sources: outcome.sources,
  };
}

function sourceResult(
  run: SourceRun,
  index: number,
  previous: DiscoveryPolicyStatus['sources'],
  now: Date,
): SourceStatus {
  const before = previous?.find((p) => p.index === index && p.type === run.type);
  if (run.outcome.ok) {
    return {
      index,
      type: run.type,
      phase: 'Synced',
      reason: 'Synced',
      message: run.outcome.summary,
      images: run.outcome.candidates.length,
      lastSyncTime: now.toISOString(),
    };
  }
  const { reason, message } = run.outcome.failure;
  return {
    index,
    type: run.type,
    phase: reason,
    reason,
    message,
    ...(before?.lastSyncTime ? { lastSyncTime: before.lastSyncTime } : {}),
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
function toDiscoveredImage(candidate: DiscoveredImage): DiscoveredImage {
  return {
    reference: candidate.reference,
    image: candidate.image,
    ...(candidate.tag !== undefined ? { tag: candidate.tag } : {}),
    ...(candidate.digest !== undefined ? { digest: candidate.digest } : {}),
    score: candidate.score,
    source: candidate.source,
  };
}
