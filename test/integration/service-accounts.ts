// Kubeconfigs that authenticate to the test cluster as Drop's own ServiceAccounts, with the RBAC
// from config/ applied for real: a function run with one can do exactly what it could in production.
//
//   const kube = createKube(loadKubeConfig(await functionKubeconfig('pace')), 'pace');
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  type FunctionName,
  functionManifests,
  type Grant,
  grantsOf,
  type Manifest,
  NAMESPACE,
  rbacOnly,
  readManifests,
  serviceAccountOf,
  sourceServiceAccountOf,
} from '../config/manifests.ts';
import { kubeconfigPath, kubectl, waitFor } from './harness.ts';

// Service-account tokens from the TokenRequest API; the tests of one run fit well inside.
const TOKEN_DURATION = '2h';

const made = new Map<string, Promise<string>>();

/**
 * Applies config/<fn>/rbac.yaml to the test cluster and returns the path of a kubeconfig whose
 * user is the function's ServiceAccount (drop-<fn>), with a token minted by `kubectl create token`.
 */
export function functionKubeconfig(fn: FunctionName): Promise<string> {
  return serviceAccountKubeconfig(serviceAccountOf(fn), rbacOnly(functionManifests(fn, 'rbac.yaml')));
}

/** The same for the ServiceAccount the function's ApiServerSource adapter runs as (drop-<fn>-source). */
export function sourceKubeconfig(fn: FunctionName): Promise<string> {
  return serviceAccountKubeconfig(
    sourceServiceAccountOf(fn),
    rbacOnly(functionManifests(fn, 'sources.yaml')),
  );
}

/** The same for the standalone runner's ServiceAccount (config/standalone/rbac.yaml). */
export function standaloneKubeconfig(): Promise<string> {
  return serviceAccountKubeconfig(STANDALONE, rbacOnly(readManifests('standalone/rbac.yaml')));
}

export const STANDALONE = 'drop-standalone';

/** `system:serviceaccount:drop-system:<name>`, for `kubectl --as`. */
export function serviceAccountUser(name: string): string {
  return `system:serviceaccount:${NAMESPACE}:${name}`;
}

function serviceAccountKubeconfig(serviceAccount: string, manifests: readonly Manifest[]): Promise<string> {
  const key = `${kubeconfigPath()} ${serviceAccount}`;
  let kubeconfig = made.get(key);
  if (!kubeconfig) {
    kubeconfig = makeKubeconfig(serviceAccount, manifests);
    made.set(key, kubeconfig);
    kubeconfig.catch(() => made.delete(key));
  }
  return kubeconfig;
}

async function makeKubeconfig(serviceAccount: string, manifests: readonly Manifest[]): Promise<string> {
  await kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests }),
  });
  await waitUntilAuthorized(serviceAccount, grantsOf(manifests, serviceAccount));
  const token = (
    await kubectl(['create', 'token', serviceAccount, '-n', NAMESPACE, `--duration=${TOKEN_DURATION}`])
  ).trim();
  return writeKubeconfig(serviceAccount, token);
}

/**
 * The ServiceAccount's rules in a namespace (drop-system unless told) as the API server's
 * authorizer sees them (SelfSubjectRulesReview through `kubectl auth can-i --list --as`), as
 * `<resource>.<group>[/sub] <verb>`; cluster-wide grants are among them in every namespace.
 */
export async function authorizedRules(serviceAccount: string, namespace = NAMESPACE): Promise<Set<string>> {
  const out = await kubectl([
    'auth',
    'can-i',
    '--list',
    '-n',
    namespace,
    `--as=${serviceAccountUser(serviceAccount)}`,
  ]);
  const rules = new Set<string>();
  for (const line of out.split('\n').slice(1)) {
    const match = line.match(/^(\S+)\s+\[\]\s+\[\]\s+\[([^\]]*)\]/);
    if (!match?.[1] || !match[2]) continue;
    for (const verb of match[2].split(' ')) rules.add(`${match[1]} ${verb}`);
  }
  return rules;
}

/** A grant in the form authorizedRules uses: `cachedimages.drop.corewire.io/status update`. */
export function ruleOf(grant: Grant): string {
  const [resource, subresource] = grant.resource.split('/');
  const group = grant.group ? `.${grant.group}` : '';
  return `${resource}${group}${subresource ? `/${subresource}` : ''} ${grant.verb}`;
}

// The authorizer reads RBAC objects from an informer: a binding just written can take a moment.
async function waitUntilAuthorized(serviceAccount: string, grants: readonly Grant[]): Promise<void> {
  // Cluster-wide grants show in drop-system; a Role's only in its own namespace (default: Events).
  const namespaces = [...new Set(grants.map((g) => (g.scope === '*' ? NAMESPACE : g.scope)))];
  await waitFor(
    async () => {
      for (const namespace of namespaces) {
        const rules = await authorizedRules(serviceAccount, namespace);
        const expected = grants.filter((g) => g.scope === '*' || g.scope === namespace);
        if (!expected.every((g) => rules.has(ruleOf(g)))) return false;
      }
      return true;
    },
    { timeoutMs: 10_000, message: `RBAC of ${serviceAccount} in effect` },
  );
}

function writeKubeconfig(serviceAccount: string, token: string): string {
  const admin = parse(readFileSync(kubeconfigPath(), 'utf8')) as {
    clusters: { name: string; cluster: Record<string, unknown> }[];
    contexts: { name: string; context: { cluster: string } }[];
    'current-context': string;
  };
  const context = admin.contexts.find((c) => c.name === admin['current-context']);
  const cluster = admin.clusters.find((c) => c.name === context?.context.cluster);
  if (!cluster) throw new Error(`${kubeconfigPath()} has no current cluster`);
  const dir = join(tmpdir(), `drop-service-accounts-${process.pid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${serviceAccount}.kubeconfig`);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [cluster],
    users: [{ name: serviceAccount, user: { token } }],
    contexts: [
      {
        name: serviceAccount,
        context: { cluster: cluster.name, user: serviceAccount, namespace: NAMESPACE },
      },
    ],
    'current-context': serviceAccount,
  };
  writeFileSync(path, stringify(config), { mode: 0o600 });
  return path;
}
