import type { CachedImage, WaitingNode } from '../../lib/api/index.ts';
import type { Occurrence } from '../../lib/controller/index.ts';
import type { Pod } from '../../lib/kube/core.ts';
import {
  type ImageDemand,
  type InFlightPull,
  nextPulls,
  type PacingCursor,
  type WaitingPull,
} from '../../lib/pacing/index.ts';
import { type PacingLimits, policyOf } from '../../lib/policy/index.ts';
import { CACHED_IMAGE_ANNOTATION, LABEL, pullOutcome, pullPodFor } from '../../lib/pull-pod.ts';

/** What a holder keeps in its policy's Lease between rounds. */
export interface PacerMemory {
  readonly cursor: PacingCursor;
  /** Last pull start per CachedImage, epoch ms: finished pods are deleted, so this is the only record. */
  readonly lastStart: Readonly<Record<string, number>>;
}

export const EMPTY_MEMORY: PacerMemory = { cursor: {}, lastStart: {} };

export interface PaceInput {
  readonly policy: string;
  readonly limits: PacingLimits;
  /** Every CachedImage (the round picks those governed by `policy`). */
  readonly images: readonly CachedImage[];
  /** Every Drop pull pod in the cluster, any policy. */
  readonly pods: readonly Pod[];
  readonly memory: PacerMemory;
  readonly namespace: string;
  readonly now: number;
  /** Nodes this holder leaves alone until the given time (epoch ms), after a collision there. */
  readonly holdOff?: ReadonlyMap<string, number>;
}

export interface PaceRound {
  readonly create: readonly Pod[];
  /** For each pod in `create`: how long its node had waited, in seconds (the slot-wait metric). */
  readonly waitedSeconds: readonly number[];
  /** Pulls of this policy in flight once `create` has started. */
  readonly inFlight: number;
  readonly memory: PacerMemory;
  readonly nextWakeAt?: number;
  /** Why each pending (image, node) of this policy did not start: written into the image's status. */
  readonly waiting: readonly WaitingPull[];
}

/** One pacing round for one policy: which pull pods to create now, and what to remember. */
export function paceRound(input: PaceInput): PaceRound {
  const governed = input.images.filter((i) => policyOf(i) === input.policy && isSettled(i));
  const podsByImage = groupBy(input.pods, (p) => p.metadata.annotations?.[CACHED_IMAGE_ANNOTATION] ?? '');
  const demands = governed.map((image) => demandOf(image, podsByImage.get(image.metadata.name) ?? [], input));
  const inFlight = input.pods.filter(isPulling).map(inFlightOf);
  const decision = nextPulls({
    policy: input.policy,
    limits: input.limits,
    images: demands,
    inFlight,
    cursor: input.memory.cursor,
    now: input.now,
  });
  const byName = new Map(governed.map((i) => [i.metadata.name, i]));
  const create = decision.starts.map((start) => podFor(byName.get(start.image)!, start.node, input));
  const waitedSeconds = decision.starts.map((start) => {
    const since = byName.get(start.image)?.status?.waitingNodes?.find((w) => w.node === start.node)?.since;
    const from = since ? Date.parse(since) : Number.NaN;
    return Number.isNaN(from) ? 0 : Math.max(0, (input.now - from) / 1000);
  });
  const lastStart: Record<string, number> = {};
  for (const image of governed) {
    const known = input.memory.lastStart[image.metadata.name];
    if (known !== undefined) lastStart[image.metadata.name] = known;
  }
  for (const start of decision.starts) lastStart[start.image] = input.now;
  return {
    create,
    waitedSeconds,
    inFlight: inFlight.filter((p) => p.policy === input.policy).length + create.length,
    memory: { cursor: decision.cursor, lastStart },
    ...wakeOf(decision.nextWakeAt, input),
    waiting: decision.waiting,
  };
}

// A node held off comes back when its hold ends: wake then, too.
function wakeOf(scheduled: number | undefined, input: PaceInput): { nextWakeAt?: number } {
  const holds = [...(input.holdOff?.values() ?? [])].filter((until) => until > input.now);
  const wake = Math.min(scheduled ?? Number.POSITIVE_INFINITY, ...holds);
  return Number.isFinite(wake) ? { nextWakeAt: wake } : {};
}

// Only a status written for the current spec says which reference to pull and which nodes wait.
function isSettled(image: CachedImage): boolean {
  return (
    !image.metadata.deletionTimestamp &&
    image.status?.observedGeneration === image.metadata.generation &&
    Boolean(image.status?.reference)
  );
}

function demandOf(image: CachedImage, pods: readonly Pod[], input: PaceInput): ImageDemand {
  const status = image.status!;
  const busy = new Set(pods.map((p) => p.spec?.nodeName ?? ''));
  const failures: Record<string, { failures: number; lastFailedAt: number }> = {};
  for (const f of status.failedNodes ?? []) {
    // A record written before lastFailedAt existed counts from retryAt: it can only wait longer.
    const failedAt = Date.parse(f.lastFailedAt ?? f.retryAt);
    failures[f.node] = { failures: f.failures, lastFailedAt: Number.isNaN(failedAt) ? 0 : failedAt };
  }
  const podStarts = pods.map((p) => Date.parse(p.metadata.creationTimestamp ?? '') || 0);
  const lastStartAt = Math.max(input.memory.lastStart[image.metadata.name] ?? 0, ...podStarts);
  return {
    name: image.metadata.name,
    priority: image.spec?.priority ?? 0,
    pendingNodes: (status.waitingNodes ?? [])
      .map((w) => w.node)
      .filter((n) => !busy.has(n) && !((input.holdOff?.get(n) ?? 0) > input.now)),
    failures,
    ...(lastStartAt > 0 ? { lastStartAt } : {}),
  };
}

// A pull holds its slots while the kubelet pulls; once the pod shows an outcome the node's bandwidth
// is free, even before reconcile-image has recorded the outcome and deleted the pod. The pod still
// keeps its (image, node) busy (demandOf), so an unrecorded failure is never retried early.
function isPulling(pod: Pod): boolean {
  return pullOutcome(pod).kind === 'pulling';
}

function inFlightOf(pod: Pod): InFlightPull {
  return {
    image: pod.metadata.annotations?.[CACHED_IMAGE_ANNOTATION] ?? '',
    node: pod.spec?.nodeName ?? '',
    policy: pod.metadata.labels?.[LABEL.policy] ?? '',
    startedAt: Date.parse(pod.metadata.creationTimestamp ?? '') || 0,
  };
}

function podFor(image: CachedImage, node: string, input: PaceInput): Pod {
  return pullPodFor({
    cachedImage: image.metadata.name,
    reference: image.status!.reference!,
    node,
    namespace: input.namespace,
    policy: input.policy,
    imagePullPolicy: image.spec?.imagePullPolicy ?? 'Always',
    imagePullSecrets: (image.spec?.imagePullSecrets ?? []).map((s) => s.name),
    tolerations: image.spec?.tolerations ?? [],
  });
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    groups.set(k, [...(groups.get(k) ?? []), item]);
  }
  return groups;
}

/** The Kubernetes Events of pulls this round started: one PullStarted per image, counting its nodes. */
export function startedEvents(
  started: readonly Pod[],
  images: readonly CachedImage[],
): { readonly image: CachedImage; readonly occurrence: Occurrence }[] {
  const byImage = groupBy(started, (p) => p.metadata.annotations?.[CACHED_IMAGE_ANNOTATION] ?? '');
  return images.flatMap((image) => {
    const pods = byImage.get(image.metadata.name) ?? [];
    if (pods.length === 0) return [];
    const reference = image.status?.reference ?? image.spec?.image ?? image.metadata.name;
    const occurrence: Occurrence = {
      type: 'Normal',
      reason: 'PullStarted',
      action: 'Pull',
      note: `Started pulling ${reference} on a node`,
      count: pods.length,
    };
    return [{ image, occurrence }];
  });
}

/**
 * The Kubernetes Events of nodes whose pacing limit just changed (the waiting reasons this round
 * writes): one WaitingForSlot per limit, counting the nodes it now holds.
 */
export function waitingEvents(
  policy: string,
  before: readonly WaitingNode[],
  after: readonly WaitingNode[],
): Occurrence[] {
  const was = new Map(before.map((w) => [w.node, w.limit]));
  const newlyHeld = after.filter((w) => w.limit && w.limit !== was.get(w.node));
  return [...groupBy(newlyHeld, (w) => w.limit ?? '')].map(([limit, nodes]) => ({
    type: 'Normal',
    reason: 'WaitingForSlot',
    action: 'Pace',
    note: `Nodes wait for a pacing slot: ${limit} of PullPolicy ${policy} holds them`,
    count: nodes.length,
  }));
}
