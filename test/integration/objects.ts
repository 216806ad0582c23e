// Drop objects as tests create them: the spec as given, the API server fills in the defaults.
import type { CachedImage, CachedImageSet, PullPolicy } from '../../lib/api/index.ts';
import type { Pod } from '../../lib/kube/index.ts';
import { pullPodFor } from '../../lib/pull-pod.ts';

function dropObject<T>(kind: string, name: string, spec: Record<string, unknown>): T {
  return { apiVersion: 'drop.corewire.io/v1alpha1', kind, metadata: { name }, spec } as T;
}

export const cachedImage = (name: string, spec: Record<string, unknown>) =>
  dropObject<CachedImage>('CachedImage', name, spec);
export const cachedImageSet = (name: string, spec: Record<string, unknown>) =>
  dropObject<CachedImageSet>('CachedImageSet', name, spec);
export const pullPolicy = (name: string, spec: Record<string, unknown>) =>
  dropObject<PullPolicy>('PullPolicy', name, spec);

/**
 * A pod exactly as Drop's pacer makes one (so it is `restricted`-admissible as theirs are), with the
 * test's own name and labels: for testing the control plane's pod lifecycle without the pacer.
 */
export function pullPodLike(
  name: string,
  node: string,
  image: string,
  meta: { readonly labels: Record<string, string>; readonly annotations?: Record<string, string> },
): Pod {
  const pod = pullPodFor({
    cachedImage: name,
    reference: image,
    node,
    namespace: 'drop-system',
    policy: 'test',
    imagePullPolicy: 'Always',
    imagePullSecrets: [],
    tolerations: [],
  });
  return {
    ...pod,
    metadata: { name, namespace: 'drop-system', labels: meta.labels, annotations: meta.annotations ?? {} },
  };
}

/**
 * Whether a CachedImage or CachedImageSet is ready, for its current spec: its Ready condition (every
 * node cached, every child ready), which reads the same whatever words the phase uses.
 */
export function isReady(object: CachedImage | CachedImageSet | undefined): boolean {
  const status = object?.status;
  if (!status || status.observedGeneration !== object.metadata.generation) return false;
  return status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
