import type {
  DiscoveryPolicySpec,
  DiscoverySignal,
  KubernetesEventsQuery,
  LocalObjectReference,
  LokiQuery,
  ModelExposure,
  NodeSelector,
} from '../api/index.ts';
import { signalQuery } from '../api/index.ts';
import type { PrometheusQueryConfig } from './prometheus.ts';
import type { Strategy } from './ranking.ts';
import type { RegistryQueryConfig } from './registry.ts';

// What a DiscoveryPolicy's spec asks for, in one shape for both forms: sources[] become queries
// named source-<n> ranked by the sum of their samples; queries[] keep their names, signals and
// ranking (none: each image's largest sample, Go Drop's default).

interface Named {
  readonly name: string;
  /** How messages name it: `source 0` or `query runner-image-usage`. */
  readonly label: string;
  readonly secretRef?: LocalObjectReference;
}

export type PipelineQuery = Named &
  (
    | { readonly type: 'prometheus'; readonly prometheus: PrometheusQueryConfig }
    | { readonly type: 'registry'; readonly registry: RegistryQueryConfig }
    | { readonly type: 'loki'; readonly loki: LokiQuery }
    | { readonly type: 'kubernetesEvents'; readonly kubernetesEvents: KubernetesEventsQuery }
  );

/** The ranking before N is known: modelExposure counts nodes first (the shell does). */
export type RankingPlan =
  | Exclude<Strategy, { kind: 'modelExposure' }>
  | { readonly kind: 'modelExposure'; readonly config: ModelExposure };

export interface Pipeline {
  readonly form: 'sources' | 'queries';
  readonly queries: readonly PipelineQuery[];
  readonly signals: readonly DiscoverySignal[];
  readonly ranking: RankingPlan;
}

const DEFAULT_LOOKBACK = '24h';

/** The pipeline of a valid spec. */
export function pipelineOf(spec: DiscoveryPolicySpec): Pipeline {
  if (spec.sources) {
    const queries = spec.sources.map((source, i): PipelineQuery => {
      const named = { name: `source-${i}`, label: `source ${i}`, ...secret(source.secretRef) };
      if (source.prometheus) {
        const { endpoint, query, lookback, step } = source.prometheus;
        return {
          ...named,
          type: 'prometheus',
          prometheus: { endpoint, query, step, ...(lookback ? { lookback } : {}) },
        };
      }
      const registry = source.registry ?? { url: '', repositories: [] };
      return { ...named, type: 'registry', registry };
    });
    return {
      form: 'sources',
      queries,
      signals: [],
      ranking: {
        kind: 'sumOfSamples',
        labels: new Map(queries.map((q) => [q.name, `${q.label} (${q.type})`])),
      },
    };
  }
  const queries = (spec.queries ?? []).map((q): PipelineQuery => {
    const named = { name: q.name, label: `query ${q.name}`, ...secret(q.secretRef) };
    if (q.type === 'prometheus' && q.prometheus) {
      const { endpoint, query, queryType, lookback, step } = q.prometheus;
      return {
        ...named,
        type: 'prometheus',
        prometheus: {
          endpoint,
          query,
          step,
          ...(queryType === 'range' ? { lookback: lookback ?? DEFAULT_LOOKBACK } : {}),
        },
      };
    }
    if (q.type === 'registry' && q.registry) return { ...named, type: 'registry', registry: q.registry };
    if (q.type === 'loki' && q.loki) return { ...named, type: 'loki', loki: q.loki };
    return {
      name: q.name,
      label: named.label,
      type: 'kubernetesEvents',
      kubernetesEvents: q.kubernetesEvents ?? {},
    };
  });
  return { form: 'queries', queries, signals: spec.signals ?? [], ranking: rankingPlanOf(spec) };
}

function secret(ref: LocalObjectReference | undefined): { readonly secretRef?: LocalObjectReference } {
  return ref ? { secretRef: ref } : {};
}

function rankingPlanOf(spec: DiscoveryPolicySpec): RankingPlan {
  const ranking = spec.ranking;
  if (ranking?.strategy === 'signal' && ranking.signal) return { kind: 'signal', signal: ranking.signal };
  if (ranking?.strategy === 'weightedSum' && ranking.weightedSum)
    return { kind: 'weightedSum', config: ranking.weightedSum };
  if (ranking?.strategy === 'modelExposure' && ranking.modelExposure)
    return { kind: 'modelExposure', config: ranking.modelExposure };
  return { kind: 'largestSample' };
}

/** How N of a modelExposure ranking is found: a fixed number, or Ready nodes matching a selector. */
export type NodesNeeded =
  | { readonly kind: 'none' }
  | { readonly kind: 'count'; readonly count: number }
  | { readonly kind: 'selector'; readonly selector: NodeSelector | undefined; readonly fallback?: number };

export function nodesNeeded(plan: RankingPlan): NodesNeeded {
  if (plan.kind !== 'modelExposure') return { kind: 'none' };
  const { nodes, nodeCount } = plan.config;
  // nodes without a count counts every Ready node (Go Drop: "a nil selector counts all Ready nodes").
  if (nodes && (nodes.selector || nodes.count === undefined))
    return { kind: 'selector', selector: nodes.selector, ...fallback(nodes.count ?? nodeCount) };
  return { kind: 'count', count: nodes?.count ?? nodeCount ?? 1 };
}

const fallback = (count: number | undefined) => (count === undefined ? {} : { fallback: count });

/** The strategy once N is known. */
export function strategyOf(plan: RankingPlan, nodes: number): Strategy {
  return plan.kind === 'modelExposure' ? { kind: 'modelExposure', config: plan.config, nodes } : plan;
}

/** The signals that read `query`. */
export function signalsOf(pipeline: Pipeline, query: string): readonly DiscoverySignal[] {
  return pipeline.signals.filter((s) => signalQuery(s) === query);
}
