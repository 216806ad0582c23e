import type { Kube } from '../kube/index.ts';
import type { Credentials } from './credentials.ts';
import type { QueryIo, QueryOutcome } from './io.ts';
import { type EventReason, queryKubeEvents } from './kube-events.ts';
import { queryLoki } from './loki.ts';
import { type Pipeline, type PipelineQuery, signalsOf } from './pipeline.ts';
import { queryPrometheus } from './prometheus.ts';
import { failure } from './reasons.ts';
import { queryRegistry } from './registry.ts';

/** What one query may use: its credentials and the discover function's own API access (Events). */
export interface QueryDeps {
  readonly credentials: Credentials;
  /** Absent in a dry run without a cluster. */
  readonly kube: Kube | undefined;
  readonly io: QueryIo;
}

/** Runs one query of a pipeline. Never throws for what a server answers: every failure is a reason and a message. */
export function runQuery(pipeline: Pipeline, query: PipelineQuery, deps: QueryDeps): Promise<QueryOutcome> {
  switch (query.type) {
    case 'prometheus':
      return queryPrometheus(query.prometheus, deps.credentials, deps.io);
    case 'registry':
      return queryRegistry(query.registry, deps.credentials, deps.io);
    case 'loki':
      return queryLoki(query.loki, deps.credentials, deps.io);
    case 'kubernetesEvents':
      if (!deps.kube)
        return Promise.resolve({
          ok: false,
          failure: failure('ConnectionRefused', 'no Kubernetes API to read Events from (set KUBECONFIG)'),
        });
      return queryKubeEvents(query.kubernetesEvents, deps.kube, eventReasons(pipeline, query.name), deps.io);
  }
}

/** Pulled always; Pulling for eventPair durations; Failed and BackOff for the failure metric. */
export function eventReasons(pipeline: Pipeline, query: string): readonly EventReason[] {
  const reasons = new Set<EventReason>(['Pulled']);
  for (const signal of signalsOf(pipeline, query)) {
    if (signal.eventPullTime?.durationMode === 'eventPair') reasons.add('Pulling');
    if (signal.eventPullTime?.metric === 'failure') {
      reasons.add('Failed');
      reasons.add('BackOff');
    }
  }
  return [...reasons];
}
