// The steady workload the faults hit: two PullPolicies (one with a registry host cap), CachedImages
// with a pull Secret, a static CachedImageSet, and a DiscoveryPolicy listing the real registry's
// tags through a credentials Secret, feeding a second set. Every Secret value is a sentinel the
// watcher looks for in Drop's logs, every status and every Event.
import { randomBytes } from 'node:crypto';
import type { Kube } from '../../lib/kube/index.ts';
import { paths } from '../../lib/kube/index.ts';

export const NAMESPACE = 'drop-system';
export const POOL_LABEL = 'drop.test/pool';
export const ROLE_LABEL = 'drop.test/chaos-role';
const API = 'drop.corewire.io/v1alpha1';
/** The host every `app` image comes from; policy chaos-a caps it. */
export const CAPPED_HOST = 'registry.chaos';
export const PULL_SECRET = 'chaos-pull-secret';
export const DISCOVERY_SECRET = 'chaos-registry-creds';
export const DISCOVERY_POLICY = 'chaos-discovery';
/** The registry's credentials again, as the discovered set's pull Secret. */
export const REGISTRY_PULL_SECRET = 'chaos-registry-pull';

/** Values planted in Secrets that must never show anywhere. */
export interface Sentinels {
  readonly pullPassword: string;
  readonly registryPassword: string;
  readonly prometheusPassword: string;
  /** What Drop might print of the pull Secret: its password and the base64 `auth` that carries it. */
  all(): string[];
}

export function newSentinels(): Sentinels {
  const word = (what: string) => `chaos-${what}-${randomBytes(9).toString('hex')}`;
  const pullPassword = word('pull');
  const registryPassword = word('registry');
  const prometheusPassword = word('prometheus');
  return {
    pullPassword,
    registryPassword,
    prometheusPassword,
    all: () => [
      pullPassword,
      registryPassword,
      prometheusPassword,
      Buffer.from(`chaos:${pullPassword}`).toString('base64'),
    ],
  };
}

export const POLICIES = {
  'chaos-a': {
    maxConcurrentNodes: 8,
    minDelayBetweenPulls: '100ms',
    maxConcurrentPulls: 14,
    maxConcurrentPullsPerNode: 2,
    failureBackoff: { initial: '5s', max: '20s' },
    registries: [{ host: CAPPED_HOST, maxConcurrentPulls: 10, maxPullsPerHour: 100_000 }],
  },
  'chaos-b': {
    maxConcurrentNodes: 5,
    minDelayBetweenPulls: '200ms',
    maxConcurrentPulls: 8,
    maxConcurrentPullsPerNode: 2,
    failureBackoff: { initial: '5s', max: '20s' },
  },
} as const;

/** The images the waves re-tag: on every pool node, from the capped host. */
export const APP_IMAGES = ['chaos-app-0', 'chaos-app-1', 'chaos-app-2'] as const;
/** Images on the build half of the pool, under the other policy. */
export const TOOL_IMAGES = ['chaos-tool-0', 'chaos-tool-1'] as const;
export const STATIC_SET = 'chaos-set';
export const DISCOVERED_SET = 'chaos-discovered';

export interface WorkloadOptions {
  readonly sentinels: Sentinels;
  /** The htpasswd registry the DiscoveryPolicy lists (https://127.0.0.1:<port>) and its CA. */
  readonly registryUrl: string;
  readonly registryCa: string;
  /** 127.0.0.1:<port>: the registry part of the discovered images. */
  readonly registryHost: string;
}

/** Creates every object of the workload. */
export async function createWorkload(kube: Kube, options: WorkloadOptions): Promise<void> {
  const { sentinels } = options;
  const auth = Buffer.from(`chaos:${sentinels.pullPassword}`).toString('base64');
  await kube.create(paths.secrets(NAMESPACE), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: PULL_SECRET, namespace: NAMESPACE },
    type: 'kubernetes.io/dockerconfigjson',
    stringData: {
      '.dockerconfigjson': JSON.stringify({
        auths: { [CAPPED_HOST]: { username: 'chaos', password: sentinels.pullPassword, auth } },
      }),
    },
  } as never);
  await kube.create(paths.secrets(NAMESPACE), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: DISCOVERY_SECRET, namespace: NAMESPACE },
    type: 'Opaque',
    stringData: { username: 'drop', password: sentinels.registryPassword, 'ca.crt': options.registryCa },
  } as never);
  await kube.create(paths.secrets(NAMESPACE), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: REGISTRY_PULL_SECRET, namespace: NAMESPACE },
    type: 'kubernetes.io/dockerconfigjson',
    stringData: {
      '.dockerconfigjson': JSON.stringify({
        auths: { [options.registryHost]: { username: 'drop', password: sentinels.registryPassword } },
      }),
    },
  } as never);
  for (const [name, spec] of Object.entries(POLICIES))
    await kube.create(paths.pullPolicies(), {
      apiVersion: API,
      kind: 'PullPolicy',
      metadata: { name },
      spec,
    } as never);
  for (const [i, name] of APP_IMAGES.entries())
    await kube.create(paths.cachedImages(), appImage(name, i, 1) as never);
  for (const [i, name] of TOOL_IMAGES.entries())
    await kube.create(paths.cachedImages(), {
      apiVersion: API,
      kind: 'CachedImage',
      metadata: { name },
      spec: {
        image: `docker.io/chaos/tool-slow-2s-${i}`,
        tag: 'v1',
        nodeSelector: { [POOL_LABEL]: 'chaos', [ROLE_LABEL]: 'build' },
        policyRef: { name: 'chaos-b' },
      },
    } as never);
  await kube.create(paths.cachedImageSets(), {
    apiVersion: API,
    kind: 'CachedImageSet',
    metadata: { name: STATIC_SET },
    spec: {
      policyRef: { name: 'chaos-b' },
      nodeSelector: { [POOL_LABEL]: 'chaos' },
      images: [
        { image: 'quay.io/chaos/base-slow-1s', tag: '1' },
        { image: 'quay.io/chaos/runner-slow-1s', tag: '2' },
      ],
    },
  } as never);
  await kube.create(paths.discoveryPolicies(), {
    apiVersion: API,
    kind: 'DiscoveryPolicy',
    metadata: { name: DISCOVERY_POLICY },
    spec: {
      syncInterval: '1m',
      maxImages: 3,
      sources: [
        {
          type: 'registry',
          registry: {
            url: options.registryUrl,
            repositories: ['team/frontend'],
            tagFilter: '^v[0-9]+\\.',
            topX: 2,
          },
          secretRef: { name: DISCOVERY_SECRET },
        },
      ],
    },
  } as never);
  await kube.create(paths.cachedImageSets(), {
    apiVersion: API,
    kind: 'CachedImageSet',
    metadata: { name: DISCOVERED_SET },
    spec: {
      policyRef: { name: 'chaos-a' },
      nodeSelector: { [POOL_LABEL]: 'chaos', [ROLE_LABEL]: 'build' },
      discoveryPolicyRef: { name: DISCOVERY_POLICY },
      imagePullSecrets: [{ name: REGISTRY_PULL_SECRET }],
    },
  } as never);
}

/** An `app` image at a tag: every pool node, the capped host, the pull Secret. */
export function appImage(name: string, index: number, tag: number): Record<string, unknown> {
  return {
    apiVersion: API,
    kind: 'CachedImage',
    metadata: { name },
    spec: {
      image: `${CAPPED_HOST}/chaos/app-slow-2s-${index}`,
      tag: `v${tag}`,
      nodeSelector: { [POOL_LABEL]: 'chaos' },
      policyRef: { name: 'chaos-a' },
      imagePullSecrets: [{ name: PULL_SECRET }],
    },
  };
}

let waves = 1;

/**
 * New work while a fault strikes: one `app` image moves to a new tag, so every pool node pulls it
 * again, paced. Returns the image re-tagged.
 */
export async function startWave(kube: Kube): Promise<string> {
  waves += 1;
  const index = waves % APP_IMAGES.length;
  const name = APP_IMAGES[index]!;
  await kube.mergePatch(paths.cachedImage(name), { spec: { tag: `v${waves}` } });
  return name;
}
