// Reads the deploy manifests in config/ (see the layout at the top of config/kustomization.yaml)
// and works out what each ServiceAccount may do, so that tests compare permissions, not YAML.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

export const CONFIG_DIR = new URL('../../config/', import.meta.url).pathname;
export const NAMESPACE = 'drop-system';
/**
 * Where Events about cluster-scoped objects live (the API server accepts them only there or in
 * kube-system): the one namespace besides drop-system in which Drop is granted anything.
 */
export const EVENTS_NAMESPACE = 'default';

export const FUNCTIONS = ['reconcile-image', 'reconcile-set', 'pace', 'discover'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

export type ManifestFile = 'rbac.yaml' | 'service.yaml' | 'sources.yaml';

export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

export interface Container {
  readonly name: string;
  readonly image: string;
  readonly env?: readonly { readonly name: string; readonly value?: string }[];
  readonly ports?: readonly { readonly name?: string; readonly containerPort: number }[];
  readonly readinessProbe?: { readonly httpGet?: { readonly path?: string; readonly port?: unknown } };
  readonly livenessProbe?: { readonly httpGet?: { readonly path?: string; readonly port?: unknown } };
  readonly resources?: {
    readonly requests?: Readonly<Record<string, string>>;
    readonly limits?: Readonly<Record<string, string>>;
  };
  readonly securityContext?: Readonly<Record<string, unknown>>;
}

export interface PodSpec {
  readonly serviceAccountName?: string;
  readonly securityContext?: Readonly<Record<string, unknown>>;
  readonly containers: readonly Container[];
  readonly [field: string]: unknown;
}

export interface PodTemplate {
  readonly metadata?: {
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly spec: PodSpec;
}

/** serving.knative.dev/v1 Service, and apps/v1 Deployment: both carry a pod template. */
export interface Workload extends Manifest {
  readonly spec: { readonly template: PodTemplate; readonly [field: string]: unknown };
}

export interface SinkRef {
  readonly ref?: { readonly apiVersion: string; readonly kind: string; readonly name: string };
  readonly uri?: string;
}

export interface ApiServerSource extends Manifest {
  readonly spec: {
    readonly mode?: string;
    readonly serviceAccountName?: string;
    readonly resources: readonly WatchedResource[];
    readonly namespaceSelector?: unknown;
    readonly sink: SinkRef;
  };
}

export interface PingSource extends Manifest {
  readonly spec: {
    readonly schedule?: string;
    readonly contentType?: string;
    readonly data?: string;
    readonly sink: SinkRef;
  };
}

interface KindMap {
  readonly Service: Workload;
  readonly Deployment: Workload;
  readonly ApiServerSource: ApiServerSource;
  readonly PingSource: PingSource;
}

/** The manifests of one kind, typed for reading. */
export function ofKind<K extends keyof KindMap>(manifests: readonly Manifest[], kind: K): KindMap[K][] {
  return manifests.filter((m) => m.kind === kind) as unknown as KindMap[K][];
}

/** Every document of a YAML file under config/ (path relative to config/). */
export function readManifests(path: string): Manifest[] {
  return parseAllDocuments(readFileSync(`${CONFIG_DIR}${path}`, 'utf8'))
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
}

/** One function's manifests, from config/<function>/<file>. */
export function functionManifests(fn: FunctionName, file: ManifestFile): Manifest[] {
  return readManifests(`${fn}/${file}`);
}

const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

/** The ServiceAccounts, roles and bindings among manifests (what can be applied without Knative). */
export function rbacOnly(manifests: readonly Manifest[]): Manifest[] {
  return manifests.filter((m) => RBAC_KINDS.has(m.kind));
}

/** The function's own ServiceAccount, and the one its ApiServerSource's adapter runs as. */
export function serviceAccountOf(fn: FunctionName): string {
  return `drop-${fn}`;
}
export function sourceServiceAccountOf(fn: FunctionName): string {
  return `drop-${fn}-source`;
}

/**
 * One permission: a verb on a resource (`pods`, `cachedimages/status`) of an API group, either in
 * every namespace and for cluster-scoped kinds (`scope: '*'`, a ClusterRoleBinding) or in one
 * namespace (a RoleBinding).
 */
export interface Grant {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly scope: string;
}

export function grantKey(g: Grant): string {
  return `${g.verb} ${g.group || 'core'}/${g.resource} @${g.scope}`;
}

interface Subject {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

interface Rule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly verbs?: readonly string[];
  readonly resourceNames?: readonly string[];
}

/**
 * What the ServiceAccount may do through the bindings among manifests, expanded to single grants
 * (sorted, no duplicates). Wildcards and resourceNames are refused: Drop's manifests use neither,
 * and a test that compared them as plain strings would be wrong.
 */
export function grantsOf(manifests: readonly Manifest[], serviceAccount: string): Grant[] {
  const grants = new Map<string, Grant>();
  for (const binding of manifests.filter(
    (m) => m.kind === 'RoleBinding' || m.kind === 'ClusterRoleBinding',
  )) {
    const subjects = (binding.subjects ?? []) as readonly Subject[];
    const bound = subjects.some(
      (s) => s.kind === 'ServiceAccount' && s.name === serviceAccount && s.namespace === NAMESPACE,
    );
    if (!bound) continue;
    const ref = binding.roleRef as { kind: string; name: string };
    const role = manifests.find(
      (m) =>
        m.kind === ref.kind &&
        m.metadata.name === ref.name &&
        (ref.kind === 'ClusterRole' || m.metadata.namespace === binding.metadata.namespace),
    );
    if (!role)
      throw new Error(
        `${binding.kind} ${binding.metadata.name} names ${ref.kind} ${ref.name}, which is missing`,
      );
    const scope = binding.kind === 'ClusterRoleBinding' ? '*' : (binding.metadata.namespace ?? '');
    for (const rule of (role.rules ?? []) as Rule[]) {
      if (rule.resourceNames) throw new Error(`${role.metadata.name}: resourceNames are not supported here`);
      for (const group of rule.apiGroups ?? [])
        for (const resource of rule.resources ?? [])
          for (const verb of rule.verbs ?? []) {
            if ([group, resource, verb].includes('*'))
              throw new Error(`${role.metadata.name} uses a wildcard`);
            const grant = { verb, group, resource, scope };
            grants.set(grantKey(grant), grant);
          }
    }
  }
  return [...grants.values()].sort((a, b) => grantKey(a).localeCompare(grantKey(b)));
}

/** True when a grant allows the verb on the resource in that namespace ('' for cluster-scoped). */
export function allows(
  grants: readonly Grant[],
  request: Omit<Grant, 'scope'> & { namespace: string },
): boolean {
  return grants.some(
    (g) =>
      g.verb === request.verb &&
      g.group === request.group &&
      g.resource === request.resource &&
      (g.scope === '*' || g.scope === request.namespace),
  );
}

export interface WatchedResource {
  readonly apiVersion: string;
  readonly kind: string;
  readonly selector?: {
    readonly matchLabels?: Readonly<Record<string, string>>;
    readonly matchExpressions?: readonly { key: string; operator: string; values?: string[] }[];
  };
}

/** The ApiServerSource of a function (config/<function>/sources.yaml). */
export function apiServerSourceOf(fn: FunctionName): ApiServerSource {
  const [source] = ofKind(functionManifests(fn, 'sources.yaml'), 'ApiServerSource');
  if (!source) throw new Error(`config/${fn}/sources.yaml has no ApiServerSource`);
  return source;
}

/** A label selector as the API's query string (`a=b,c`) — what the adapter sends to the API server. */
export function selectorString(selector: WatchedResource['selector']): string {
  const labels = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  const expressions = (selector?.matchExpressions ?? []).map((e) => {
    switch (e.operator) {
      case 'Exists':
        return e.key;
      case 'DoesNotExist':
        return `!${e.key}`;
      case 'In':
        return `${e.key} in (${(e.values ?? []).join(',')})`;
      case 'NotIn':
        return `${e.key} notin (${(e.values ?? []).join(',')})`;
      default:
        throw new Error(`unknown selector operator ${e.operator}`);
    }
  });
  return [...labels, ...expressions].join(',');
}

const VERB_ORDER = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];

/** `cachedimages: get, list · nodes: get, list` — one scope's grants, resources in name order. */
function permissions(grants: readonly Grant[]): string {
  const byResource = new Map<string, string[]>();
  for (const g of grants) byResource.set(g.resource, [...(byResource.get(g.resource) ?? []), g.verb]);
  const text = [...byResource]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([resource, verbs]) => {
      const ordered = [...verbs].sort((a, b) => VERB_ORDER.indexOf(a) - VERB_ORDER.indexOf(b));
      return `${resource}: ${ordered.join(', ')}`;
    })
    .join(' · ');
  return text || '—';
}

/**
 * The README's table of what each ServiceAccount may do, rendered from the manifests: one row per
 * ServiceAccount, cluster-wide grants (ClusterRoleBindings), those in drop-system and those in
 * default (RoleBindings: only Events).
 */
export function permissionsTable(): string {
  const rows: [string, Grant[]][] = [
    ...FUNCTIONS.map((fn): [string, Grant[]] => [
      serviceAccountOf(fn),
      grantsOf(functionManifests(fn, 'rbac.yaml'), serviceAccountOf(fn)),
    ]),
    ...FUNCTIONS.map((fn): [string, Grant[]] => [
      sourceServiceAccountOf(fn),
      grantsOf(functionManifests(fn, 'sources.yaml'), sourceServiceAccountOf(fn)),
    ]),
    ['drop-standalone', grantsOf(readManifests('standalone/rbac.yaml'), 'drop-standalone')],
  ];
  const scopes = ['*', NAMESPACE, EVENTS_NAMESPACE];
  for (const [name, grants] of rows)
    for (const g of grants)
      if (!scopes.includes(g.scope))
        throw new Error(`${name} has a grant in ${g.scope}, which the table has no column for`);
  return [
    `| ServiceAccount | cluster-wide (ClusterRole) | in ${NAMESPACE} (Role) | in ${EVENTS_NAMESPACE} (Role) |`,
    '|---|---|---|---|',
    ...rows.map(
      ([name, grants]) =>
        `| \`${name}\` | ${scopes.map((scope) => permissions(grants.filter((g) => g.scope === scope))).join(' | ')} |`,
    ),
  ].join('\n');
}
