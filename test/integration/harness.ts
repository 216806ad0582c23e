// What integration suites import: their cluster's kubeconfig (from global-setup.ts), clients,
// and small helpers for unique names and waiting.
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { type Kube, type KubeObject, runWatch } from '../../lib/kube/index.ts';
import { execKubectl, type KubectlOptions, type KubectlResult, runKubectl } from '../controlplane/index.ts';
import { claimOneOf } from './claim.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin kubeconfig paths of the control planes, one per integration worker (global-setup.ts). */
    kubeconfigs: string[];
  }
}

let claimed: string | undefined;

/**
 * Claims a cluster no other running file holds, for this file's process (claim.ts); the project's
 * setup file (claim-cluster.ts) calls it before each file's own code runs.
 */
export async function claimCluster(): Promise<string> {
  const paths = inject('kubeconfigs');
  claimed ??= paths.length === 1 ? paths[0] : (await claimOneOf(paths)).path;
  return claimed as string;
}

/** The kubeconfig path of the cluster this file has to itself. */
export function kubeconfigPath(): string {
  if (claimed) return claimed;
  throw new Error(
    'no test cluster claimed: test/integration/claim-cluster.ts (setupFiles in vitest.config.ts) claims one before each integration file',
  );
}

/** A @kubernetes/client-node KubeConfig for the cluster this file has to itself. */
export function loadKubeConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath());
  return config;
}

/** A DNS-1123 name that no other test (or earlier run against the same cluster) uses. */
export function uniqueName(prefix: string): string {
  const suffix = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  return `${prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63 - suffix.length - 1)}-${suffix}`;
}

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** Says what was awaited, in the timeout error. */
  readonly message?: string;
}

/**
 * Calls fn until it returns something other than undefined/false/null and returns that; a throw
 * counts as "not yet". On timeout, rejects with the message and fn's last error or value.
 */
export async function waitFor<T>(
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out: ${options.message ?? 'waitFor'} (last: ${detail})`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
}

/** Runs the pinned kubectl against this file's cluster and returns stdout; rejects on a non-zero exit. */
export async function kubectl(args: readonly string[], options: KubectlOptions = {}): Promise<string> {
  return (await runKubectl(kubeconfigPath(), args, options)).stdout;
}

/** `kubectl … -o json`, parsed. */
export async function kubectlJson<T>(args: readonly string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
}

/** Runs kubectl and returns its exit code and output, for commands whose "no" is an exit code. */
export function kubectlResult(args: readonly string[], options: KubectlOptions = {}): Promise<KubectlResult> {
  return execKubectl(kubeconfigPath(), args, options);
}

/**
 * Runs Drop's own watch (lib/kube/watch.ts) on a namespace's ConfigMaps through `kube` until
 * `signal` aborts, and returns the names it has seen so far (filled as events come).
 */
export function watchConfigMapNames(
  kube: Kube,
  namespace: string,
  signal: AbortSignal,
  options: { readonly idleMs?: number } = {},
): Set<string> {
  const seen = new Set<string>();
  void runWatch(
    kube,
    kube.transport,
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      plural: 'configmaps',
      path: `/api/v1/namespaces/${namespace}/configmaps`,
    },
    async (_, object: KubeObject) => void seen.add(object.metadata.name),
    signal,
    () => undefined,
    options,
  );
  return seen;
}
