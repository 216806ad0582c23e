// charts/drop's values, rendered by the pinned Helm: a Go Drop values file works and each of its
// keys does what it says here; the dashboards ConfigMap holds whatever dashboards/*.json the chart
// has, none included; NOTES.txt says which mode was chosen and which values were ignored.
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Container, Manifest, Workload } from '../config/manifests.ts';
import {
  DROP_CHART,
  type Helm,
  helmFor,
  IMAGE_VALUES,
  NAMESPACE,
  removeScratch,
  renderChart,
  scratchDir,
} from './charts.ts';

let helm: Helm;
beforeAll(() => {
  helm = helmFor();
});
afterAll(removeScratch);

// Go Drop's own values.yaml with every key changed from its default, plus what it has that means
// nothing here (certManager, ui, metrics.secureServing).
const GO_DROP_VALUES = {
  replicaCount: 2,
  image: { repository: 'registry.example.com/team/drop', pullPolicy: 'Always', tag: '0.1.0-rc1' },
  serviceAccount: { create: true, annotations: { 'iam.example.com/role': 'drop' }, name: '' },
  resources: { limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: '10m', memory: '64Mi' } },
  leaderElection: { enabled: true },
  metrics: { enabled: true, secureServing: true },
  serviceMonitor: {
    enabled: true,
    interval: '15s',
    scrapeTimeout: '10s',
    additionalLabels: { release: 'prom' },
  },
  certManager: { enabled: false, issuerRef: { name: 'selfsigned-issuer', kind: 'ClusterIssuer' } },
  crds: { install: false },
  nodeSelector: { 'node-role.kubernetes.io/control-plane': '' },
  tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] },
        ],
      },
    },
  },
  ui: { enabled: false, port: 8888 },
};

function valuesFile(values: unknown): string {
  const file = join(scratchDir('values'), 'values.yaml');
  writeFileSync(file, stringify(values));
  return file;
}

const workloads = (objects: readonly Manifest[]) =>
  objects.filter(
    (o) => o.kind === 'Deployment' || (o.kind === 'Service' && o.apiVersion.includes('knative')),
  ) as Workload[];
const onlyContainer = (w: Workload) => w.spec.template.spec.containers[0] as Container;
const env = (c: Container) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));

describe('a Go Drop values file', () => {
  it('standalone: replicas with leader election, image, resources, scheduling, ServiceAccount annotations, no CRDs', async () => {
    const objects = await renderChart(helm, ['-f', valuesFile(GO_DROP_VALUES), '--set', 'mode=standalone']);
    const [deployment, ...others] = workloads(objects);
    expect(others).toEqual([]);
    expect(deployment?.spec.replicas).toBe(2);
    const container = onlyContainer(deployment as Workload);
    expect(container.image).toBe('registry.example.com/team/drop:0.1.0-rc1');
    expect((container as { imagePullPolicy?: string }).imagePullPolicy).toBe('Always');
    expect(env(container)).toMatchObject({ FUNCTION: 'standalone', DROP_LEADER_ELECTION: 'true' });
    expect(container.resources).toEqual(GO_DROP_VALUES.resources);
    const pod = deployment?.spec.template.spec;
    expect(pod?.nodeSelector).toEqual(GO_DROP_VALUES.nodeSelector);
    expect(pod?.tolerations).toEqual(GO_DROP_VALUES.tolerations);
    expect(pod?.affinity).toEqual(GO_DROP_VALUES.affinity);
    const accounts = objects.filter((o) => o.kind === 'ServiceAccount');
    expect(accounts.map((a) => a.metadata.name)).toEqual(['drop-standalone']);
    expect(accounts[0]?.metadata.annotations).toEqual(GO_DROP_VALUES.serviceAccount.annotations);
    expect(objects.filter((o) => o.kind === 'CustomResourceDefinition')).toEqual([]);
    const monitor = objects.find((o) => o.kind === 'ServiceMonitor') as Manifest & {
      spec: { endpoints: Record<string, unknown>[] };
    };
    expect(monitor.metadata.labels?.release).toBe('prom');
    expect(monitor.spec.endpoints[0]).toMatchObject({
      port: 'http-metrics',
      interval: '15s',
      scrapeTimeout: '10s',
    });
  });

  it('knative: every function gets the image, resources, scheduling; every ServiceAccount the annotations', async () => {
    const objects = await renderChart(helm, ['-f', valuesFile(GO_DROP_VALUES), '--set', 'mode=knative']);
    const services = workloads(objects);
    expect(services.map((s) => s.metadata.name).sort()).toEqual([
      'drop-discover',
      'drop-pace',
      'drop-reconcile-image',
      'drop-reconcile-set',
    ]);
    for (const service of services) {
      const container = onlyContainer(service);
      expect(container.image, service.metadata.name).toBe('registry.example.com/team/drop:0.1.0-rc1');
      expect(container.resources, service.metadata.name).toEqual(GO_DROP_VALUES.resources);
      expect(env(container).DROP_LEADER_ELECTION).toBeUndefined();
      expect(service.spec.template.spec.nodeSelector).toEqual(GO_DROP_VALUES.nodeSelector);
    }
    const accounts = objects.filter((o) => o.kind === 'ServiceAccount');
    expect(accounts).toHaveLength(8);
    for (const account of accounts)
      expect(account.metadata.annotations, account.metadata.name).toEqual(
        GO_DROP_VALUES.serviceAccount.annotations,
      );
  });

  it('says in NOTES.txt what it chose and which of its values mean nothing here', async () => {
    const install = (args: string[]) =>
      helm.run([
        'install',
        'drop',
        DROP_CHART,
        '-n',
        NAMESPACE,
        '--dry-run=client',
        '-f',
        valuesFile(GO_DROP_VALUES),
        ...args,
      ]);
    const standalone = (await install([])).stdout;
    expect(standalone).toContain(
      'Drop 0.1.0 is installed in drop-system in standalone mode (mode: auto; the cluster does not serve serving.knative.dev/v1 and sources.knative.dev/v1).',
    );
    expect(standalone).toContain('the holder of the Lease drop-standalone runs Drop, the others stand by');
    expect(standalone).toContain(
      'CRDs: not part of this release (crds.install=false; the drop-crds chart installs them).',
    );
    expect(standalone).toContain('Ignored here: certManager, ui, metrics.secureServing.');
    const knative = (await install(['--set', 'mode=knative'])).stdout;
    expect(knative).toContain('Drop 0.1.0 is installed in drop-system in knative mode.');
    expect(knative).toContain('replicaCount (Knative scales the functions)');
  });
});

describe('what a value turns off or renames', () => {
  it('one replica, or leaderElection.enabled=false, runs without leader election', async () => {
    for (const args of [[], ['--set', 'replicaCount=3', '--set', 'leaderElection.enabled=false']]) {
      const [deployment] = workloads(
        await renderChart(helm, [...IMAGE_VALUES, '--set', 'mode=standalone', ...args]),
      );
      expect(env(onlyContainer(deployment as Workload)).DROP_LEADER_ELECTION, args.join(' ')).toBeUndefined();
    }
  });

  it('serviceAccount.create=false creates no ServiceAccount but binds the roles all the same', async () => {
    for (const mode of ['knative', 'standalone']) {
      const objects = await renderChart(helm, [
        ...IMAGE_VALUES,
        '--set',
        `mode=${mode}`,
        '--set',
        'serviceAccount.create=false',
      ]);
      expect(
        objects.filter((o) => o.kind === 'ServiceAccount'),
        mode,
      ).toEqual([]);
      expect(objects.filter((o) => o.kind.endsWith('Binding')).length, mode).toBeGreaterThanOrEqual(2);
    }
  });

  it('serviceAccount.name renames the runner’s ServiceAccount everywhere it is named, and only it', async () => {
    const objects = await renderChart(helm, [
      ...IMAGE_VALUES,
      '--set',
      'mode=standalone',
      '--set',
      'serviceAccount.name=drop-runner',
    ]);
    const text = JSON.stringify(objects);
    expect(objects.find((o) => o.kind === 'ServiceAccount')?.metadata.name).toBe('drop-runner');
    expect(workloads(objects)[0]?.spec.template.spec.serviceAccountName).toBe('drop-runner');
    for (const binding of objects.filter((o) => o.kind.endsWith('Binding')))
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'drop-runner', namespace: NAMESPACE },
      ]);
    // The roles keep their names.
    expect(objects.filter((o) => o.kind.endsWith('Role')).map((o) => o.metadata.name)).toEqual([
      'drop-standalone',
      'drop-standalone',
      'drop-standalone-events',
    ]);
    expect(text).not.toMatch(/"name":"drop-standalone","namespace":"drop-system"\}\]/);
  });

  it('startupTaint.enabled=true adds the opt-in role that patches nodes, in either mode; off, nothing may', async () => {
    const startupTaint = (objects: readonly Manifest[]) =>
      objects.filter((o) => o.metadata.name === 'drop-startup-taint');
    const patchesNodes = (objects: readonly Manifest[]) =>
      objects.filter((o) =>
        ((o as { rules?: { resources?: string[]; verbs?: string[] }[] }).rules ?? []).some(
          (r) => r.resources?.includes('nodes') && r.verbs?.includes('patch'),
        ),
      );
    for (const mode of ['knative', 'standalone']) {
      const off = await renderChart(helm, [...IMAGE_VALUES, '--set', `mode=${mode}`]);
      expect(startupTaint(off), mode).toEqual([]);
      expect(patchesNodes(off), mode).toEqual([]);
      const on = await renderChart(helm, [
        ...IMAGE_VALUES,
        '--set',
        `mode=${mode}`,
        '--set',
        'startupTaint.enabled=true',
        '--set',
        'serviceAccount.name=drop-runner',
      ]);
      expect(
        startupTaint(on).map((o) => o.kind),
        mode,
      ).toEqual(['ClusterRole', 'ClusterRoleBinding']);
      expect(
        patchesNodes(on).map((o) => o.metadata.name),
        mode,
      ).toEqual(['drop-startup-taint']);
      expect(startupTaint(on)[1]?.subjects, mode).toEqual([
        { kind: 'ServiceAccount', name: 'drop-reconcile-image', namespace: NAMESPACE },
        { kind: 'ServiceAccount', name: 'drop-runner', namespace: NAMESPACE },
      ]);
    }
  });

  it('metrics.enabled=false leaves out the metrics Service', async () => {
    const objects = await renderChart(helm, [...IMAGE_VALUES, '--set', 'metrics.enabled=false']);
    expect(objects.filter((o) => o.metadata.name === 'drop-metrics')).toEqual([]);
  });
});

describe('the dashboards ConfigMap', () => {
  /** A copy of charts/drop whose dashboards/ holds exactly these files. */
  function chartWithDashboards(files: Readonly<Record<string, string>>): string {
    const dir = join(scratchDir('chart'), 'drop');
    cpSync(DROP_CHART, dir, {
      recursive: true,
      filter: (source) => !source.startsWith(join(DROP_CHART, 'dashboards')),
    });
    mkdirSync(join(dir, 'dashboards'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'dashboards', name), text);
    return dir;
  }

  type ConfigMap = Manifest & { readonly data?: Readonly<Record<string, string>> };
  const configMaps = (objects: readonly Manifest[]) =>
    objects.filter((o): o is ConfigMap => o.kind === 'ConfigMap');

  it('is left out when the chart has no dashboard', async () => {
    expect(configMaps(await renderChart(helm, IMAGE_VALUES, chartWithDashboards({})))).toEqual([]);
  });

  it('holds every dashboards/*.json verbatim, labelled for the Grafana sidecar', async () => {
    const files = {
      'drop.json': `${JSON.stringify({ title: 'Drop', panels: [{ id: 1 }] }, null, 2)}\n`,
      'pacing.json': JSON.stringify({ title: 'Pacing', uid: 'drop-pacing' }),
    };
    const chart = chartWithDashboards(files);
    const [configMap, ...more] = configMaps(await renderChart(helm, IMAGE_VALUES, chart));
    expect(more).toEqual([]);
    expect(configMap?.metadata).toMatchObject({
      name: 'drop-dashboards',
      namespace: NAMESPACE,
      labels: { grafana_dashboard: '1', 'app.kubernetes.io/component': 'dashboards' },
    });
    expect(configMap?.data).toEqual(files);
    const moved = configMaps(
      await renderChart(
        helm,
        [
          ...IMAGE_VALUES,
          '--set',
          'dashboards.namespace=monitoring',
          '--set',
          'dashboards.annotations.grafana_folder=Drop',
        ],
        chart,
      ),
    );
    expect(moved[0]?.metadata).toMatchObject({
      namespace: 'monitoring',
      annotations: { grafana_folder: 'Drop' },
    });
    const off = await renderChart(helm, [...IMAGE_VALUES, '--set', 'dashboards.enabled=false'], chart);
    expect(configMaps(off)).toEqual([]);
  });

  it('in this chart, holds exactly the dashboards it ships', async () => {
    const dir = join(DROP_CHART, 'dashboards');
    const shipped = (() => {
      try {
        return readdirSync(dir).filter((f) => f.endsWith('.json'));
      } catch {
        return [];
      }
    })();
    const [configMap] = configMaps(await renderChart(helm, IMAGE_VALUES));
    expect(Object.keys(configMap?.data ?? {}).sort()).toEqual(shipped.sort());
    for (const file of shipped) expect(configMap?.data?.[file]).toBe(readFileSync(join(dir, file), 'utf8'));
  });
});
