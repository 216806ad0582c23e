import type { KubeObject } from './kube/index.ts';

// The kubelet reads an imagePullSecret only when its type and key agree (k8s.io/kubernetes
// pkg/credentialprovider/secrets.MakeDockerKeyring): kubernetes.io/dockerconfigjson with a
// non-empty .dockerconfigjson, or kubernetes.io/dockercfg with .dockercfg. Any other Secret is
// skipped without a word, and the pull then fails as unauthorized on every node; Drop says why first.

export interface PullSecret extends KubeObject {
  readonly type?: string;
  readonly data?: Readonly<Record<string, string>>;
}

const READABLE: Readonly<Record<string, string>> = {
  'kubernetes.io/dockerconfigjson': '.dockerconfigjson',
  'kubernetes.io/dockercfg': '.dockercfg',
};

/** Why the kubelet would ignore this Secret as an imagePullSecret, or undefined when it reads it. */
export function pullSecretProblem(secret: PullSecret): string | undefined {
  const type = secret.type || 'Opaque';
  const key = READABLE[type];
  const name = secret.metadata.name;
  if (!key)
    return `Secret ${name} is of type ${type}: the kubelet reads only kubernetes.io/dockerconfigjson (key .dockerconfigjson) or kubernetes.io/dockercfg (key .dockercfg)`;
  if (!secret.data?.[key]) return `Secret ${name} (${type}) has no ${key}`;
  return undefined;
}
