/** The API group every Drop kind belongs to. */
export const GROUP = 'drop.corewire.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;
/** `kubectl get drop` lists every Drop kind. */
export const CATEGORY = 'drop';

/** Resource names as they appear in REST paths and RBAC rules. */
export const PLURAL = {
  CachedImage: 'cachedimages',
  CachedImageSet: 'cachedimagesets',
  PullPolicy: 'pullpolicies',
  DiscoveryPolicy: 'discoverypolicies',
} as const;

/** The label a CachedImageSet puts on its children (shown as SET in `kubectl get cachedimages -o wide`). */
export const IMAGESET_LABEL = `${GROUP}/imageset`;
