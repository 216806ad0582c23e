import { Counter, Histogram } from 'prom-client';
import { pullDuration, registry } from './metrics.ts';

// Go Drop's series, under its names and with its labels, so a Go Drop user's dashboards and
// alerts keep working (corewire/drop internal/metrics). The ones that describe what the status
// holds (nodes targeted and cached, consecutive failures, active pulls, discovery results) are
// read from the status at scrape time instead: lib/status-metrics.ts. drop_pull_duration_seconds
// is in lib/metrics.ts. docs/design.md §Metrics says why.

/**
 * Whether the per-node counters carry a `node` label (DROP_METRICS_NODE_LABEL=true; Helm
 * `metrics.nodeLabel`). Go Drop always has it; here it is opt-in: images × nodes series grow with
 * the fleet (1,000 nodes × 50 images is 50,000 series per counter).
 */
export function nodeLabelEnabled(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return env.DROP_METRICS_NODE_LABEL === 'true';
}

// Decided once, when the counters are made: their label names cannot change afterwards.
const withNode = nodeLabelEnabled();
const perNode = withNode ? (['image', 'node'] as const) : (['image'] as const);

export const imagesCachedTotal = new Counter({
  name: 'drop_images_cached_total',
  help: 'Pulls that cached an image on a node, by image (spec.image); with DROP_METRICS_NODE_LABEL=true also by node.',
  labelNames: perNode,
  registers: [registry],
});

export const pullErrorsTotal = new Counter({
  name: 'drop_pull_errors_total',
  help: 'Pulls that failed on a node, by image (spec.image); with DROP_METRICS_NODE_LABEL=true also by node.',
  labelNames: perNode,
  registers: [registry],
});

/** The labels of one pull's counters: the node only when opted in. */
export function pullLabels(image: string, node: string): { image: string; node?: string } {
  return withNode ? { image, node } : { image };
}

export const reconcileTotal = new Counter({
  name: 'drop_reconcile_total',
  help: 'Objects reconciled, by controller (cachedimage, cachedimageset, discoverypolicy, pullpolicy) and result (success, requeue, error).',
  labelNames: ['controller', 'result'] as const,
  registers: [registry],
});

export const discoverySourceLatency = new Histogram({
  name: 'drop_discovery_source_latency_seconds',
  help: 'Time to query one discovery source, by policy and source type (prometheus, registry).',
  labelNames: ['policy', 'source_type'] as const,
  // Go Drop's (Prometheus' default buckets).
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

// Prometheus' rate() and increase() count only what grows between two scrapes: a series that
// appears with its first observations already in it shows none of them. So each series is created
// at zero once per process, as soon as its labels are known and before its first outcome can
// land: an image's when reconcile-image first records nodes to pull, a source's when its first
// sync starts. A pull or query that ends within one scrape interval of that can still be missed;
// docs/design.md §Metrics says what that means for a dashboard.
const begun = new Set<string>();

function once(key: string, create: () => void): void {
  if (begun.has(key)) return;
  begun.add(key);
  create();
}

/** Creates at zero the pull series of an image about to be pulled on `nodes` (once per process). */
export function beginPullSeries(image: string, policy: string, nodes: readonly string[]): void {
  for (const result of ['cached', 'failed'] as const)
    once(`duration ${image} ${policy} ${result}`, () => pullDuration.zero({ image, policy, result }));
  for (const node of withNode ? nodes : ['']) {
    once(`pulls ${image} ${node}`, () => {
      imagesCachedTotal.inc(pullLabels(image, node), 0);
      pullErrorsTotal.inc(pullLabels(image, node), 0);
    });
  }
}

/** Creates at zero a discovery source's latency series before its first query (once per process). */
export function beginSourceSeries(policy: string, sourceType: string): void {
  once(`source ${policy} ${sourceType}`, () =>
    discoverySourceLatency.zero({ policy, source_type: sourceType }),
  );
}
