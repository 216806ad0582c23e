import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One registry for every function in the process (the standalone runner hosts all four). */
export const registry = new Registry();

export const eventsTotal = new Counter({
  name: 'drop_events_total',
  help: 'CloudEvents handled, by function and result (done, ignored, retry, invalid, error).',
  labelNames: ['function', 'result'] as const,
  registers: [registry],
});

export const followedChangesTotal = new Counter({
  name: 'drop_followed_changes_total',
  help: "Changes a function's own watches saw and handled as events while it was up (what its event source does not send), by function and result.",
  labelNames: ['function', 'result'] as const,
  registers: [registry],
});

export const eventDuration = new Histogram({
  name: 'drop_event_duration_seconds',
  help: 'Time to handle one CloudEvent, by function.',
  labelNames: ['function'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const kubeRequestsTotal = new Counter({
  name: 'drop_kube_requests_total',
  help: 'Kubernetes API requests made, by function.',
  labelNames: ['function'] as const,
  registers: [registry],
});

export const discoverySyncsTotal = new Counter({
  name: 'drop_discovery_syncs_total',
  help: 'DiscoveryPolicy syncs, by policy and result (Synced or the failure reason, e.g. Unauthorized).',
  labelNames: ['policy', 'result'] as const,
  registers: [registry],
});

export const discoverySyncDuration = new Histogram({
  name: 'drop_discovery_sync_duration_seconds',
  help: 'Time to sync one DiscoveryPolicy (every source queried and status written), by policy.',
  labelNames: ['policy'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  registers: [registry],
});

export const discoveryImages = new Gauge({
  name: 'drop_discovery_images',
  help: 'Images in a DiscoveryPolicy status after its last sync (a failed sync keeps the last good list).',
  labelNames: ['policy'] as const,
  registers: [registry],
});

// Pacing. Policy names are few and chosen by people; images and nodes never become labels.
const PULL_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

export const pullsInFlight = new Gauge({
  name: 'drop_pulls_in_flight',
  help: 'Pulls in flight under a PullPolicy, as its last pacing round counted them.',
  labelNames: ['policy'] as const,
  registers: [registry],
});

export const pullsStartedTotal = new Counter({
  name: 'drop_pulls_started_total',
  help: 'Pull pods the pacer created, by policy.',
  labelNames: ['policy'] as const,
  registers: [registry],
});

// One of Go Drop's series (lib/go-drop-metrics.ts has the others): Go's label `image` (spec.image),
// and this project's policy and result beside it.
export const pullDuration = new Histogram({
  name: 'drop_pull_duration_seconds',
  help: 'From pull pod creation to its outcome (cached or failed), by image (spec.image), policy and result.',
  labelNames: ['image', 'policy', 'result'] as const,
  buckets: PULL_BUCKETS,
  registers: [registry],
});

export const slotWait = new Histogram({
  name: 'drop_pacing_slot_wait_seconds',
  help: 'How long a node waited for its pull to start (a pacing slot, a delay or a backoff), by policy.',
  labelNames: ['policy'] as const,
  buckets: PULL_BUCKETS,
  registers: [registry],
});

export const paceRoundDuration = new Histogram({
  name: 'drop_pacing_round_seconds',
  help: 'One pacing round: read the policy, its images and the pull pods, decide, create the pods.',
  labelNames: ['policy'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const pullsWithdrawnTotal = new Counter({
  name: 'drop_pulls_withdrawn_total',
  help: 'New pulls withdrawn because another policy put one on the same node at the same moment.',
  labelNames: ['policy'] as const,
  registers: [registry],
});

export const startupTaintsRemovedTotal = new Counter({
  name: 'drop_startup_taints_removed_total',
  help: 'Startup taints reconcile-image removed from nodes, by reason: warm (every marked image cached) or deadline (the timeout passed first).',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const runnerEventsTotal = new Counter({
  name: 'drop_runner_events_total',
  help: 'Changes the standalone runner saw, by function: delivered as a CloudEvent, or coalesced into a later change of the same object.',
  labelNames: ['function', 'outcome'] as const,
  registers: [registry],
});
