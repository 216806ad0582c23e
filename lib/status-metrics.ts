import { Gauge } from 'prom-client';
import type { CachedImage, DiscoveryPolicy } from './api/index.ts';
import { displayUrl } from './discovery/reasons.ts';
import { type Kube, paths } from './kube/index.ts';
import type { Logger } from './log.ts';
import { registry } from './metrics.ts';

// Go Drop's gauges of what the status holds, read from the status when Prometheus scrapes: a
// function that scaled to zero, or a replica that never saw an image, would otherwise export
// nothing or something stale, and a dashboard summing replicas would double-count. Every process
// that exports them (pace, up whenever it paces and at every ping, and the standalone runner)
// exports the same truth.
// docs/design.md §Metrics.

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The figures of every gauge, from the objects' status. */
export interface StatusFigures {
  readonly nodesTargeted: readonly Sample[];
  readonly nodesCached: readonly Sample[];
  readonly consecutiveFailures: readonly Sample[];
  readonly activePulls: number;
  readonly discoveryImagesFound: readonly Sample[];
  readonly discoverySourceHealth: readonly Sample[];
}

/** What the status of every CachedImage and DiscoveryPolicy says, as Go Drop's gauges. */
export function statusFigures(
  images: readonly CachedImage[],
  policies: readonly DiscoveryPolicy[],
): StatusFigures {
  const each = (f: (i: CachedImage) => number) =>
    images.map((i) => ({ labels: { cachedimage: i.metadata.name }, value: f(i) }));
  return {
    nodesTargeted: each((i) => i.status?.nodesTargeted ?? 0),
    nodesCached: each((i) => i.status?.nodesReady ?? 0),
    // Go counts failures per image; here each node has its own: the worst node speaks for the image.
    consecutiveFailures: images.map((i) => ({
      labels: { cachedimage: i.metadata.name, image: i.spec?.image ?? '' },
      value: Math.max(0, ...(i.status?.failedNodes ?? []).map((f) => f.failures)),
    })),
    activePulls: images.reduce((sum, i) => sum + (i.status?.nodesPulling ?? 0), 0),
    ...discoveryFigures(policies),
  };
}

function discoveryFigures(
  policies: readonly DiscoveryPolicy[],
): Pick<StatusFigures, 'discoveryImagesFound' | 'discoverySourceHealth'> {
  const found = new Map<string, Sample>();
  const health: Sample[] = [];
  for (const policy of policies) {
    const name = policy.metadata.name;
    for (const result of policy.status?.queryResults ?? []) {
      const key = `${name}\n${result.type}`;
      const before = found.get(key)?.value ?? 0;
      found.set(key, {
        labels: { policy: name, source_type: result.type },
        value: before + (result.images ?? 0),
      });
      const endpoint = endpointOf(policy, result.name);
      health.push({
        labels: { policy: name, source_type: result.type, endpoint: endpoint && displayUrl(endpoint) },
        value: result.status === 'success' ? 1 : 0,
      });
    }
  }
  return { discoveryImagesFound: [...found.values()], discoverySourceHealth: health };
}

/** Where a query (or `source-<n>`, spec.sources[n]) asks; '' for the Kubernetes Events API. */
function endpointOf(policy: DiscoveryPolicy, query: string): string {
  const spec = policy.spec;
  const legacy = /^source-(\d+)$/.exec(query);
  const source = legacy ? spec?.sources?.[Number(legacy[1])] : undefined;
  if (source) return source.prometheus?.endpoint ?? source.registry?.url ?? '';
  const named = spec?.queries?.find((q) => q.name === query);
  return named?.prometheus?.endpoint ?? named?.registry?.url ?? named?.loki?.endpoint ?? '';
}

/** How long one read of the status serves scrapes: every gauge of a scrape shares it. */
const READ_TTL_MS = 5_000;

function gauge(
  name: string,
  help: string,
  labelNames: readonly string[],
  figures: () => Promise<readonly Sample[]>,
) {
  return new Gauge({
    name,
    help,
    labelNames,
    registers: [],
    async collect() {
      const samples = await figures();
      this.reset();
      for (const s of samples) this.set(s.labels, s.value);
    },
  });
}

/**
 * Adds Go Drop's status gauges to /metrics of this process, read from the API (one list of
 * CachedImages and of DiscoveryPolicies per scrape, from the watch cache). If the API cannot be
 * read, a scrape shows the last figures read rather than failing.
 */
export function exportStatusMetrics(kube: Kube, log?: Logger): void {
  if (registry.getSingleMetric('drop_nodes_targeted')) return;
  let read: { at: number; figures: Promise<StatusFigures> } | undefined;
  let last: StatusFigures = statusFigures([], []);
  const current = (): Promise<StatusFigures> => {
    if (read && Date.now() - read.at < READ_TTL_MS) return read.figures;
    const figures = Promise.all([
      kube.list<CachedImage>(paths.cachedImages(), { resourceVersion: '0' }),
      kube.list<DiscoveryPolicy>(paths.discoveryPolicies(), { resourceVersion: '0' }),
    ]).then(
      ([images, policies]) => {
        last = statusFigures(images.items, policies.items);
        return last;
      },
      (error: unknown) => {
        log?.warn('status metrics: could not read the status; showing the last figures', {
          error: String(error),
        });
        return last;
      },
    );
    read = { at: Date.now(), figures };
    return figures;
  };
  const of = (pick: (f: StatusFigures) => readonly Sample[]) => async () => pick(await current());
  const gauges = [
    gauge(
      'drop_nodes_targeted',
      'Nodes a CachedImage targets (status.nodesTargeted).',
      ['cachedimage'],
      of((f) => f.nodesTargeted),
    ),
    gauge(
      'drop_nodes_cached',
      'Target nodes that hold the image (status.nodesReady).',
      ['cachedimage'],
      of((f) => f.nodesCached),
    ),
    gauge(
      'drop_consecutive_failures',
      'Consecutive failed pulls of a CachedImage on its worst node (status.failedNodes[].failures).',
      ['cachedimage', 'image'],
      of((f) => f.consecutiveFailures),
    ),
    gauge(
      'drop_active_pulls',
      'Pulls in flight across every CachedImage (sum of status.nodesPulling).',
      [],
      async () => [{ labels: {}, value: (await current()).activePulls }],
    ),
    gauge(
      'drop_discovery_images_found',
      'Images a DiscoveryPolicy found in its last sync, by source type (status.sources[].images).',
      ['policy', 'source_type'],
      of((f) => f.discoveryImagesFound),
    ),
    gauge(
      'drop_discovery_source_health',
      'Whether a discovery source answered its last sync (1) or failed (0), by policy, source type and endpoint.',
      ['policy', 'source_type', 'endpoint'],
      of((f) => f.discoverySourceHealth),
    ),
  ];
  for (const g of gauges) registry.registerMetric(g);
}
