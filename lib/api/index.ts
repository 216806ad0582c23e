export type { CachedImage, CachedImageSpec, CachedImageStatus } from './cached-image.ts';
export type { CachedImageSet, CachedImageSetSpec, CachedImageSetStatus } from './cached-image-set.ts';
export { API_VERSION, GROUP, VERSION } from './common.ts';
export type {
  DiscoveredImage,
  DiscoveryPolicy,
  DiscoveryPolicySpec,
  DiscoveryPolicyStatus,
} from './discovery-policy.ts';
export { type KindInfo, type KindName, kinds } from './kinds.ts';
export { type ParsedSpec, parseSpec } from './parse.ts';
export type { PullPolicy, PullPolicySpec, PullPolicyStatus } from './pull-policy.ts';
