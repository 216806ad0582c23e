import { isLeaseFree, type Lease, leaseName } from '../../lib/controller/index.ts';
import { type Kube, paths } from '../../lib/kube/index.ts';
import { DEFAULT_POLICY } from '../../lib/policy/index.ts';

// A policy's Lease lives as long as the policy: an event naming a policy that does not exist (a
// policyRef with a typo, a PullPolicy just deleted) must not create one, and the Lease of a deleted
// policy goes once nobody holds it. `default` is the exception: without a PullPolicy of that name
// the built-in defaults pace the images that name none, under the Lease drop-pace-default.

/** Whether there is nothing to pace under this name: no such PullPolicy, and not the implicit default. */
export async function isPolicyGone(kube: Kube, policy: string): Promise<boolean> {
  if (policy === DEFAULT_POLICY) return false;
  return (await kube.get(paths.pullPolicy(policy))) === undefined;
}

/**
 * Deletes the Lease of a policy that is gone, unless a holder is live on it: that holder deletes it
 * when its window ends. Conditional on the resourceVersion read, so a holder that takes it meanwhile
 * keeps it. Says what it did.
 */
export async function forgetPolicy(
  kube: Kube,
  namespace: string,
  policy: string,
  now: Date,
): Promise<string> {
  const path = paths.lease(namespace, leaseName('pace', policy));
  const lease = await kube.get<Lease>(path);
  if (!lease) return 'it has no Lease';
  if (!isLeaseFree(lease, now)) return `its Lease is held by ${lease.spec?.holderIdentity}, who removes it`;
  const deleted = await kube.delete(path, {
    ...(lease.metadata.resourceVersion ? { resourceVersion: lease.metadata.resourceVersion } : {}),
  });
  return deleted ? 'removed its Lease' : 'its Lease was taken meanwhile';
}
