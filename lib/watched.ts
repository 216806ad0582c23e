import { API_VERSION, type CachedImage, PLURAL, type PullPolicy } from './api/index.ts';
import type { KubeObject } from './kube/client.ts';
import type { Node, Pod } from './kube/core.ts';
import type { InformerSpec } from './kube/informer.ts';
import { paths } from './kube/paths.ts';
import type { WatchTarget } from './kube/watch.ts';
import { keepImageReport } from './node-images.ts';
import { CACHED_IMAGE_ANNOTATION, PULL_POD_SELECTOR } from './pull-pod.ts';

// The collections Drop's functions keep in memory (lib/kube/informer.ts), each trimmed to what they
// read: at a thousand nodes the cache is most of a function's memory, and a node object carries
// its image list, a pod its full spec, both their managedFields.

/** Drop's pull pods in its namespace: who pulls what where, and how it ended. */
export function pullPods(namespace: string): InformerSpec<Pod> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    plural: 'pods',
    path: paths.pods(namespace),
    labelSelector: PULL_POD_SELECTOR,
    indexBy: (pod) => pod.metadata.annotations?.[CACHED_IMAGE_ANNOTATION],
    trim: (pod) => ({
      apiVersion: pod.apiVersion,
      kind: pod.kind,
      metadata: pick(pod.metadata, META),
      spec: {
        ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
        containers: (pod.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image })),
      },
      ...(pod.status
        ? {
            status: {
              ...pick(pod.status, ['phase', 'reason', 'message'] as const),
              ...(pod.status.containerStatuses
                ? {
                    containerStatuses: pod.status.containerStatuses.map((c) =>
                      pick(c, ['name', 'image', 'imageID', 'state'] as const),
                    ),
                  }
                : {}),
            },
          }
        : {}),
    }),
  };
}

/** Every node: what decides whether it is a target (labels, taints, cordon, conditions). */
export const nodes: InformerSpec<Node> = {
  apiVersion: 'v1',
  kind: 'Node',
  plural: 'nodes',
  path: paths.nodes(),
  trim: (node) => {
    const trimmed: Node = {
      apiVersion: node.apiVersion,
      kind: node.kind,
      metadata: pick(node.metadata, META),
      ...(node.spec ? { spec: pick(node.spec, ['unschedulable', 'taints'] as const) } : {}),
      ...(node.status?.conditions
        ? { status: { conditions: node.status.conditions.map((c) => ({ type: c.type, status: c.status })) } }
        : {}),
    };
    // Its image list, hashed, for garbage-collection detection (lib/node-images.ts).
    keepImageReport(node, trimmed);
    return trimmed;
  },
};

export const cachedImages: InformerSpec<CachedImage> = dropKind('CachedImage');
export const pullPolicies: InformerSpec<PullPolicy> = dropKind('PullPolicy');

function dropKind<T extends CachedImage | PullPolicy>(kind: 'CachedImage' | 'PullPolicy'): InformerSpec<T> {
  return {
    apiVersion: API_VERSION,
    kind,
    plural: PLURAL[kind],
    path: `/apis/${API_VERSION}/${PLURAL[kind]}`,
  };
}

const META = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'labels',
  'annotations',
] as const;

function pick<T extends object, K extends keyof T>(object: T, keys: readonly K[]): Pick<T, K> {
  const picked = {} as Pick<T, K>;
  for (const key of keys) if (object[key] !== undefined) picked[key] = object[key];
  return picked;
}

/**
 * The informer spec for a watch target: the trimmed one this file defines for the same collection
 * and selector (so every reader in the process shares one cache), else the target as it is.
 */
export function specFor(target: WatchTarget): InformerSpec<KubeObject> {
  // Specs differ only in the type they read: one cache holds any object.
  const known = [nodes, cachedImages, pullPolicies] as unknown as InformerSpec<KubeObject>[];
  const pods = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(target.path);
  if (pods?.[1] && target.labelSelector === PULL_POD_SELECTOR)
    known.push(pullPods(pods[1]) as unknown as InformerSpec<KubeObject>);
  return (
    known.find(
      (spec) => spec.path === target.path && (spec.labelSelector ?? '') === (target.labelSelector ?? ''),
    ) ?? target
  );
}
