import { createHash } from 'node:crypto';
import { microTime } from './lease-holder.ts';

// Kubernetes Events (events.k8s.io/v1) in series, as client-go's event recorder keeps them
// (k8s.io/client-go/tools/events, eventBroadcasterImpl.recordToSink): an event that repeats is one
// Event object whose series.count and series.lastObservedTime move, not a new object. client-go
// keeps the series in one process's memory; Drop's functions are many short-lived processes, so
// the API server is the memory: an Event's name is a hash of what makes two events "the same"
// (client-go's key: regarding, type, reason, action, reporting controller, plus the note, which
// events.k8s.io/v1 never lets an update change), and every replica counts into that one object.
// docs/design.md §Events on objects.

/** What a person debugging an object should see happen to it: one line of `kubectl describe`. */
export interface Occurrence {
  readonly type: 'Normal' | 'Warning';
  /** CamelCase, e.g. PullSucceeded (the Reason column). */
  readonly reason: string;
  /** What was done or tried, e.g. Pull. */
  readonly action: string;
  /** The message; the same for every occurrence of a series (the API server refuses to change it). */
  readonly note: string;
  /** Identical occurrences at once (default 1), e.g. three nodes that finished in one reconcile. */
  readonly count?: number;
}

/** The object an event is about (core/v1 ObjectReference; kubectl describe finds events by uid). */
export interface Regarding {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly namespace?: string;
}

export interface KubeEvent {
  readonly apiVersion: 'events.k8s.io/v1';
  readonly kind: 'Event';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly resourceVersion?: string };
  readonly eventTime: string;
  readonly series?: { readonly count: number; readonly lastObservedTime: string };
  readonly reportingController: string;
  readonly reportingInstance: string;
  readonly action: string;
  readonly reason: string;
  readonly regarding: Regarding;
  readonly note: string;
  readonly type: 'Normal' | 'Warning';
}

/**
 * Where an event about this object lives. The API server accepts an events.k8s.io event about a
 * cluster-scoped object only in `default` or `kube-system` (core validation, legacyValidateEvent),
 * and client-go's recorder picks `default`; kubectl describe of a cluster-scoped object searches
 * every namespace, so it finds them there.
 */
export function eventNamespace(regarding: Regarding): string {
  return regarding.namespace || 'default';
}

// The API server caps a note at 1 kB (NoteLengthLimit).
const NOTE_LIMIT = 1024;

/** The note as the API server takes it. */
export function noteOf(text: string): string {
  return text.length <= NOTE_LIMIT ? text : `${text.slice(0, NOTE_LIMIT - 1)}…`;
}

/** The Event's name: the object's name and a hash of what makes two occurrences one series. */
export function eventName(regarding: Regarding, occurrence: Occurrence, controller: string): string {
  const key = [
    regarding.uid,
    occurrence.type,
    occurrence.reason,
    occurrence.action,
    controller,
    noteOf(occurrence.note),
  ].join('\n');
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  // A DNS subdomain of at most 253 characters; the hash keeps it unique when the name is cut.
  return `${regarding.name.slice(0, 253 - hash.length - 1).replace(/[.-]+$/, '')}.${hash}`;
}

/** A new Event for `occurrence`, already a series if it happened more than once. */
export function newEvent(
  regarding: Regarding,
  occurrence: Occurrence,
  reporter: { readonly controller: string; readonly instance: string },
  now: Date,
): KubeEvent {
  const count = occurrence.count ?? 1;
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: {
      name: eventName(regarding, occurrence, reporter.controller),
      namespace: eventNamespace(regarding),
    },
    eventTime: microTime(now),
    ...(count > 1 ? { series: { count, lastObservedTime: microTime(now) } } : {}),
    reportingController: reporter.controller,
    reportingInstance: reporter.instance,
    action: occurrence.action,
    reason: occurrence.reason,
    regarding,
    note: noteOf(occurrence.note),
    type: occurrence.type,
  };
}

/**
 * The merge patch that adds `count` occurrences to an existing Event: its series, started at 2 as
 * client-go starts it (a single Event is the first occurrence), with the resourceVersion it was
 * read at, so two replicas counting at once make a 409, never a lost count.
 */
export function seriesPatch(
  existing: { readonly resourceVersion: string; readonly count: number },
  count: number,
  now: Date,
): { metadata: { resourceVersion: string }; series: { count: number; lastObservedTime: string } } {
  return {
    metadata: { resourceVersion: existing.resourceVersion },
    series: { count: existing.count + count, lastObservedTime: microTime(now) },
  };
}

/** How many occurrences an Event holds: its series count, or 1 for a single event. */
export function occurrencesOf(event: Pick<KubeEvent, 'series'>): number {
  return event.series?.count ?? 1;
}
