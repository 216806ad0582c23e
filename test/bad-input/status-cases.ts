// The bad-input table, part 2: what only Drop can judge (does the policy exist, does the Secret,
// can the kubelet pull it) becomes a status condition whose reason a person can act on.
// test/integration/bad-input.test.ts creates each CachedImage on a node of its own.

export interface StatusCase {
  /** The row's name in docs/bad-input.md. */
  readonly name: string;
  readonly spec: Record<string, unknown>;
  /** A Secret in drop-system the case needs (created before, deleted after). */
  readonly secret?: {
    readonly name: string;
    readonly type: string;
    readonly stringData: Record<string, string>;
  };
  readonly condition: 'Ready' | 'PullSecretsFound';
  readonly reason: string;
  readonly message: RegExp;
}

export const STATUS_CASES: readonly StatusCase[] = [
  {
    name: 'policyRef to a PullPolicy that does not exist',
    spec: { image: 'registry.example/bad/policy', tag: 'v1', policyRef: { name: 'no-such-policy' } },
    condition: 'Ready',
    reason: 'PolicyNotFound',
    message: /no-such-policy/,
  },
  {
    name: 'imagePullSecrets naming a Secret that does not exist',
    spec: { image: 'registry.example/bad/secret', tag: 'v1', imagePullSecrets: [{ name: 'no-such-secret' }] },
    condition: 'PullSecretsFound',
    reason: 'SecretNotFound',
    message: /not found in the Drop namespace: no-such-secret/,
  },
  {
    name: 'imagePullSecrets naming an Opaque Secret the kubelet would skip',
    spec: {
      image: 'registry.example/bad/opaque',
      tag: 'v1',
      imagePullSecrets: [{ name: 'bad-input-opaque' }],
    },
    secret: { name: 'bad-input-opaque', type: 'Opaque', stringData: { '.dockerconfigjson': '{"auths":{}}' } },
    condition: 'PullSecretsFound',
    reason: 'SecretNotUsable',
    message:
      /Secret bad-input-opaque is of type Opaque: the kubelet reads only kubernetes.io\/dockerconfigjson/,
  },
  {
    name: 'an image name the kubelet cannot parse',
    spec: { image: 'registry.example/bad/invalidimagename', tag: 'v1' },
    condition: 'Ready',
    reason: 'InvalidImageName',
    message: /InvalidImageName|invalid reference format/,
  },
  {
    name: 'a nodeSelector no node matches',
    spec: {
      image: 'registry.example/bad/nowhere',
      tag: 'v1',
      nodeSelector: { 'drop.test/pool': 'no-such-pool' },
    },
    condition: 'Ready',
    reason: 'NoTargetNodes',
    message: /node/,
  },
];
