import { type Kube, type KubeObject, paths } from '../../lib/kube/index.ts';

// Whether reconcile-image may patch nodes, which only the opt-in role drop-startup-taint grants
// (config/startup-taint/; docs/design.md §Startup taint).

/** How long an answer to "may I patch nodes?" is believed: installing the role takes effect within it. */
const PERMISSION_TTL_MS = 60_000;

interface AccessReview extends KubeObject {
  readonly spec: { readonly resourceAttributes: { readonly verb: string; readonly resource: string } };
  readonly status?: { readonly allowed?: boolean };
}

const permissions = new WeakMap<object, { readonly allowed: boolean; readonly at: number }>();

/**
 * Whether this process may patch nodes, asked with a SelfSubjectAccessReview (which every
 * authenticated user may create) at most once a minute: without the opt-in role Drop never tries
 * the patch, and the marked images' status says which role to install.
 */
export async function canPatchNodes(kube: Kube, now: Date): Promise<boolean> {
  const known = permissions.get(kube.transport);
  if (known && now.getTime() - known.at < PERMISSION_TTL_MS) return known.allowed;
  const review = await kube.create<AccessReview>(paths.selfSubjectAccessReviews(), {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    metadata: { name: '' },
    spec: { resourceAttributes: { verb: 'patch', resource: 'nodes' } },
  });
  const allowed = review?.status?.allowed === true;
  permissions.set(kube.transport, { allowed, at: now.getTime() });
  return allowed;
}

/** After a 403 on a patch: the role is gone, whatever the last review said. */
export function forgetNodePermission(kube: Kube, now: Date) {
  permissions.set(kube.transport, { allowed: false, at: now.getTime() });
}
