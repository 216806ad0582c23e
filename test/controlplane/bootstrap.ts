import { existsSync, readdirSync } from 'node:fs';
import { runKubectl } from './kubectl.ts';

/** Drop's CRDs, installed when the folder exists (`npm run gen` writes it). */
export const CRDS_DIR = new URL('../../crds/', import.meta.url).pathname;
export const DROP_NAMESPACE = 'drop-system';

/**
 * drop-system enforces the `restricted` Pod Security Standard, as in production, so a pull pod
 * that is not admissible fails here first. kube-controller-manager's ServiceAccount controller
 * creates the `default` ServiceAccounts that ServiceAccount admission insists on, but a moment after
 * the namespace: creating them here too means a pod can be created as soon as `up` returns.
 */
export function namespaceManifests(): Record<string, unknown> {
  const serviceAccount = (namespace: string) => ({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'default', namespace },
  });
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: DROP_NAMESPACE,
          labels: {
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'latest',
          },
        },
      },
      serviceAccount('default'),
      serviceAccount(DROP_NAMESPACE),
    ],
  };
}

/** Creates drop-system and the default ServiceAccounts; harmless when they exist. */
export async function applyNamespaces(kubeconfigPath: string): Promise<void> {
  await runKubectl(kubeconfigPath, ['apply', '-f', '-'], { input: JSON.stringify(namespaceManifests()) });
}

/** Applies crds/*.yaml and waits until the API server serves them; false when there is nothing to install. */
export async function installCrds(kubeconfigPath: string, dir = CRDS_DIR): Promise<boolean> {
  if (!existsSync(dir) || !readdirSync(dir).some((f) => /\.ya?ml$/.test(f))) return false;
  // Server-side apply: CRDs with long schemas overflow the last-applied annotation of client-side apply.
  await runKubectl(kubeconfigPath, ['apply', '--server-side', '--force-conflicts', '-f', dir]);
  await runKubectl(kubeconfigPath, ['wait', '--for=condition=Established', '--timeout=60s', '-f', dir]);
  return true;
}
