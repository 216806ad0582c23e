// A cluster of its own for the suites that install the charts: a fresh control plane without Drop's
// CRDs (as a user's cluster is before `helm install`), a real OCI registry (the distribution
// registry the discovery tests use) over TLS, and the pinned Helm trusting its CA. Own, because
// installing the charts takes over Drop's CRDs, which the other suites' clusters rely on, and
// `mode: auto` must be tried on a cluster without Knative's APIs.
//
// The control plane has no kube-controller-manager: nothing is garbage-collected and a Deployment
// starts no pod. Checks look at what exists (helm uninstall deletes each object itself) and Drop runs
// beside the control plane with the chart's ServiceAccount token.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Manifest } from '../config/manifests.ts';
import {
  type ControlPlane,
  execKubectl,
  type KubectlResult,
  runKubectl,
  startControlPlane,
} from '../controlplane/index.ts';
import { createPki } from '../discovery/pki.ts';
import { ensureDiscoveryServers } from '../discovery/process.ts';
import { startRegistry, type TestRegistry } from '../discovery/registry.ts';
import { type Helm, helmFor, NAMESPACE, objectsOf } from './charts.ts';

export interface ChartCluster {
  readonly dir: string;
  readonly plane: ControlPlane;
  readonly kubeconfigPath: string;
  readonly registry: TestRegistry;
  /** The CA that signed the registry's certificate. */
  readonly caFile: string;
  /** Helm as a user runs it: this cluster, and the registry's CA trusted (SSL_CERT_FILE). */
  readonly helm: Helm;
  kubectl(args: readonly string[], input?: string): Promise<string>;
  kubectlResult(args: readonly string[], input?: string): Promise<KubectlResult>;
  stop(): Promise<void>;
}

export async function startChartCluster(name: string): Promise<ChartCluster> {
  ensureDiscoveryServers();
  const dir = mkdtempSync(join(tmpdir(), `drop-${name}-`));
  const pki = createPki(dir);
  const registry = await startRegistry({
    dir,
    name: 'charts',
    storageDir: join(dir, 'registry'),
    auth: { kind: 'none' },
    tls: pki,
  });
  let plane: ControlPlane;
  try {
    plane = await startControlPlane({ stateDir: join(dir, 'plane'), crdsDir: false, log: () => {} });
  } catch (error) {
    await registry.server.stop();
    throw error;
  }
  const kubeconfigPath = plane.kubeconfigPath;
  const caFile = join(pki.dir, 'ca.crt');
  return {
    dir,
    plane,
    kubeconfigPath,
    registry,
    caFile,
    helm: helmFor(kubeconfigPath, { SSL_CERT_FILE: caFile }, join(dir, 'helm')),
    kubectl: async (args, input) =>
      (await runKubectl(kubeconfigPath, args, input === undefined ? {} : { input })).stdout,
    kubectlResult: (args, input) => execKubectl(kubeconfigPath, args, input === undefined ? {} : { input }),
    async stop() {
      await plane.stop();
      await registry.server.stop();
      if (!process.env.DROP_KEEP_TEST_CLUSTER) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `helm package` a copy of the chart as `version`, then `helm push` it to oci://<registry>/charts. */
export async function pushChart(cluster: ChartCluster, chartDir: string, version: string): Promise<string> {
  const out = mkdtempSync(join(cluster.dir, 'package-'));
  const packaged = await cluster.helm.run(['package', chartDir, '--version', version, '--destination', out]);
  const file = packaged.stdout.match(/saved it to: (\S+\.tgz)/)?.[1];
  if (!file) throw new Error(`helm package said: ${packaged.stdout}`);
  await cluster.helm.run(['push', file, `oci://${cluster.registry.host}/charts`]);
  return `oci://${cluster.registry.host}/charts`;
}

/** A copy of a chart to change (an older CRD, more dashboards) without touching charts/. */
export function chartCopy(cluster: ChartCluster, chartDir: string): string {
  const copy = join(mkdtempSync(join(cluster.dir, 'chart-')), 'chart');
  cpSync(chartDir, copy, { recursive: true });
  return copy;
}

/** The objects of a release, as Helm recorded them. */
export async function releaseObjects(
  helm: Helm,
  release: string,
  namespace = NAMESPACE,
): Promise<Manifest[]> {
  return objectsOf((await helm.run(['get', 'manifest', release, '-n', namespace])).stdout);
}

/** Which of the objects exist in the cluster now, as `kind/name` (kubectl's resource names). */
export async function existing(cluster: ChartCluster, objects: readonly Manifest[]): Promise<string[]> {
  if (objects.length === 0) return [];
  const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });
  const out = await cluster.kubectl(['get', '-f', '-', '--ignore-not-found', '-o', 'name'], list);
  return out.split('\n').filter(Boolean).sort();
}

/** A kubeconfig whose user is a ServiceAccount in drop-system, with a token from TokenRequest. */
export async function serviceAccountKubeconfig(
  cluster: ChartCluster,
  serviceAccount: string,
): Promise<string> {
  const token = (
    await cluster.kubectl(['create', 'token', serviceAccount, '-n', NAMESPACE, '--duration=1h'])
  ).trim();
  const admin = JSON.parse(await cluster.kubectl(['config', 'view', '--raw', '--minify', '-o', 'json'])) as {
    clusters: { name: string; cluster: Record<string, unknown> }[];
  };
  const [server] = admin.clusters;
  if (!server) throw new Error('the admin kubeconfig has no cluster');
  const path = join(cluster.dir, `${serviceAccount}.kubeconfig`);
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [server],
      users: [{ name: serviceAccount, user: { token } }],
      contexts: [
        {
          name: serviceAccount,
          context: { cluster: server.name, user: serviceAccount, namespace: NAMESPACE },
        },
      ],
      'current-context': serviceAccount,
    }),
    { mode: 0o600 },
  );
  return path;
}

/** A copy of the admin kubeconfig whose current namespace is `namespace` (kubectl config set-context). */
export async function kubeconfigInNamespace(cluster: ChartCluster, namespace: string): Promise<string> {
  const path = join(cluster.dir, `admin-${namespace}.kubeconfig`);
  cpSync(cluster.kubeconfigPath, path);
  await runKubectl(path, ['config', 'set-context', '--current', `--namespace=${namespace}`]);
  return path;
}

/**
 * Drop's four CRDs (and with them every Drop object), gone: a cluster as before any install. The
 * wait is long: see CRD_DELETION in chart-quickstart.test.ts.
 */
export async function removeDropCrds(cluster: ChartCluster): Promise<void> {
  const args = [
    'delete',
    'crd',
    '-l',
    'app.kubernetes.io/part-of=drop',
    '--ignore-not-found',
    '--timeout=170s',
  ];
  await runKubectl(cluster.kubeconfigPath, args, { timeoutMs: 180_000 });
}
