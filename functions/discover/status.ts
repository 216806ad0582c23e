import type {
  DiscoveredImage,
  DiscoveryPolicySpec,
  DiscoveryPolicyStatus,
  SourceResult,
} from '../../lib/api/index.ts';
import { ConditionSet } from '../../lib/controller/index.ts';
import type { SyncReason } from '../../lib/discovery/index.ts';
import { planImages, type SourceRun } from './plan.ts';

// Ready's reason is the STATUS word: Synced, or why the sync failed (lib/discovery/reasons.ts).
const conditionSet = new ConditionSet('Ready');

export interface SyncInput {
  readonly generation: number;
  readonly spec: DiscoveryPolicySpec;
  readonly previous: DiscoveryPolicyStatus | undefined;
  readonly runs: readonly SourceRun[];
  /** When the sync finished. */
  readonly now: Date;
}

/**
 * The status after a sync: the images planImages keeps or ranks, and STATUS Synced or the first
 * failing source's reason, with a message that says what was kept or left out.
 */
export function syncedStatus(input: SyncInput): DiscoveryPolicyStatus {
  const { spec, previous, runs, now } = input;
  const plan = planImages(spec, previous, runs, now);
  const sources = runs.map((run, index) => sourceResult(run, index, previous?.sources, now));
  if (plan.kept) {
    const { first, failed, images } = plan;
    const kept = previous?.lastSuccessfulSyncTime
      ? `keeping the ${images.length} images of the last good sync at ${previous.lastSuccessfulSyncTime}`
      : 'no good sync yet, so no images';
    const others = failed.length > 1 ? ` (and ${failed.length - 1} more failing sources)` : '';
    return finish(input, {
      reason: first.failure.reason,
      message: `source ${first.index} (${first.type}): ${first.failure.message}${others}; ${kept}`,
      images,
      sources,
      nextSyncTime: plan.nextSyncTime,
      ...(previous?.lastSuccessfulSyncTime
        ? { lastSuccessfulSyncTime: previous.lastSuccessfulSyncTime }
        : {}),
    });
  }
  const { ranking } = plan;
  const notes = [
    ranking.filteredOut ? `${ranking.filteredOut} not matching imageFilter` : '',
    ranking.overLimit ? `${ranking.overLimit} beyond maxImages ${spec.maxImages}` : '',
  ].filter(Boolean);
  const perSource = runs.map((r, i) => `source ${i} (${r.type}): ${r.outcome.ok ? r.outcome.summary : ''}`);
  return finish(input, {
    reason: 'Synced',
    message: `${ranking.images.length} images from ${runs.length} sources${notes.length ? `, left out ${notes.join(' and ')}` : ''}; ${perSource.join('; ')}`,
    images: plan.images,
    sources,
    nextSyncTime: plan.nextSyncTime,
    lastSuccessfulSyncTime: now.toISOString(),
  });
}

/** The status of a policy whose spec cannot be used; only a spec change syncs it again (no nextSyncTime). */
export function invalidSpecStatus(
  input: Pick<SyncInput, 'generation' | 'previous' | 'now'> & { readonly sourceCount: number },
  message: string,
): DiscoveryPolicyStatus {
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

/** How many sources a spec that failed validation lists, for the SOURCES column. */
export function declaredSources(spec: unknown): number {
  const sources = (spec as { sources?: unknown } | undefined)?.sources;
  return Array.isArray(sources) ? sources.length : 0;
}

// One entry of status.sources: Synced with its image count, or its failure with its last success kept.
function sourceResult(
  run: SourceRun,
  index: number,
  previous: DiscoveryPolicyStatus['sources'],
  now: Date,
): SourceResult {
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

/** What a sync found, before it becomes a status. */
interface SyncResult {
  readonly reason: SyncReason;
  readonly message: string;
  readonly images: readonly DiscoveredImage[];
  readonly sources: readonly SourceResult[];
  readonly nextSyncTime?: string;
  readonly lastSuccessfulSyncTime?: string;
}

function finish(
  input: Pick<SyncInput, 'generation' | 'previous' | 'now'> & {
    readonly sourceCount?: number;
    readonly spec?: DiscoveryPolicySpec;
  },
  result: SyncResult,
): DiscoveryPolicyStatus {
  const { generation, previous, now } = input;
  const conditions = conditionSet
    .manage(previous?.conditions, { now, observedGeneration: generation })
    .markHappy(result.reason === 'Synced', result.reason, result.message).conditions;
  return {
    phase: result.reason,
    message: result.message,
    conditions: [...conditions],
    observedGeneration: generation,
    images: [...result.images],
    imageCount: result.images.length,
    sourceCount: input.spec?.sources.length ?? input.sourceCount ?? 0,
    lastSyncTime: now.toISOString(),
    ...(result.lastSuccessfulSyncTime ? { lastSuccessfulSyncTime: result.lastSuccessfulSyncTime } : {}),
    ...(result.nextSyncTime ? { nextSyncTime: result.nextSyncTime } : {}),
    sources: [...result.sources],
  };
}
