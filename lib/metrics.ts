import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One registry for every function in the process (the standalone runner hosts all four). */
export const registry = new Registry();

export const eventsTotal = new Counter({
  name: 'drop_events_total',
  help: 'CloudEvents handled, by function and result (done, ignored, retry, invalid, error).',
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
