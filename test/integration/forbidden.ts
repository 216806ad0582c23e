// Real requests for everything a ServiceAccount is not granted, each of which the API server must
// refuse with 403. The API server authorizes before it reads a body or looks an object up, so a
// request needs no valid body to be judged; names and selectors match nothing, so that a request
// wrongly allowed would still change nothing.

import { CONTENT_TYPE, KubeHttp, type Method, type RequestOptions } from '../../lib/kube/http.ts';
import { KubeError, loadKubeConfig } from '../../lib/kube/index.ts';
import { allows, type Grant, NAMESPACE } from '../config/manifests.ts';

export interface Target {
  readonly group: string;
  readonly version: string;
  /** `pods`, `cachedimages/status` */
  readonly resource: string;
  /** '' for cluster-scoped kinds. */
  readonly namespace: string;
}

const drop = (resource: string): Target => ({
  group: 'drop.corewire.io',
  version: 'v1alpha1',
  resource,
  namespace: '',
});
const core = (resource: string, namespace = NAMESPACE): Target => ({
  group: '',
  version: 'v1',
  resource,
  namespace,
});

/** What any Drop function touches, and a few things no Drop ServiceAccount should ever touch. */
export const TARGETS: readonly Target[] = [
  ...['cachedimages', 'cachedimagesets', 'discoverypolicies', 'pullpolicies'].flatMap((r) => [
    drop(r),
    drop(`${r}/status`),
  ]),
  core('nodes', ''),
  core('pods'),
  core('pods', 'default'),
  core('secrets'),
  core('secrets', 'kube-system'),
  core('configmaps'),
  core('serviceaccounts'),
  core('events'),
  // Drop writes Events through events.k8s.io, in default (about cluster-scoped objects) only.
  { group: 'events.k8s.io', version: 'v1', resource: 'events', namespace: 'default' },
  { group: 'events.k8s.io', version: 'v1', resource: 'events', namespace: NAMESPACE },
  { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: NAMESPACE },
  { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace: 'default' },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', namespace: NAMESPACE },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', namespace: '' },
];

const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] as const;
const SUBRESOURCE_VERBS = ['get', 'update', 'patch'] as const;
const NOBODY = 'drop-rbac-probe-matches-nothing';

function collectionPath(t: Target): string {
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  const [resource] = t.resource.split('/');
  return `${base}${t.namespace ? `/namespaces/${t.namespace}` : ''}/${resource}`;
}

function objectPath(t: Target): string {
  const [, subresource] = t.resource.split('/');
  return `${collectionPath(t)}/${NOBODY}${subresource ? `/${subresource}` : ''}`;
}

function requestFor(verb: string, t: Target): [Method, string, RequestOptions] {
  const selector = { labelSelector: `drop.test/rbac-probe=${NOBODY}` };
  switch (verb) {
    case 'get':
      return ['GET', objectPath(t), {}];
    case 'list':
      return ['GET', collectionPath(t), { query: selector }];
    case 'watch':
      return ['GET', collectionPath(t), { query: { ...selector, watch: true, timeoutSeconds: 1 } }];
    case 'create':
      return ['POST', collectionPath(t), { body: {} }];
    case 'update':
      return ['PUT', objectPath(t), { body: {} }];
    case 'patch':
      return ['PATCH', objectPath(t), { body: {}, contentType: CONTENT_TYPE.mergePatch }];
    case 'delete':
      return ['DELETE', objectPath(t), {}];
    default:
      return ['DELETE', collectionPath(t), { query: selector }];
  }
}

export interface ProbeResult {
  /** How many requests were sent: every verb on every target that the grants do not allow. */
  readonly probed: number;
  /** `verb group/resource @namespace: status` of each one the API server did not refuse with 403. */
  readonly notRefused: readonly string[];
}

/** Sends, with the kubeconfig's credentials, every request of TARGETS × verbs that the grants do not allow. */
export async function probeUngranted(kubeconfigPath: string, grants: readonly Grant[]): Promise<ProbeResult> {
  const http = new KubeHttp(loadKubeConfig(kubeconfigPath));
  const probes = TARGETS.flatMap((t) =>
    (t.resource.includes('/') ? SUBRESOURCE_VERBS : VERBS)
      .filter(
        (verb) => !allows(grants, { verb, group: t.group, resource: t.resource, namespace: t.namespace }),
      )
      .map((verb) => ({ verb, target: t })),
  );
  const answers = await Promise.all(
    probes.map(async ({ verb, target }) => {
      const [method, path, options] = requestFor(verb, target);
      const status = await http.request(method, path, options).then(
        () => 200,
        (error: unknown) => (error instanceof KubeError ? error.status : 0),
      );
      return {
        label: `${verb} ${target.group || 'core'}/${target.resource} @${target.namespace || 'cluster'}`,
        status,
      };
    }),
  );
  http.close();
  return {
    probed: answers.length,
    notRefused: answers.filter((a) => a.status !== 403).map((a) => `${a.label}: ${a.status}`),
  };
}
