import type { KubernetesEventsQuery } from '../api/index.ts';
import { parseDuration } from '../duration.ts';
import { type Kube, KubeError, type KubeObject, paths } from '../kube/index.ts';
import type { QueryIo, QueryOutcome } from './io.ts';
import { type RawPullEvent, readPullMessage } from './pull-events.ts';
import { describePulls, observePulls } from './pull-observations.ts';
import { failure } from './reasons.ts';

/** A core/v1 Event, as far as discovery reads it. */
export interface KubeEvent extends KubeObject {
  readonly involvedObject?: { readonly kind?: string; readonly name?: string; readonly namespace?: string };
  readonly reason?: string;
  readonly message?: string;
  readonly count?: number;
  readonly firstTimestamp?: string | null;
  readonly lastTimestamp?: string | null;
  readonly eventTime?: string | null;
  readonly series?: { readonly lastObservedTime?: string; readonly count?: number };
}

// The recorder folds repeats of one message into one Event with a count ("already present" on
// every pod start); each repeat is an observation, up to a bound that keeps one Event from
// dominating a statistic by itself.
const MAX_REPEATS = 100;

/**
 * The pull events among `events`: pods only, in `namespace` and matching `podNamePattern` when
 * given, no older than `lookback` before `now`.
 */
export function kubePullEvents(
  events: readonly KubeEvent[],
  query: KubernetesEventsQuery,
  now: Date,
): RawPullEvent[] {
  const pods = query.podNamePattern !== undefined ? new RegExp(query.podNamePattern) : undefined;
  const lookback = query.lookback !== undefined ? parseDuration(query.lookback) : undefined;
  const from = lookback === undefined ? Number.NEGATIVE_INFINITY : (now.getTime() - lookback) / 1000;
  const found: RawPullEvent[] = [];
  for (const event of events) {
    const object = event.involvedObject;
    if (object?.kind !== 'Pod' || !object.name) continue;
    if (query.namespace !== undefined && object.namespace !== query.namespace) continue;
    if (pods && !pods.test(object.name)) continue;
    const at =
      Date.parse(
        event.lastTimestamp ??
          event.eventTime ??
          event.series?.lastObservedTime ??
          event.metadata.creationTimestamp ??
          '',
      ) / 1000;
    if (!Number.isFinite(at) || at < from) continue;
    const message = readPullMessage(event.reason, event.message ?? '');
    if (!message) continue;
    const repeats = Math.min(MAX_REPEATS, Math.max(1, event.series?.count ?? event.count ?? 1));
    for (let i = 0; i < repeats; i++) found.push({ at, pod: `${object.namespace}/${object.name}`, message });
  }
  return found;
}

/** Reasons whose events a query needs: Pulled always; Pulling and Failed only when a signal asks. */
export type EventReason = 'Pulled' | 'Pulling' | 'Failed' | 'BackOff';

/**
 * Runs a kubernetesEvents query: lists the Events of each reason with a field selector (the API
 * server keeps them for its --event-ttl, 1 h by default) and reads the kubelet's messages.
 */
export async function queryKubeEvents(
  query: KubernetesEventsQuery,
  kube: Kube,
  reasons: readonly EventReason[],
  io: QueryIo,
): Promise<QueryOutcome> {
  const path = query.namespace !== undefined ? paths.events(query.namespace) : paths.allEvents();
  const listed: KubeEvent[] = [];
  try {
    for (const reason of reasons) {
      io.countRequest?.();
      const page = await kube.list<KubeEvent>(path, {
        fieldSelector: `involvedObject.kind=Pod,reason=${reason}`,
      });
      listed.push(...page.items);
    }
  } catch (error) {
    if (!(error instanceof KubeError)) throw error;
    const reason =
      error.kind === 'forbidden' ? 'Forbidden' : error.kind === 'timeout' ? 'Timeout' : 'ConnectionRefused';
    return {
      ok: false,
      failure: failure(reason, `listing Events (${reasons.join(', ')}) failed: ${error.message}`),
    };
  }
  const observed = observePulls(kubePullEvents(listed, query, io.now));
  return { ok: true, data: observed.data, summary: describePulls(observed, listed.length) };
}
