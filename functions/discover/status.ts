import type { DiscoveredImage, DiscoveryPolicyStatus, QueryResult } from '../../lib/api/index.ts';
import { ConditionSet } from '../../lib/controller/index.ts';
import { type SyncReason, strategyOf } from '../../lib/discovery/index.ts';
import { type ImagesPlan, lastGoodImages, planImages, type QueryRun, type SyncInput } from './plan.ts';

// Ready's reason is the STATUS word: Synced, or why the sync failed (lib/discovery/reasons.ts).
const conditionSet = new ConditionSet('Ready');

/**
 * The status after a sync: the images planImages keeps or ranks, and STATUS Synced or the first
 * failing query's reason, with a message that says what was kept or left out.
 */
export function syncedStatus(
  input: SyncInput & { readonly generation: number; readonly nodesNote?: string },
): DiscoveryPolicyStatus {
  const { spec, pipeline, previous, runs, now } = input;
  const plan: ImagesPlan = planImages(input);
  const queryResults = runs.map((run) => queryResult(run, previous?.queryResults, now));
  const noun = pipeline.form === 'sources' ? 'sources' : 'queries';
  if (plan.kept) {
    const [first, ...more] = plan.failed;
    const kept = previous?.lastSuccessfulSyncTime
      ? `keeping the ${plan.images.length} images of the last good sync at ${previous.lastSuccessfulSyncTime}`
      : 'no good sync yet, so no images';
    const others = more.length ? ` (and ${more.length} more failing ${noun})` : '';
    return finish(input, {
      reason: first?.failure.reason ?? 'InvalidResponse',
      message: `${first?.run.label} (${first?.run.type}): ${first?.failure.message}${others}; ${kept}`,
      images: plan.images,
      queryResults,
      ...(previous?.ranking ? { ranking: previous.ranking } : {}),
      nextSyncTime: plan.nextSyncTime,
      ...(previous?.lastSuccessfulSyncTime
        ? { lastSuccessfulSyncTime: previous.lastSuccessfulSyncTime }
        : {}),
    });
  }
  const { ranking } = plan;
  const notes = [
    ranking.filteredOut ? `${ranking.filteredOut} not matching imageFilter` : '',
    ranking.leftOut ? `${ranking.leftOut} missing a signal (missingSignal drop)` : '',
    ranking.overLimit ? `${ranking.overLimit} beyond maxImages ${spec.maxImages}` : '',
  ].filter(Boolean);
  const perQuery = runs.map((r) => `${r.label} (${r.type}): ${r.outcome.ok ? r.outcome.summary : ''}`);
  const nodes = input.nodesNote ? [input.nodesNote] : [];
  const strategy = strategyOf(pipeline.ranking, input.nodes);
  return finish(input, {
    reason: 'Synced',
    message: [
      `${ranking.images.length} images from ${runs.length} ${noun}${notes.length ? `, left out ${notes.join(' and ')}` : ''}`,
      ...perQuery,
      ...nodes,
    ].join('; '),
    images: plan.images,
    queryResults,
    ranking: {
      strategy: pipeline.form === 'sources' ? 'sources' : (spec.ranking?.strategy ?? 'default'),
      summary: ranking.summary,
      ...(strategy.kind === 'modelExposure' ? { nodes: strategy.nodes } : {}),
    },
    nextSyncTime: plan.nextSyncTime,
    lastSuccessfulSyncTime: now.toISOString(),
  });
}

/** The status of a policy whose spec cannot be used; only a spec change syncs it again (no nextSyncTime). */
export function invalidSpecStatus(
  input: {
    readonly generation: number;
    readonly previous: DiscoveryPolicyStatus | undefined;
    readonly now: Date;
    readonly sourceCount: number;
  },
  message: string,
): DiscoveryPolicyStatus {
  const images = lastGoodImages(input.previous);
  return finish(input, {
    reason: 'InvalidSpec',
    message: `${message}; ${images.length ? `keeping the ${images.length} images of the last good sync` : 'no images'}`,
    images,
    queryResults: [],
    ...(input.previous?.lastSuccessfulSyncTime
      ? { lastSuccessfulSyncTime: input.previous.lastSuccessfulSyncTime }
      : {}),
  });
}

/** How many queries or sources a spec that failed validation lists, for the SOURCES column. */
export function declaredQueries(spec: unknown): number {
  const { sources, queries } = (spec ?? {}) as { sources?: unknown; queries?: unknown };
  return Array.isArray(queries) ? queries.length : Array.isArray(sources) ? sources.length : 0;
}

// One entry of queryResults: success with its image count, or its failure with its last success kept.
function queryResult(run: QueryRun, previous: readonly QueryResult[] | undefined, now: Date): QueryResult {
  const before = previous?.find((p) => p.name === run.name && p.type === run.type);
  if (run.outcome.ok)
    return {
      name: run.name,
      type: run.type,
      status: 'success',
      reason: 'Synced',
      message: run.outcome.summary,
      images: run.outcome.data.size,
      lastSuccessTime: now.toISOString(),
    };
  return {
    name: run.name,
    type: run.type,
    status: 'failed',
    reason: run.outcome.failure.reason,
    message: run.outcome.failure.message,
    ...(before?.lastSuccessTime ? { lastSuccessTime: before.lastSuccessTime } : {}),
  };
}

/** What a sync found, before it becomes a status. */
interface SyncResult {
  readonly reason: SyncReason;
  readonly message: string;
  readonly images: readonly DiscoveredImage[];
  readonly queryResults: readonly QueryResult[];
  readonly ranking?: DiscoveryPolicyStatus['ranking'];
  readonly nextSyncTime?: string;
  readonly lastSuccessfulSyncTime?: string;
}

function finish(
  input: {
    readonly generation: number;
    readonly previous: DiscoveryPolicyStatus | undefined;
    readonly now: Date;
    readonly sourceCount?: number;
    readonly pipeline?: { readonly queries: readonly unknown[] };
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
    discoveredImages: [...result.images],
    imageCount: result.images.length,
    sourceCount: input.pipeline?.queries.length ?? input.sourceCount ?? 0,
    queryResults: [...result.queryResults],
    ...(result.ranking ? { ranking: result.ranking } : {}),
    lastSyncTime: now.toISOString(),
    ...(result.lastSuccessfulSyncTime ? { lastSuccessfulSyncTime: result.lastSuccessfulSyncTime } : {}),
    ...(result.nextSyncTime ? { nextSyncTime: result.nextSyncTime } : {}),
  };
}
