// Go Drop's quickstart, typed as its users type it, against a cluster of its own: both charts pushed
// to a real OCI registry with `helm push` and installed from oci://, a CachedImage cached by Drop
// running with the chart's ServiceAccount, then both releases uninstalled and nothing of Drop left.
//
// The quickstart installs drop-crds without --namespace and uninstalls it with -n drop-system, so as
// written it only holds together where the current namespace is drop-system (`kubectl config
// set-context --current --namespace drop-system`); the README's version names the namespace on both.
// Both are run here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { CachedImage } from '../../lib/api/index.ts';
import { createKube, loadKubeConfig, paths } from '../../lib/kube/index.ts';
import { createLogger } from '../../lib/log.ts';
import { readSources } from '../../standalone/config-files.ts';
import { startStandalone } from '../../standalone/standalone.ts';
import { CONFIG_DIR } from '../config/manifests.ts';
import {
  type ChartCluster,
  existing,
  kubeconfigInNamespace,
  pushChart,
  releaseObjects,
  serviceAccountKubeconfig,
  startChartCluster,
} from './chart-cluster.ts';
import { CRDS_CHART, DROP_CHART, helmFor, IMAGE_VALUES, NAMESPACE } from './charts.ts';
import { waitFor } from './harness.ts';
import { isReady } from './objects.ts';

const VERSION = (parse(readFileSync(join(DROP_CHART, 'Chart.yaml'), 'utf8')) as { version: string }).version;

let cluster: ChartCluster;
let registry: string;
beforeAll(async () => {
  cluster = await startChartCluster('quickstart');
  registry = await pushChart(cluster, CRDS_CHART, VERSION);
  await pushChart(cluster, DROP_CHART, VERSION);
});
afterAll(async () => {
  await cluster?.stop();
});

const CACHED_IMAGE = `apiVersion: drop.corewire.io/v1alpha1
kind: CachedImage
metadata:
  name: nginx
spec:
  image: docker.io/library/nginx
  tag: 1.25-alpine
`;

// Deleting a CRD deletes its objects first (apiextensions' finalizer, inside kube-apiserver). On a
// CRD made moments earlier the finalizer may find its storage still initializing ("could not list
// instances: storage is (re)initializing") and retry with exponential backoff, which on a busy
// machine has taken more than 30 s: hence the long wait.
const CRD_DELETION = { timeoutMs: 180_000, message: 'the CRDs deleted' };

async function dropCrds(): Promise<string[]> {
  const out = await cluster.kubectl(['get', 'crd', '-o', 'name']);
  return out.split('\n').filter((line) => line.endsWith('.drop.corewire.io'));
}

describe('the quickstart from an OCI registry', () => {
  it('without image.repository, helm install stops with how to build and push the image, and creates nothing', async () => {
    const result = await cluster.helm.exec([
      'install',
      'drop',
      DROP_CHART,
      '-n',
      NAMESPACE,
      '--create-namespace',
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('image.repository is not set, and no Drop image is published');
    expect(result.stderr).toContain('podman push registry.example.com/drop:0.1.0');
    expect((await cluster.helm.run(['list', '-A', '-q'])).stdout.trim()).toBe('');
    expect(await dropCrds()).toEqual([]);
  });

  it('as written, where the current namespace is drop-system: Drop caches the image, and uninstalling leaves nothing', async () => {
    // A user's shell: their kubeconfig, the registry's CA trusted, the quickstart's $VERSION.
    const helm = helmFor(
      await kubeconfigInNamespace(cluster, NAMESPACE),
      { SSL_CERT_FILE: cluster.caFile },
      join(cluster.dir, 'user-helm'),
    );
    await helm.run(['install', 'drop-crds', `${registry}/drop-crds`, '--version', VERSION]);
    const install = await helm.run([
      'install',
      'drop',
      `${registry}/drop`,
      '--version',
      VERSION,
      '--namespace',
      NAMESPACE,
      '--create-namespace',
      '--set',
      'crds.install=false',
      ...IMAGE_VALUES,
    ]);
    expect(install.stdout).toContain('in standalone mode (mode: auto; the cluster does not serve');
    expect(await dropCrds()).toHaveLength(4);
    const installed = await releaseObjects(helm, 'drop');
    expect((await existing(cluster, installed)).length).toBe(installed.length);

    await cluster.kubectl(['apply', '-f', '-'], CACHED_IMAGE);
    // Pods on kwok's nodes do not run, so Drop runs beside the control plane, as the chart's
    // ServiceAccount (drop-standalone), with exactly the RBAC the chart installed.
    const drop = await startStandalone({
      kube: createKube(loadKubeConfig(await serviceAccountKubeconfig(cluster, 'drop-standalone')), 'drop'),
      namespace: NAMESPACE,
      sources: readSources(CONFIG_DIR, NAMESPACE),
      log: createLogger({ component: 'quickstart' }),
      port: 0,
      hostname: '127.0.0.1',
    });
    const admin = createKube(loadKubeConfig(cluster.kubeconfigPath), 'drop-test');
    try {
      await waitFor(async () => isReady(await admin.get<CachedImage>(paths.cachedImage('nginx'))), {
        timeoutMs: 90_000,
        message: 'CachedImage nginx cached',
      });
    } finally {
      await drop.stop();
    }
    const columns = await cluster.kubectl(['get', 'cachedimages']);
    expect(columns).toMatch(/^nginx\s+docker\.io\/library\/nginx\s+1\.25-alpine\s+\S+\s+1\/1\s/m);
    await cluster.kubectl(['get', 'pods', '-n', NAMESPACE, '-l', 'drop.corewire.io/cachedimage=nginx']);

    await helm.run(['uninstall', 'drop', '-n', NAMESPACE]);
    expect(await existing(cluster, installed)).toEqual([]);
    await helm.run(['uninstall', 'drop-crds', '-n', NAMESPACE]);
    await waitFor(async () => (await dropCrds()).length === 0, CRD_DELETION);
    expect((await helm.run(['list', '-A', '-q'])).stdout.trim()).toBe('');
    // What Drop itself made at run time: its pacing Leases. No pull pod is left (each is deleted as
    // soon as its outcome is in the status); the namespace is Helm's to keep.
    const left = (await cluster.kubectl(['get', 'pods,leases', '-n', NAMESPACE, '-o', 'name'])).split('\n');
    expect(left.filter((name) => name && !name.startsWith('lease.coordination.k8s.io/drop-pace-'))).toEqual(
      [],
    );
  });

  it('as the README writes it, in any current namespace: the same, with -n drop-system on drop-crds too', async () => {
    const helm = cluster.helm;
    await helm.run(['install', 'drop-crds', `${registry}/drop-crds`, '--version', VERSION, '-n', NAMESPACE]);
    await helm.run([
      'install',
      'drop',
      `${registry}/drop`,
      '--version',
      VERSION,
      '-n',
      NAMESPACE,
      '--create-namespace',
      '--set',
      'crds.install=false',
      ...IMAGE_VALUES,
    ]);
    await cluster.kubectl(['apply', '-f', '-'], CACHED_IMAGE);
    const installed = await releaseObjects(helm, 'drop');
    await helm.run(['uninstall', 'drop', '-n', NAMESPACE]);
    expect(await existing(cluster, installed)).toEqual([]);
    await helm.run(['uninstall', 'drop-crds', '-n', NAMESPACE]);
    await waitFor(async () => (await dropCrds()).length === 0, CRD_DELETION);
    expect((await helm.run(['list', '-A', '-q'])).stdout.trim()).toBe('');
  });
});
