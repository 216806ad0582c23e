import { type CachedImageStatus, statusWord } from '../../lib/api/index.ts';
import type { Occurrence } from '../../lib/controller/index.ts';
import { formatDuration } from '../../lib/duration.ts';
import { backoffDelayMs, type FailureBackoff } from '../../lib/policy/index.ts';

// The Kubernetes Events reconcile-image records on a CachedImage (what `kubectl describe
// cachedimage` lists): each pull outcome it records for the first time, and each change of STATUS
// to a word a person must act on. Go Drop's reasons where it has one (PullSucceeded, PullFailed;
// PullStarted is the pacer's). Notes never name a node: repeats of one note become one Event whose
// count grows (lib/controller/event-series.ts), so a thousand nodes make one line, not a thousand —
// the nodes are in the status, which `kubectl describe` prints above the events.

/** STATUS words that need a person, each announced once when the image turns to it. */
const PROBLEMS = new Set([
  'NoTargetNodes',
  'PolicyNotFound',
  'InvalidPolicy',
  'InvalidSpec',
  'InvalidImageName',
  'ImageTooLarge',
]);

/** A pull outcome recorded for the first time (plan.ts's RecordedOutcome). */
export interface RecordedOutcome {
  readonly result: 'cached' | 'failed';
  readonly reason?: string;
  readonly message?: string;
  /** The node's consecutive failures, this one included. */
  readonly failures?: number;
}

export interface ImageChange {
  /** Pulls the registry throttled, recorded in this reconcile (not failures of their nodes). */
  readonly throttled?: readonly { readonly node: string; readonly message: string }[];
  readonly reference: string;
  readonly previous: CachedImageStatus | undefined;
  readonly status: CachedImageStatus;
  readonly recorded: readonly RecordedOutcome[];
  readonly backoff: FailureBackoff;
}

/** The events for what this reconcile recorded: pull outcomes first, then a change of STATUS. */
export function imageEvents(change: ImageChange): Occurrence[] {
  return [
    ...pullEvents(change),
    ...throttleEvents(change),
    ...statusEvents(change),
    ...skipEvents(change),
    ...driftEvents(change),
    ...collectedEvents(change),
  ];
}

/** The kubelet removed the image from nodes (garbage collection): one Warning, counted by node. */
function collectedEvents({ reference, previous, status }: ImageChange): Occurrence[] {
  const known = new Set((previous?.collected ?? []).map((c) => `${c.node} ${c.at}`));
  const fresh = (status.collected ?? []).filter((c) => !known.has(`${c.node} ${c.at}`));
  return [...groupBy(fresh, (c) => c.how)].map(([how, nodes]) => ({
    type: 'Warning',
    reason: 'ImageGarbageCollected',
    action: 'Reconcile',
    note: `The kubelet removed ${reference} (${how === 'Probe' ? 'a probe pod with imagePullPolicy Never found it gone' : "the node's status.images no longer lists it"}): pulling it again, paced`,
    count: nodes.length,
  }));
}

/** The registry's digest for the tag moved (digestCheckInterval): say so, and how many nodes follow. */
function driftEvents({ reference, previous, status }: ImageChange): Occurrence[] {
  const was = previous?.manifest?.reference === reference ? previous.manifest.digest : undefined;
  const now = status.manifest?.reference === reference ? status.manifest.digest : undefined;
  if (!was || !now || was === now) return [];
  const outdated = Number((status.outdated ?? '0/').split('/')[0]) || 0;
  return [
    {
      type: 'Normal',
      reason: 'DigestChanged',
      action: 'Reconcile',
      note: `The registry now names ${now} for ${reference} (was ${was}): re-pulling ${outdated === 1 ? '1 node' : `${outdated} nodes`} that hold another digest`,
    },
  ];
}

/** A registry throttled pulls: one Warning per message, counted; the pause is the pacer's to say. */
function throttleEvents({ reference, throttled }: ImageChange): Occurrence[] {
  return [...groupBy(throttled ?? [], (t) => t.message)].map(([message, pulls]) => ({
    type: 'Warning',
    reason: 'RegistryRateLimited',
    action: 'Pull',
    note: `The registry throttled a pull of ${reference}; Drop pauses new pulls from that registry: ${message}`,
    count: pulls.length,
  }));
}

/**
 * Nodes that begin or stop being skipped (DiskPressure), per reason: a Warning when more are
 * skipped than before, a Normal event when some resume.
 */
function skipEvents({ previous, status }: ImageChange): Occurrence[] {
  const count = (s: CachedImageStatus | undefined) =>
    new Map((s?.skipped ?? []).map((g) => [g.reason, g.nodes] as const));
  const before = count(previous);
  const now = count(status);
  const events: Occurrence[] = [];
  for (const reason of new Set([...before.keys(), ...now.keys()])) {
    const was = before.get(reason) ?? 0;
    const is = now.get(reason) ?? 0;
    const message = status.skipped?.find((g) => g.reason === reason)?.message ?? reason;
    if (is > was)
      events.push({
        type: 'Warning',
        reason: 'NodesSkipped',
        action: 'Reconcile',
        note: `${is === 1 ? '1 node' : `${is} nodes`} skipped: ${reason}: ${message}`,
      });
    else if (is < was)
      events.push({
        type: 'Normal',
        reason: 'NodesResumed',
        action: 'Reconcile',
        note: `${was - is === 1 ? '1 node' : `${was - is} nodes`} no longer ${reason}: pulls there resume`,
      });
  }
  return events;
}

function pullEvents({ reference, recorded, backoff }: ImageChange): Occurrence[] {
  const events: Occurrence[] = [];
  const cached = recorded.filter((p) => p.result === 'cached').length;
  if (cached > 0)
    events.push({
      type: 'Normal',
      reason: 'PullSucceeded',
      action: 'Pull',
      note: `Cached ${reference} on a node`,
      count: cached,
    });
  for (const [note, pulls] of groupBy(
    recorded.filter((p) => p.result === 'failed'),
    failureNote(reference),
  ))
    events.push({ type: 'Warning', reason: 'PullFailed', action: 'Pull', note, count: pulls.length });
  for (const [note, pulls] of groupBy(
    recorded.filter((p) => p.result === 'failed'),
    backoffNote(backoff),
  ))
    events.push({ type: 'Normal', reason: 'BackOff', action: 'Pull', note, count: pulls.length });
  return events;
}

function statusEvents({ reference, previous, status }: ImageChange): Occurrence[] {
  const word = statusWord(status);
  if (word === statusWord(previous)) return secretEvents(previous, status);
  const events = secretEvents(previous, status);
  if (word === 'Cached')
    events.push({
      type: 'Normal',
      reason: 'Cached',
      action: 'Pull',
      note: `${reference} is cached on every target node (${status.ready})`,
    });
  if (PROBLEMS.has(word))
    events.push({ type: 'Warning', reason: word, action: 'Reconcile', note: status.message ?? word });
  return events;
}

/** A pull Secret that went missing: pulls that need it fail as unauthorized, so say so at once. */
function secretEvents(previous: CachedImageStatus | undefined, status: CachedImageStatus): Occurrence[] {
  const missing = (s: CachedImageStatus | undefined) =>
    s?.conditions?.find((c) => c.type === 'PullSecretsFound' && c.status === 'False');
  const now = missing(status);
  if (!now || missing(previous)?.message === now.message) return [];
  return [
    {
      type: 'Warning',
      reason: 'PullSecretNotFound',
      action: 'Reconcile',
      note: `imagePullSecrets ${now.message}`,
    },
  ];
}

function failureNote(reference: string): (pull: RecordedOutcome) => string {
  return (pull) => `${pull.reason ?? 'Failed'} pulling ${reference}: ${pull.message ?? ''}`.trimEnd();
}

function backoffNote(backoff: FailureBackoff): (pull: RecordedOutcome) => string {
  return (pull) =>
    `Next attempt on that node in ${formatDuration(backoffDelayMs(pull.failures ?? 1, backoff))} (failureBackoff: ${formatDuration(backoff.initialMs)}, doubling up to ${formatDuration(backoff.maxMs)})`;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
