// The deploy manifests against a real API server with Knative's own CRDs (from the pinned Go
// modules): every object of config/ and config/standalone/ passes a server-side dry run, which
// really checks (a misspelt field is refused), and the pods they describe pass restricted Pod
// Security as real pods. The RBAC is proven with real tokens in rbac.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  CONFIG_DIR,
  FUNCTIONS,
  type FunctionName,
  functionManifests,
  NAMESPACE,
  ofKind,
  readManifests,
  type Workload,
} from '../config/manifests.ts';
import { installKnativeCrds } from '../controlplane/index.ts';
import { kubeconfigPath, kubectl, kubectlResult, uniqueName } from './harness.ts';
import { functionKubeconfig, standaloneKubeconfig } from './service-accounts.ts';

const CRDS_DIR = new URL('../../crds/', import.meta.url).pathname;

// Nothing a dry run of Drop's manifests may say on stderr. (kubectl may note that an object applied
// server-side, like the CRDs by installCrds, lacks the last-applied annotation: that is harmless.)
const PROBLEM = /error|invalid|unknown field|would violate PodSecurity|deprecated/i;

async function dryRun(args: readonly string[], input?: string) {
  return kubectlResult(['apply', '--dry-run=server', ...args], input === undefined ? {} : { input });
}

/** What `kubectl kustomize` renders for a folder under config/. */
async function rendered(dir: string): Promise<string> {
  return kubectl(['kustomize', `${CONFIG_DIR}${dir}`]);
}

/** The pod a Knative Revision or a Deployment would start from a template, as a plain Pod. */
function podOf(workload: Workload): Record<string, unknown> {
  const { containerConcurrency: _c, timeoutSeconds: _t, ...spec } = workload.spec.template.spec;
  // Knative fills in the probe port (the container port); a plain Pod must name it.
  const withPort = (probe: { httpGet?: { path?: string; port?: unknown } } | undefined) =>
    probe?.httpGet ? { ...probe, httpGet: { ...probe.httpGet, port: probe.httpGet.port ?? 8080 } } : probe;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: uniqueName(workload.metadata.name), namespace: NAMESPACE },
    spec: {
      ...spec,
      containers: spec.containers.map((c) => ({
        ...c,
        image: 'registry.example.com/drop:0.1.0',
        readinessProbe: withPort(c.readinessProbe),
        livenessProbe: withPort(c.livenessProbe),
      })),
    },
  };
}

/** The Service (or the standalone Deployment), once its ServiceAccount exists in the cluster. */
async function workloadWithServiceAccount(name: FunctionName | 'standalone'): Promise<Workload> {
  if (name === 'standalone') await standaloneKubeconfig();
  else await functionKubeconfig(name);
  const [workload] =
    name === 'standalone'
      ? ofKind(readManifests('standalone/deployment.yaml'), 'Deployment')
      : ofKind(functionManifests(name, 'service.yaml'), 'Service');
  if (!workload) throw new Error(`config/ has no workload for ${name}`);
  return workload;
}

describe('config/ on a real API server with the Knative CRDs', () => {
  beforeAll(async () => {
    await installKnativeCrds(kubeconfigPath());
    // Drop's CRDs as the cluster has them (a dry run of the CRDs themselves changes nothing).
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', CRDS_DIR]);
    // A namespaced object in a namespace that does not exist fails even a dry run, so the
    // namespace goes in for real (as the first object of `kubectl apply -k` would).
    await kubectl(['apply', '-k', `${CONFIG_DIR}namespace`]);
  });

  it('kubectl apply --dry-run=server -k config/ accepts every object', async () => {
    const result = await dryRun(['-k', CONFIG_DIR]);
    expect(result.stderr).not.toMatch(PROBLEM);
    expect(result.code).toBe(0);
    const accepted = result.stdout.split('\n').filter((line) => line.endsWith('(server dry run)'));
    for (const fn of FUNCTIONS) {
      for (const object of [
        `service.serving.knative.dev/drop-${fn}`,
        `apiserversource.sources.knative.dev/drop-${fn}`,
        `pingsource.sources.knative.dev/drop-${fn}-resync`,
        `serviceaccount/drop-${fn}`,
        `serviceaccount/drop-${fn}-source`,
        `clusterrole.rbac.authorization.k8s.io/drop-${fn}`,
      ])
        expect(
          accepted.some((line) => line.startsWith(`${object} `)),
          object,
        ).toBe(true);
    }
    const objects = parseAllDocuments(await rendered('')).length;
    expect(accepted).toHaveLength(objects);
  });

  it('kubectl apply --dry-run=server -k config/standalone/ accepts every object', async () => {
    const result = await dryRun(['-k', `${CONFIG_DIR}standalone`]);
    expect(result.stderr).not.toMatch(PROBLEM);
    expect(result.code).toBe(0);
    // Other suites may have created the ServiceAccount and its RBAC for real: then it is unchanged.
    expect(result.stdout).toMatch(
      /^deployment\.apps\/drop (created|configured|unchanged) \(server dry run\)$/m,
    );
    expect(result.stdout).toMatch(
      /^clusterrole\.rbac\.authorization\.k8s\.io\/drop-standalone \w+ \(server dry run\)$/m,
    );
    const objects = parseAllDocuments(await rendered('standalone')).length;
    expect(result.stdout.split('\n').filter((line) => line.endsWith('(server dry run)'))).toHaveLength(
      objects,
    );
  });

  it('the dry run really checks: a misspelt Knative Service field is refused', async () => {
    const text = await rendered('');
    expect(text).toContain('containerConcurrency:');
    const result = await dryRun(
      ['-f', '-'],
      text.replaceAll('containerConcurrency:', 'containerConcurency:'),
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/unknown field "spec\.template\.spec\.containerConcurency"/);
  });

  it('the dry run really checks: a Deployment whose pods would break restricted Pod Security is flagged', async () => {
    const text = await rendered('standalone');
    const insecure = text.replace(/^ {6}securityContext:\n(?: {8}.*\n)+/m, '');
    expect(insecure).not.toBe(text);
    const result = await dryRun(['-f', '-'], insecure);
    expect(result.stderr).toMatch(/would violate PodSecurity "restricted:latest"/);
  });

  it.each([...FUNCTIONS, 'standalone'] as const)(
    'the pod of %s is admitted to drop-system by restricted Pod Security',
    async (name) => {
      // The pod names its ServiceAccount, which ServiceAccount admission wants to exist.
      const workload = await workloadWithServiceAccount(name);
      const pod = JSON.stringify(podOf(workload));
      const admitted = await kubectlResult(['create', '--dry-run=server', '-f', '-'], { input: pod });
      expect(admitted.stderr).toBe('');
      expect(admitted.code).toBe(0);
      // And the check is real: the same pod without its container securityContext is refused.
      const bare = JSON.parse(pod) as {
        spec: { securityContext?: unknown; containers: { securityContext?: unknown }[] };
      };
      delete bare.spec.securityContext;
      for (const c of bare.spec.containers) delete c.securityContext;
      const refused = await kubectlResult(['create', '--dry-run=server', '-f', '-'], {
        input: JSON.stringify(bare),
      });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/violates PodSecurity "restricted:latest"/);
    },
  );

  it('the Knative CRDs are the pinned ones, without a conversion webhook', async () => {
    const crds = JSON.parse(
      await kubectl([
        'get',
        'crd',
        'services.serving.knative.dev',
        'apiserversources.sources.knative.dev',
        'pingsources.sources.knative.dev',
        '-o',
        'json',
      ]),
    ) as { items: { spec: { versions: { name: string }[]; conversion?: { strategy: string } } }[] };
    for (const crd of crds.items) {
      expect(crd.spec.versions.map((v) => v.name)).toEqual(['v1']);
      expect(crd.spec.conversion?.strategy ?? 'None').toBe('None');
    }
  });
});
