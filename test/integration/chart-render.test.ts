// charts/drop and charts/drop-crds rendered by the pinned Helm: they pass helm lint, render the very
// objects kustomize renders from config/ (one source of truth), and their output passes a
// server-side dry run against the real API server with the real Knative and prometheus-operator
// CRDs. The values of Go Drop's chart do what they say. (chart-install.test.ts installs them.)
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../config/manifests.ts';
import { installKnativeCrds, installServiceMonitorCrd } from '../controlplane/index.ts';
import {
  byKey,
  CRDS_CHART,
  DROP_CHART,
  type Helm,
  helmFor,
  IMAGE_VALUES,
  keyOf,
  NAMESPACE,
  objectsOf,
  ROOT,
  removeScratch,
  renderChart,
  scratchDir,
  withoutChartMetadata,
} from './charts.ts';
import { kubeconfigPath, kubectl, kubectlResult } from './harness.ts';

let helm: Helm;
beforeAll(() => {
  helm = helmFor();
});
afterAll(removeScratch);

const KNATIVE = ['--set', 'mode=knative'];
const STANDALONE = ['--set', 'mode=standalone'];

describe('helm lint', () => {
  it.each([
    ['charts/drop-crds', CRDS_CHART, []],
    ['charts/drop', DROP_CHART, ['--namespace', NAMESPACE, ...IMAGE_VALUES]],
  ])('passes for %s, strictly', async (_name, chart, args) => {
    const result = await helm.exec(['lint', '--strict', chart, ...args]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.code).toBe(0);
  });
});

describe('one source of truth: the chart renders the objects of config/', () => {
  /** config/<dir> as kustomize builds it, with config/'s opt-in components added as a user would. */
  async function kustomized(dir: string, components: readonly string[] = []): Promise<Map<string, Manifest>> {
    const base = join(ROOT, 'config', dir);
    if (components.length === 0) return byKey(objectsOf(await kubectl(['kustomize', base])));
    // Kustomize takes only relative paths to other kustomizations.
    const root = scratchDir('kustomize');
    const from = (path: string) => relative(root, path);
    const kustomization = [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      `resources: [${from(base)}]`,
      `components: [${components.map((c) => from(join(ROOT, 'config', c))).join(', ')}]`,
    ];
    writeFileSync(join(root, 'kustomization.yaml'), `${kustomization.join('\n')}\n`);
    return byKey(objectsOf(await kubectl(['kustomize', root])));
  }

  // What only one side has, on purpose: the chart leaves the namespace to `--create-namespace`
  // (a release cannot own the namespace it is stored in) and adds the metrics Service and the
  // Grafana dashboards.
  const ONLY_IN_CONFIG = [`Namespace ${NAMESPACE}`];
  const ONLY_IN_CHART = [`ConfigMap ${NAMESPACE}/drop-dashboards`, `Service ${NAMESPACE}/drop-metrics`];

  const TAINT = ['--set', 'startupTaint.enabled=true'];
  it.each([
    ['knative', '', [], KNATIVE],
    ['standalone', 'standalone', [], STANDALONE],
    // The opt-in role: the component config/startup-taint and the value startupTaint.enabled.
    ['knative with the startup-taint role', '', ['startup-taint'], [...KNATIVE, ...TAINT]],
    ['standalone with the startup-taint role', 'standalone', ['startup-taint'], [...STANDALONE, ...TAINT]],
  ])(
    '%s: every object equal, but for the labels and keep annotation Helm adds',
    async (_mode, dir, components, args) => {
      const config = await kustomized(dir, components);
      if (components.length > 0) expect(config.has('ClusterRole drop-startup-taint')).toBe(true);
      const chart = byKey(await renderChart(helm, [...args, ...IMAGE_VALUES]));
      expect([...config.keys()].filter((k) => !chart.has(k))).toEqual(ONLY_IN_CONFIG);
      expect([...chart.keys()].filter((k) => !config.has(k))).toEqual(ONLY_IN_CHART);
      expect(config.size).toBeGreaterThan(10);
      for (const [key, object] of config) {
        if (ONLY_IN_CONFIG.includes(key)) continue;
        expect(withoutChartMetadata(chart.get(key) as Manifest), key).toEqual(object);
      }
    },
  );

  it('labels every object it renders as Helm’s, and keeps the CRDs on uninstall', async () => {
    const objects = await renderChart(helm, [...KNATIVE, ...IMAGE_VALUES]);
    for (const object of objects)
      expect(object.metadata.labels, keyOf(object)).toMatchObject({
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/instance': 'drop',
        'helm.sh/chart': 'drop-0.1.0',
      });
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
    expect(crds).toHaveLength(4);
    for (const crd of crds) expect(crd.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
  });
});

describe('charts/drop-crds', () => {
  it('renders the four CRDs of crds/ and nothing else; keep=true keeps them on uninstall', async () => {
    const render = async (args: string[]) =>
      objectsOf((await helm.run(['template', 'drop-crds', CRDS_CHART, ...args])).stdout);
    const crds = await render([]);
    expect(crds.map((c) => `${c.kind} ${c.metadata.name}`).sort()).toEqual([
      'CustomResourceDefinition cachedimages.drop.corewire.io',
      'CustomResourceDefinition cachedimagesets.drop.corewire.io',
      'CustomResourceDefinition discoverypolicies.drop.corewire.io',
      'CustomResourceDefinition pullpolicies.drop.corewire.io',
    ]);
    for (const crd of crds) expect(crd.metadata.annotations).toBeUndefined();
    for (const crd of await render(['--set', 'keep=true']))
      expect(crd.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
    expect(await render(['--set', 'install=false'])).toEqual([]);
    // The same CRDs as charts/drop's, which are those of crds/ (compared with config/ above).
    const fromDrop = (await renderChart(helm, [...KNATIVE, ...IMAGE_VALUES])).filter(
      (o) => o.kind === 'CustomResourceDefinition',
    );
    expect(crds.map((c) => withoutChartMetadata(c).spec)).toEqual(
      fromDrop.map((c) => withoutChartMetadata(c).spec),
    );
  });
});

describe('mode', () => {
  const kindsOf = (objects: readonly Manifest[]) => new Set(objects.map((o) => o.kind));

  it('auto renders Knative only where the cluster serves both Knative APIs', async () => {
    const api = (...versions: string[]) => versions.flatMap((v) => ['--api-versions', v]);
    const knative = await renderChart(helm, [
      ...IMAGE_VALUES,
      ...api('serving.knative.dev/v1', 'sources.knative.dev/v1'),
    ]);
    expect(kindsOf(knative)).toContain('ApiServerSource');
    expect(kindsOf(knative)).not.toContain('Deployment');
    for (const versions of [[], ['serving.knative.dev/v1'], ['sources.knative.dev/v1']]) {
      const standalone = await renderChart(helm, [...IMAGE_VALUES, ...api(...versions)]);
      expect(kindsOf(standalone), versions.join()).toContain('Deployment');
      expect(
        standalone.some((o) => o.apiVersion.includes('knative')),
        versions.join(),
      ).toBe(false);
    }
  });

  it('refuses a mode it does not know, naming the three', async () => {
    const result = await helm.exec([
      'template',
      'drop',
      DROP_CHART,
      '-n',
      NAMESPACE,
      ...IMAGE_VALUES,
      '--set',
      'mode=serverless',
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/mode.*(auto|knative|standalone)/);
  });
});

describe('values that cannot work stop helm before anything is created', () => {
  it('without image.repository: how to build and push the image', async () => {
    const result = await helm.exec(['template', 'drop', DROP_CHART, '-n', NAMESPACE]);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('image.repository is not set, and no Drop image is published');
    expect(result.stderr).toContain('podman build -f Containerfile -t registry.example.com/drop:0.1.0 .');
    expect(result.stderr).toContain('podman push registry.example.com/drop:0.1.0');
  });

  it('in another namespace than drop-system', async () => {
    const result = await helm.exec(['template', 'drop', DROP_CHART, '-n', 'default', ...IMAGE_VALUES]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Drop runs in the namespace drop-system');
  });

  it('a ServiceMonitor without the metrics Service it scrapes', async () => {
    const result = await helm.exec([
      'template',
      'drop',
      DROP_CHART,
      '-n',
      NAMESPACE,
      ...IMAGE_VALUES,
      '--set',
      'metrics.enabled=false',
      '--set',
      'serviceMonitor.enabled=true',
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('serviceMonitor.enabled needs metrics.enabled');
  });
});

describe('server-side dry run against the real CRDs', () => {
  beforeAll(async () => {
    await installKnativeCrds(kubeconfigPath());
    await installServiceMonitorCrd(kubeconfigPath());
    await kubectl(['apply', '-k', join(ROOT, 'config/namespace')]);
  });

  const PROBLEM = /error|invalid|unknown field|would violate PodSecurity|deprecated/i;

  async function dryRun(text: string) {
    return kubectlResult(['apply', '--dry-run=server', '-f', '-'], { input: text });
  }

  async function rendered(args: readonly string[]): Promise<string> {
    return (await helm.run(['template', 'drop', DROP_CHART, '-n', NAMESPACE, ...IMAGE_VALUES, ...args]))
      .stdout;
  }

  it.each([
    ['knative', KNATIVE],
    ['standalone', STANDALONE],
  ])('%s: every object is accepted, the ServiceMonitor included', async (_mode, args) => {
    const text = await rendered([...args, '--set', 'serviceMonitor.enabled=true', '--set', 'replicaCount=2']);
    const result = await dryRun(text);
    expect(result.stderr).not.toMatch(PROBLEM);
    expect(result.code).toBe(0);
    const accepted = result.stdout.split('\n').filter((line) => line.endsWith('(server dry run)'));
    expect(accepted).toHaveLength(objectsOf(text).length);
    expect(accepted.some((line) => line.startsWith('servicemonitor.monitoring.coreos.com/drop '))).toBe(true);
  });

  it('really checks the ServiceMonitor: a misspelt field and a malformed interval are refused', async () => {
    const text = await rendered([...STANDALONE, '--set', 'serviceMonitor.enabled=true']);
    expect(text).toContain('    - port: http-metrics\n');
    const misspelt = await dryRun(text.replace('    - port: http-metrics\n', '    - prot: http-metrics\n'));
    expect(misspelt.code).not.toBe(0);
    expect(misspelt.stderr).toMatch(/unknown field "spec\.endpoints\[0\]\.prot"/);
    const malformed = await dryRun(
      await rendered([
        ...STANDALONE,
        '--set',
        'serviceMonitor.enabled=true',
        '--set',
        'serviceMonitor.interval=soon',
      ]),
    );
    expect(malformed.code).not.toBe(0);
    expect(malformed.stderr).toMatch(/spec\.endpoints\[0\]\.interval.*should match/);
  });
});
