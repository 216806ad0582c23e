export {
  type CachedImage,
  type CachedImageSpec,
  type CachedImageStatus,
  cachedImageSchema,
  cachedImageSpecSchema,
  cachedImageStatusSchema,
  type FailedNode,
  type FailureGroup,
  type PacingLimitGroup,
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
export {
  type DiscoveredImage,
  type DiscoveryPolicy,
  type DiscoveryPolicySpec,
  type DiscoveryPolicyStatus,
  type DiscoverySource,
  discoveryPolicySchema,
  discoveryPolicySpecSchema,
  discoveryPolicyStatusSchema,
  type PrometheusSource,
  type RegistrySource,
  type SourceResult,
} from './discovery-policy.ts';
export { TAG_XOR_DIGEST } from './fields.ts';
export { API_VERSION, CATEGORY, GROUP, IMAGESET_LABEL, PLURAL, VERSION } from './group.ts';
export { KIND_NAMES, type KindInfo, type KindName, kinds, type PrinterColumn } from './kinds.ts';
export { type ParsedSpec, parseSpec, type SpecOf } from './parse.ts';
export {
  type PullPolicy,
  type PullPolicySpec,
  type PullPolicyStatus,
  pullPolicySchema,
  pullPolicySpecSchema,
  pullPolicyStatusSchema,
} from './pull-policy.ts';
