// The module that defines KubeConfig, not the package root: the root also re-exports the API
// clients, watch and exec, which reach every generated model (~550 KB bundled). From this module
// alone the bundle can drop them (scripts/build-functions.ts), which cold start needs.
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';

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
