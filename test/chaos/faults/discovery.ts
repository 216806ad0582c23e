// Fault 8: a DiscoveryPolicy whose source hangs, one answering garbage, one answering 1 GiB. Each
// must end in a failed query result that says why, without holding the sync of the workload's own
// DiscoveryPolicy, and Drop must not hold the gigabyte.
import { paths } from '../../../lib/kube/index.ts';
import type { ChaosEnv } from '../env.ts';
import type { Fault } from '../fault.ts';
import { seconds, until } from '../fault.ts';
import type { BadSource } from '../proxies/bad-sources.ts';
import { DISCOVERY_POLICY } from '../workload.ts';

interface Policy {
  readonly metadata: { readonly generation?: number };
  readonly spec?: { readonly maxImages?: number };
  readonly status?: { readonly observedGeneration?: number };
}

interface QueryResult {
  readonly status?: string;
  readonly reason?: string;
  readonly message?: string;
}

function resultsOf(env: ChaosEnv, name: string): readonly QueryResult[] | undefined {
  const policy = env.watcher.discoveryPolicies.get(name) as
    | { status?: { queryResults?: QueryResult[] } }
    | undefined;
  return policy?.status?.queryResults;
}

function discoveryFault(kind: BadSource, title: string): Fault {
  return {
    name: `source-${kind}`,
    title,
    shape: 'replicas',
    convergeWithinMs: 180_000,
    async run(env) {
      const name = `chaos-bad-${kind}`;
      const created = Date.now();
      await env.kube.create(paths.discoveryPolicies(), {
        apiVersion: 'drop.corewire.io/v1alpha1',
        kind: 'DiscoveryPolicy',
        metadata: { name },
        spec: {
          syncInterval: '1m',
          sources: [
            {
              type: 'prometheus',
              prometheus: { endpoint: env.badSources.url(kind), query: 'sum by (image) (up)' },
            },
          ],
        },
      } as never);
      // While it misbehaves, the workload's own policy changes (a spec change makes it due at
      // once): it must sync on its event, not wait behind the bad source.
      const good = env.watcher.discoveryPolicies.get(DISCOVERY_POLICY) as Policy | undefined;
      const maxImages = good?.spec?.maxImages === 3 ? 4 : 3;
      const changed = Date.now();
      await env.kube.mergePatch(paths.discoveryPolicy(DISCOVERY_POLICY), { spec: { maxImages } });
      const synced = await until(
        () => {
          const now = env.watcher.discoveryPolicies.get(DISCOVERY_POLICY) as Policy | undefined;
          const results = resultsOf(env, DISCOVERY_POLICY) ?? [];
          return now?.spec?.maxImages === maxImages &&
            now.status?.observedGeneration === now.metadata.generation &&
            results.length > 0 &&
            results.every((r) => r.status === 'success')
            ? Date.now() - changed
            : undefined;
        },
        150_000,
        `${DISCOVERY_POLICY} to sync its change beside ${name}`,
      );
      const failed = await until(
        () => resultsOf(env, name)?.find((r) => r.status === 'failed'),
        180_000,
        `${name} to record a failed query`,
      );
      const took = Date.now() - created;
      await env.kube.delete(paths.discoveryPolicy(name));
      const huge =
        kind === 'huge'
          ? `; ${Math.round(env.badSources.hugeBytesSent() / 1024 / 1024)} MiB of the 1 GiB were read`
          : '';
      return `failed in ${seconds(took)}: ${failed.reason ?? ''} “${(failed.message ?? '').slice(0, 90)}”; meanwhile ${DISCOVERY_POLICY} synced a change in ${seconds(synced)}${huge}`;
    },
  };
}

export const sourceHangs = discoveryFault('hang', 'a discovery source that never answers');
export const sourceGarbage = discoveryFault('garbage', 'a discovery source answering garbage');
export const sourceHuge = discoveryFault('huge', 'a discovery source answering 1 GiB');
