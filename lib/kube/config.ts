import { KubeConfig } from '@kubernetes/client-node';

/** The kubeconfig from `KUBECONFIG` (or ~/.kube/config), else the in-cluster service account. */
export function loadKubeConfig(path = process.env.KUBECONFIG): KubeConfig {
  const config = new KubeConfig();
  if (path) config.loadFromFile(path);
  else config.loadFromDefault();
  return config;
}

/** The namespace Drop runs in: where pull pods, Leases and referenced Secrets live. */
export function dropNamespace(): string {
  return process.env.DROP_NAMESPACE || 'drop-system';
}
