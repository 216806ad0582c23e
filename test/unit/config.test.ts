// The deploy manifests in config/ hold together: the layout that tools read, every function wired to
// its own Service, ServiceAccount and sources, restricted pods, and the standalone ServiceAccount
// allowed exactly what the functions and their sources are. (test/integration/config.test.ts
// proves them against a real API server.)
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kinds } from '../../lib/api/kinds.ts';
import { LABEL, MANAGED_BY } from '../../lib/pull-pod.ts';
import {
  apiServerSourceOf,
  CONFIG_DIR,
  type Container,
  EVENTS_NAMESPACE,
  FUNCTIONS,
  functionManifests,
  type Grant,
  grantKey,
  grantsOf,
  NAMESPACE,
  ofKind,
  permissionsTable,
  readManifests,
  serviceAccountOf,
  sourceServiceAccountOf,
  type Workload,
} from '../config/manifests.ts';

const FILES = ['rbac.yaml', 'service.yaml', 'sources.yaml'] as const;

function kustomization(dir: string): { resources: string[]; images?: { name: string }[] } {
  return parse(readFileSync(`${CONFIG_DIR}${dir}kustomization.yaml`, 'utf8'));
}

function serviceOf(fn: (typeof FUNCTIONS)[number]): Workload {
  const [service] = ofKind(functionManifests(fn, 'service.yaml'), 'Service');
  if (!service) throw new Error(`config/${fn}/service.yaml has no Service`);
  return service;
}

function onlyContainer(workload: Workload): Container {
  expect(workload.spec.template.spec.containers).toHaveLength(1);
  return workload.spec.template.spec.containers[0] as Container;
}

function env(container: Container): Record<string, string | undefined> {
  return Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
}

const PLURALS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.values(kinds).map((k) => [k.kind, k.plural])),
  Node: 'nodes',
  Pod: 'pods',
};
const NAMESPACED = new Set(['Pod']);

function byKey(grants: readonly Grant[]): string[] {
  return grants.map(grantKey).sort();
}

describe('config/', () => {
  it('lists every function folder file in its kustomization, and nothing under config/ is left out', () => {
    const resources = kustomization('').resources;
    expect(resources).toEqual([
      'namespace',
      '../crds',
      ...FUNCTIONS.flatMap((fn) => FILES.map((file) => `${fn}/${file}`)),
    ]);
    const folders = readdirSync(CONFIG_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(folders).toEqual([...FUNCTIONS, 'namespace', 'standalone', 'startup-taint'].sort());
    for (const fn of FUNCTIONS) expect(readdirSync(`${CONFIG_DIR}${fn}`).sort()).toEqual([...FILES]);
  });

  it('keeps the startup-taint role opt-in: a kustomize Component that neither deploy lists', () => {
    expect(kustomization('startup-taint/')).toMatchObject({ kind: 'Component', resources: ['rbac.yaml'] });
    expect(kustomization('').resources).not.toContain('startup-taint');
    expect(kustomization('standalone/').resources).not.toContain('../startup-taint');
    const [role, binding] = readManifests('startup-taint/rbac.yaml');
    expect(role).toMatchObject({
      kind: 'ClusterRole',
      rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['patch'] }],
    });
    expect(binding).toMatchObject({ kind: 'ClusterRoleBinding', roleRef: { name: 'drop-startup-taint' } });
  });

  it('puts every namespaced object in drop-system, which enforces the restricted Pod Security Standard, but the Events roles', () => {
    const [namespace] = readManifests('namespace/namespace.yaml');
    expect(namespace?.metadata).toMatchObject({
      name: NAMESPACE,
      labels: { 'pod-security.kubernetes.io/enforce': 'restricted' },
    });
    const all = [...FUNCTIONS.flatMap((fn) => FILES.map((f) => `${fn}/${f}`)), 'standalone/rbac.yaml'];
    const clusterScoped = new Set(['ClusterRole', 'ClusterRoleBinding', 'Namespace']);
    const eventsRoles: string[] = [];
    for (const file of [...all, 'standalone/deployment.yaml'])
      for (const m of readManifests(file)) {
        if (clusterScoped.has(m.kind)) continue;
        if (m.metadata.namespace === EVENTS_NAMESPACE) eventsRoles.push(`${m.kind} ${m.metadata.name}`);
        else expect(m.metadata.namespace, `${file} ${m.kind}`).toBe(NAMESPACE);
      }
    // In default only the Roles (and their bindings) that write Events about cluster-scoped objects.
    expect(eventsRoles.sort()).toEqual(
      ['drop-pace-events', 'drop-reconcile-image-events', 'drop-standalone-events']
        .flatMap((name) => [`Role ${name}`, `RoleBinding ${name}`])
        .sort(),
    );
    for (const file of all)
      for (const m of readManifests(file))
        if (m.kind === 'Role' && m.metadata.namespace === EVENTS_NAMESPACE)
          expect(m.rules, `${file} ${m.metadata.name}`).toEqual([
            { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['get', 'create', 'patch'] },
          ]);
  });

  it.each(FUNCTIONS)('%s: a Knative Service drop-<function> runs the one image as that function', (fn) => {
    const service = serviceOf(fn);
    expect(service.apiVersion).toBe('serving.knative.dev/v1');
    expect(service.metadata.name).toBe(`drop-${fn}`);
    expect(service.metadata.labels?.['networking.knative.dev/visibility']).toBe('cluster-local');
    const template = service.spec.template;
    expect(template.spec.serviceAccountName).toBe(serviceAccountOf(fn));
    expect(template.spec.containerConcurrency).toBeGreaterThan(0);
    const annotations = template.metadata?.annotations ?? {};
    const min = Number(annotations['autoscaling.knative.dev/min-scale']);
    const max = Number(annotations['autoscaling.knative.dev/max-scale']);
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeGreaterThanOrEqual(Math.max(min, 1));
    const container = onlyContainer(service);
    expect(container.image).toBe('drop');
    expect(env(container)).toEqual({ FUNCTION: fn, DROP_NAMESPACE: NAMESPACE });
    // Ready only when Drop can do its work (lib/controller/readiness.ts); alive while the process runs.
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(container.resources?.requests).toMatchObject({
      cpu: expect.any(String),
      memory: expect.any(String),
    });
    expect(container.resources?.limits?.memory).toEqual(expect.any(String));
  });

  it('runs every container as the restricted Pod Security Standard asks, and no pod looks like a pull pod', () => {
    const workloads = [
      ...FUNCTIONS.map(serviceOf),
      ...ofKind(readManifests('standalone/deployment.yaml'), 'Deployment'),
    ];
    expect(workloads).toHaveLength(FUNCTIONS.length + 1);
    for (const workload of workloads) {
      const pod = workload.spec.template.spec;
      const container = onlyContainer(workload);
      // Knative takes no pod-level securityContext by default (kubernetes.podspec-securitycontext),
      // so its Services say everything per container; the Deployment may say it per pod.
      const effective = { ...pod.securityContext, ...container.securityContext };
      expect(effective, workload.metadata.name).toMatchObject({
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      // The Drop namespace's pods with this label are pull pods to every function.
      expect(workload.spec.template.metadata?.labels?.[LABEL.managedBy]).not.toBe(MANAGED_BY);
      expect(workload.metadata.labels?.[LABEL.managedBy]).not.toBe(MANAGED_BY);
    }
  });

  it.each(FUNCTIONS)('%s: its ApiServerSource and PingSource send to Service drop-<function>', (fn) => {
    const manifests = functionManifests(fn, 'sources.yaml');
    const sources = [...ofKind(manifests, 'ApiServerSource'), ...ofKind(manifests, 'PingSource')];
    expect(sources.map((s) => s.kind).sort()).toEqual(['ApiServerSource', 'PingSource']);
    for (const source of sources) {
      expect(source.apiVersion).toBe('sources.knative.dev/v1');
      expect(source.spec.sink).toEqual({
        ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: `drop-${fn}` },
      });
    }
    const apiServer = apiServerSourceOf(fn);
    expect(apiServer.metadata.name).toBe(`drop-${fn}`);
    expect(apiServer.spec.mode).toBe('Resource');
    expect(apiServer.spec.serviceAccountName).toBe(sourceServiceAccountOf(fn));
    // Unset: namespaced kinds (pods) are watched in drop-system only.
    expect(apiServer.spec.namespaceSelector).toBeUndefined();
    const [ping] = ofKind(manifests, 'PingSource');
    expect(ping?.metadata.name).toBe(`drop-${fn}-resync`);
    // Knative's webhook would default the schedule; without it nothing would tick. Every 5 minutes:
    // at most 12 wake-ups an hour for an idle fleet.
    expect(ping?.spec.schedule).toBe('*/5 * * * *');
    expect(ping?.spec.contentType).toBe('application/json');
    expect(JSON.parse(ping?.spec.data ?? '')).toEqual({ resync: true });
  });

  it.each(FUNCTIONS)('%s: pull pods reach the functions through a label selector only', (fn) => {
    for (const resource of apiServerSourceOf(fn).spec.resources)
      if (resource.kind === 'Pod')
        expect(resource.selector).toEqual({ matchLabels: { [LABEL.managedBy]: MANAGED_BY } });
  });

  it.each(FUNCTIONS)(
    '%s: the source ServiceAccount may get, list and watch what it watches, nothing else',
    (fn) => {
      const manifests = functionManifests(fn, 'sources.yaml');
      const expected = apiServerSourceOf(fn).spec.resources.flatMap((r) =>
        ['get', 'list', 'watch'].map((verb) => ({
          verb,
          group: r.apiVersion.includes('/') ? (r.apiVersion.split('/')[0] ?? '') : '',
          resource: PLURALS[r.kind] ?? `unknown kind ${r.kind}`,
          scope: NAMESPACED.has(r.kind) ? NAMESPACE : '*',
        })),
      );
      expect(byKey(grantsOf(manifests, sourceServiceAccountOf(fn)))).toEqual(byKey(expected));
    },
  );

  it('gives the standalone ServiceAccount exactly the union of the functions and their sources', () => {
    const union = new Map<string, Grant>();
    for (const fn of FUNCTIONS) {
      for (const g of grantsOf(functionManifests(fn, 'rbac.yaml'), serviceAccountOf(fn)))
        union.set(grantKey(g), g);
      for (const g of grantsOf(functionManifests(fn, 'sources.yaml'), sourceServiceAccountOf(fn)))
        union.set(grantKey(g), g);
    }
    const standalone = grantsOf(readManifests('standalone/rbac.yaml'), 'drop-standalone');
    expect(byKey(standalone)).toEqual([...union.keys()].sort());
  });

  it('runs the standalone Deployment as the runner (FUNCTION=standalone) with its ServiceAccount', () => {
    const [deployment] = ofKind(readManifests('standalone/deployment.yaml'), 'Deployment');
    expect(deployment?.spec.template.spec.serviceAccountName).toBe('drop-standalone');
    const container = onlyContainer(deployment as Workload);
    expect(container.image).toBe('drop');
    expect(env(container)).toMatchObject({ FUNCTION: 'standalone', DROP_NAMESPACE: NAMESPACE });
    expect(kustomization('standalone/').resources).toEqual([
      '../namespace',
      '../../crds',
      'rbac.yaml',
      'deployment.yaml',
    ]);
  });

  it('is what the README says each ServiceAccount may do', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    // On failure, paste the expected table into README "Install".
    expect(readme).toContain(permissionsTable());
  });

  it('sets the image in one place per kustomization', () => {
    expect(kustomization('').images?.map((i) => i.name)).toEqual(['drop']);
    expect(kustomization('standalone/').images?.map((i) => i.name)).toEqual(['drop']);
  });
});
