// The charts are generated from config/ and crds/ and stay so; their values take Go Drop's keys.
// (test/integration/chart-render.test.ts renders them with the pinned Helm and proves the objects equal.)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configTemplate, renderTemplates, templateSources } from '../../scripts/charts/templates.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const crdFiles = readdirSync(join(ROOT, 'crds'))
  .filter((f) => f.endsWith('.yaml'))
  .sort();

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(`${dir}/${entry.name}`) : [`${dir}/${entry.name}`],
  );
}

describe('charts/', () => {
  it('holds what npm run gen writes from config/ and crds/ (run it after changing either)', () => {
    const rendered = renderTemplates(read, crdFiles);
    for (const [path, text] of Object.entries(rendered))
      expect(read(path), `${path} is stale: run npm run gen`).toBe(text);
  });

  it('generates every object of config/ and the CRDs, and writes nothing else by hand beside them', () => {
    const sources = [...templateSources(crdFiles).values()];
    for (const fn of ['reconcile-image', 'reconcile-set', 'pace', 'discover'])
      for (const file of ['rbac.yaml', 'service.yaml', 'sources.yaml'])
        expect(sources).toContain(`config/${fn}/${file}`);
    expect(sources).toContain('config/standalone/rbac.yaml');
    expect(sources).toContain('config/standalone/deployment.yaml');
    const generated = new Set(templateSources(crdFiles).keys());
    const handWritten = [...filesUnder('charts/drop/templates'), ...filesUnder('charts/drop-crds/templates')]
      .filter((path) => !generated.has(path))
      .sort();
    expect(handWritten).toEqual([
      'charts/drop-crds/templates/NOTES.txt',
      'charts/drop-crds/templates/_helpers.tpl',
      'charts/drop/templates/NOTES.txt',
      'charts/drop/templates/_helpers.tpl',
      'charts/drop/templates/dashboards.yaml',
      'charts/drop/templates/metrics-service.yaml',
      'charts/drop/templates/servicemonitor.yaml',
      'charts/drop/templates/validate.yaml',
    ]);
  });

  it('versions both charts, and Drop in them, as package.json versions Drop', () => {
    const { version } = JSON.parse(read('package.json')) as { version: string };
    for (const chart of ['drop', 'drop-crds']) {
      const meta = parse(read(`charts/${chart}/Chart.yaml`)) as { version: string; appVersion: string };
      expect(meta, chart).toMatchObject({ version, appVersion: version });
    }
  });

  it("takes every key of Go Drop's values that means something here", () => {
    const values = parse(read('charts/drop/values.yaml')) as Record<string, Record<string, unknown>>;
    const goDropKeys = [
      'replicaCount',
      'image.repository',
      'image.pullPolicy',
      'image.tag',
      'serviceAccount.create',
      'serviceAccount.annotations',
      'serviceAccount.name',
      'resources',
      'leaderElection.enabled',
      'metrics.enabled',
      'serviceMonitor.enabled',
      'serviceMonitor.interval',
      'serviceMonitor.scrapeTimeout',
      'serviceMonitor.additionalLabels',
      'crds.install',
      'nodeSelector',
      'tolerations',
      'affinity',
    ];
    for (const key of goDropKeys) {
      const [top, sub] = key.split('.') as [string, string | undefined];
      expect(top in values, key).toBe(true);
      if (sub) expect(sub in (values[top] ?? {}), key).toBe(true);
    }
  });
});

describe('configTemplate', () => {
  const deployment = (image: string, labels = 'app.kubernetes.io/name: drop') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: drop
  labels: {${labels}}
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: drop
          image: ${image}
          env: [{name: FUNCTION, value: standalone}]
          resources: {requests: {cpu: 1m}}
`;

  it('refuses a workload that runs another image than drop, which the chart could not set', () => {
    expect(() => configTemplate('x.yaml', deployment('nginx'), 'standalone')).toThrow(
      'x.yaml: a container runs nginx, not the image drop',
    );
  });

  it('refuses an object that sets a label the chart sets itself', () => {
    expect(() =>
      configTemplate('x.yaml', deployment('drop', 'app.kubernetes.io/managed-by: kustomize'), 'standalone'),
    ).toThrow('x.yaml: the chart sets app.kubernetes.io/managed-by itself');
  });

  it('keeps the object as it is where no value applies, comments included', () => {
    const text = configTemplate('x.yaml', `# why\n${deployment('drop')}`, 'standalone');
    expect(text).toContain('# why\napiVersion: apps/v1\nkind: Deployment');
    expect(text).toContain('image: {{ include "drop.image" . | quote }}');
    expect(text).toContain('replicas: {{ .Values.replicaCount }}');
    expect(text).toContain(
      ['{{- else }}', 'requests: {cpu: 1m}', '{{- end }}']
        .map((line) => `${' '.repeat(12)}${line}`)
        .join('\n'),
    );
  });
});
