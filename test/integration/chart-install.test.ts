// `helm install drop charts/drop -n drop-system --create-namespace` from a checkout, on a cluster of
// its own, in both shapes as mode: auto picks them: standalone where Knative's APIs are missing —
// where two replicas run Drop with the chart's ServiceAccount token (only the leader works; nothing
// is refused, and everything not granted is) — then knative once the Knative CRDs are there, with a
// ServiceMonitor. Each `helm uninstall` leaves nothing but the CRDs, which the chart keeps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CachedImage, CachedImageSet } from '../../lib/api/index.ts';
import { createKube, type Kube, loadKubeConfig, paths } from '../../lib/kube/index.ts';
import { createLogger } from '../../lib/log.ts';
import { readSources } from '../../standalone/config-files.ts';
import { type Standalone, startStandalone } from '../../standalone/standalone.ts';
import { CONFIG_DIR, FUNCTIONS, grantsOf, type Manifest, type Workload } from '../config/manifests.ts';
import {
  createNodes,
  installKnativeCrds,
  installServiceMonitorCrd,
  NODE_SET_LABEL,
} from '../controlplane/index.ts';
import { type AuditedKube, auditedKube } from './audited-kube.ts';
import {
  type ChartCluster,
  existing,
  releaseObjects,
  serviceAccountKubeconfig,
  startChartCluster,
} from './chart-cluster.ts';
import { DROP_CHART, IMAGE_VALUES, NAMESPACE } from './charts.ts';
import { probeUngranted } from './forbidden.ts';
import { uniqueName, waitFor } from './harness.ts';
import { cachedImageSet, isReady, pullPolicy } from './objects.ts';

let cluster: ChartCluster;
let admin: Kube;
beforeAll(async () => {
  cluster = await startChartCluster('install');
  admin = createKube(loadKubeConfig(cluster.kubeconfigPath), 'drop-test');
});
afterAll(async () => {
  await cluster?.stop();
});

const install = (args: readonly string[]) =>
  cluster.helm.run([
    'install',
    'drop',
    DROP_CHART,
    '-n',
    NAMESPACE,
    '--create-namespace',
    ...IMAGE_VALUES,
    ...args,
  ]);

/** helm uninstall, then what is left of the release: only its CRDs, kept by helm.sh/resource-policy. */
async function uninstallLeavesOnlyTheCrds(installed: readonly Manifest[]): Promise<void> {
  const uninstall = await cluster.helm.run(['uninstall', 'drop', '-n', NAMESPACE]);
  expect(uninstall.stdout).toContain('These resources were kept due to the resource policy');
  const crds = installed.filter((o) => o.kind === 'CustomResourceDefinition');
  expect(crds).toHaveLength(4);
  expect(await existing(cluster, installed)).toEqual(
    crds.map((crd) => `customresourcedefinition.apiextensions.k8s.io/${crd.metadata.name}`).sort(),
  );
  expect((await cluster.helm.run(['list', '-A', '-q'])).stdout.trim()).toBe('');
}

// The authorizer reads RBAC from an informer: bindings just written can take a moment.
async function authorized(serviceAccount: string, checks: readonly string[][]): Promise<void> {
  const as = `--as=system:serviceaccount:${NAMESPACE}:${serviceAccount}`;
  await waitFor(
    async () => {
      for (const check of checks)
        if ((await cluster.kubectlResult(['auth', 'can-i', ...check, as])).code !== 0) return false;
      return true;
    },
    { message: `RBAC of ${serviceAccount} in effect` },
  );
}

async function replica(
  kubeconfigPath: string,
  identity: string,
): Promise<{ drop: Standalone; audit: AuditedKube }> {
  const audit = auditedKube(kubeconfigPath, 'drop-standalone');
  const drop = await startStandalone({
    kube: audit.kube,
    namespace: NAMESPACE,
    sources: readSources(CONFIG_DIR, NAMESPACE),
    log: createLogger({ component: identity }),
    port: 0,
    hostname: '127.0.0.1',
    leaderElection: { identity },
  });
  return { drop, audit };
}

describe('helm install from a checkout', () => {
  it('standalone (auto, no Knative): two replicas with the chart’s ServiceAccount cache a set; one leads', async () => {
    const { stdout } = await install(['--set', 'replicaCount=2']);
    expect(stdout).toContain(
      'in standalone mode (mode: auto; the cluster does not serve serving.knative.dev/v1 and sources.knative.dev/v1)',
    );
    const installed = await releaseObjects(cluster.helm, 'drop');
    expect((await existing(cluster, installed)).length).toBe(installed.length);
    const deployment = installed.find((o) => o.kind === 'Deployment') as Workload;
    const env = deployment.spec.template.spec.containers[0]?.env ?? [];
    expect(env).toContainEqual({ name: 'DROP_LEADER_ELECTION', value: 'true' });

    // What the Deployment's two pods would do, beside the control plane: same ServiceAccount token,
    // same leader election.
    const kubeconfig = await serviceAccountKubeconfig(cluster, 'drop-standalone');
    await authorized('drop-standalone', [
      ['watch', 'cachedimages.drop.corewire.io'],
      ['create', 'pods', '-n', NAMESPACE],
    ]);
    const a = await replica(kubeconfig, 'replica-a');
    const b = await replica(kubeconfig, 'replica-b');
    const name = uniqueName('chart-set');
    try {
      const nodes = await createNodes(3, { kubeconfigPath: cluster.kubeconfigPath, prefix: name });
      expect(nodes).toHaveLength(3);
      await admin.create(
        paths.pullPolicies(),
        pullPolicy(name, { maxConcurrentNodes: 2, minDelayBetweenPulls: '1s' }),
      );
      await admin.create(
        paths.cachedImageSets(),
        cachedImageSet(name, {
          images: ['x', 'y'].map((image) => ({ image: `registry.example/chart/${image}`, tag: '1' })),
          policyRef: { name },
          nodeSelector: { [NODE_SET_LABEL]: name },
        }),
      );
      await waitFor(async () => isReady(await admin.get<CachedImageSet>(paths.cachedImageSet(name))), {
        timeoutMs: 120_000,
        message: `CachedImageSet ${name} ready`,
      });
    } finally {
      // The standby first: stopping the leader first would hand it the Lease.
      for (const r of a.drop.leading() ? [b, a] : [a, b]) await r.drop.stop();
    }
    const requests = [...a.audit.requests, ...b.audit.requests];
    expect(requests.filter((r) => r.status === 401 || r.status === 403)).toEqual([]);
    const workers = [a, b].filter((r) => r.audit.requests.some((q) => q.verb === 'watch'));
    expect(workers).toHaveLength(1);
    const standby = [a, b].find((r) => r !== workers[0]);
    expect(standby?.audit.requests.filter((r) => r.resource !== 'leases')).toEqual([]);
    // Everything else is refused: the chart grants no more than config/standalone/rbac.yaml.
    const probe = await probeUngranted(kubeconfig, grantsOf(installed, 'drop-standalone'));
    expect(probe.probed).toBeGreaterThan(50);
    expect(probe.notRefused).toEqual([]);

    const children = (await admin.list<CachedImage>(paths.cachedImages())).items;
    expect(children.length).toBe(2);
    await uninstallLeavesOnlyTheCrds(installed);
    // Kept with the CRDs: the objects of the user.
    expect(await admin.get(paths.cachedImageSet(name))).toBeDefined();
    expect((await admin.list<CachedImage>(paths.cachedImages())).items).toHaveLength(2);
  });

  it('knative (auto, once the cluster serves Knative): Services, sources, RBAC and a ServiceMonitor', async () => {
    await installKnativeCrds(cluster.kubeconfigPath);
    await installServiceMonitorCrd(cluster.kubeconfigPath);
    // The same release name: Helm takes back the CRDs the previous release kept.
    const { stdout } = await install(['--set', 'serviceMonitor.enabled=true']);
    expect(stdout).toContain(
      'in knative mode (mode: auto; the cluster serves serving.knative.dev/v1 and sources.knative.dev/v1)',
    );
    const installed = await releaseObjects(cluster.helm, 'drop');
    const names = (await existing(cluster, installed)).join('\n');
    expect(installed.length).toBe(names.split('\n').length);
    for (const fn of FUNCTIONS) {
      expect(names).toContain(`service.serving.knative.dev/drop-${fn}`);
      expect(names).toContain(`apiserversource.sources.knative.dev/drop-${fn}`);
      expect(names).toContain(`pingsource.sources.knative.dev/drop-${fn}-resync`);
      expect(names).toContain(`serviceaccount/drop-${fn}-source`);
    }
    expect(names).toContain('servicemonitor.monitoring.coreos.com/drop');
    expect(names).not.toContain('deployment.apps/drop');
    await uninstallLeavesOnlyTheCrds(installed);
  });
});
