export {
  type CachedImage,
  type CachedImageSpec,
  type CachedImageStatus,
  type CollectedNode,
  cachedImageSchema,
  cachedImageSpecSchema,
  cachedImageStatusSchema,
  type DigestGroup,
  type FailedNode,
  type FailureGroup,
  IMAGE_PHASES,
  type ImagePhase,
  type ManifestRecord,
  type PacingLimitGroup,
  type SkippedGroup,
  type WaitingGroup,
  type WrittenCachedImageStatus,
} from './cached-image.ts';
export {
  type CachedImageSet,
  type CachedImageSetEntry,
  type CachedImageSetSpec,
  type CachedImageSetStatus,
  cachedImageSetSchema,
  cachedImageSetSpecSchema,
  cachedImageSetStatusSchema,
  SET_PHASES,
  type SetPhase,
} from './cached-image-set.ts';
export {
  type Condition,
  conditionSchema,
  DNS_SUBDOMAIN_PATTERN,
  type LocalObjectReference,
  localObjectReferenceSchema,
  type ObjectMeta,
  objectMetaSchema,
  type Toleration,
  tolerationSchema,
} from './core.ts';
export { isRegex, QUANTITY_PATTERN } from './discovery-fields.ts';
export {
  type DiscoveryPolicy,
  type DiscoveryPolicySpec,
  discoveryPolicySchema,
  discoveryPolicySpecSchema,
} from './discovery-policy.ts';
export {
  type DiscoveryQuery,
  type KubernetesEventsQuery,
  type LokiParser,
  type LokiQuery,
  type PrometheusQuery,
  QUERY_TYPES,
  type QueryType,
  type RegistryQuery,
} from './discovery-queries.ts';
export {
  type DiscoveryRanking,
  type ModelExposure,
  type NodeSelector,
  RANKING_STRATEGIES,
  type RankingStrategy,
  termSignal,
  type WeightedSum,
} from './discovery-ranking.ts';
export {
  AGGREGATION_METHODS,
  type AggregationMethod,
  type DiscoverySignal,
  EVENT_METRICS,
  EVENT_STATISTICS,
  type EventMetric,
  type EventPullTime,
  type EventStatistic,
  isTimeZone,
  SIGNAL_TYPES,
  type SignalType,
  signalQuery,
  type TimeWeightedAggregate,
  type WindowAggregate,
} from './discovery-signals.ts';
export type {
  DiscoverySource,
  PrometheusSource,
  RegistrySource,
} from './discovery-sources.ts';
export {
  type Contribution,
  type DiscoveredImage,
  type DiscoveryPolicyStatus,
  discoveredReferences,
  discoveryPolicyStatusSchema,
  type QueryResult,
} from './discovery-status.ts';
export { TAG_XOR_DIGEST } from './fields.ts';
export { API_VERSION, CATEGORY, GROUP, IMAGESET_LABEL, PLURAL, VERSION } from './group.ts';
export { KIND_NAMES, type KindInfo, type KindName, kinds, type PrinterColumn } from './kinds.ts';
export { type ParsedSpec, parseSpec } from './parse.ts';
export {
  type PullPolicy,
  type PullPolicySpec,
  type PullPolicyStatus,
  pullPolicySchema,
  pullPolicySpecSchema,
  pullPolicyStatusSchema,
} from './pull-policy.ts';
export { statusWord } from './status-word.ts';
