// Drop objects as tests create them: the spec as given, the API server fills in the defaults.
import type { CachedImage, CachedImageSet, PullPolicy } from '../../lib/api/index.ts';

function dropObject<T>(kind: string, name: string, spec: Record<string, unknown>): T {
  return { apiVersion: 'drop.corewire.io/v1alpha1', kind, metadata: { name }, spec } as T;
}

export const cachedImage = (name: string, spec: Record<string, unknown>) =>
  dropObject<CachedImage>('CachedImage', name, spec);
export const cachedImageSet = (name: string, spec: Record<string, unknown>) =>
  dropObject<CachedImageSet>('CachedImageSet', name, spec);
export const pullPolicy = (name: string, spec: Record<string, unknown>) =>
  dropObject<PullPolicy>('PullPolicy', name, spec);
