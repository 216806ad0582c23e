import {
  type CachedImage,
  type CachedImageStatus,
  type PacingLimitGroup,
  statusWord,
} from '../../lib/api/index.ts';
import type { Occurrence } from '../../lib/controller/index.ts';
import type { Pod } from '../../lib/kube/core.ts';
import { compareText } from '../../lib/order.ts';
import {
  type HostState,
  type ImageDemand,
  type InFlightPull,
  NEW_NODE_WINDOW_MS,
  newNodesOf,
  nextPulls,
  type PacingCursor,
  type WaitingSummary,
} from '../../lib/pacing/index.ts';
import { type PacingLimits, policyOf } from '../../lib/policy/index.ts';
import { CACHED_IMAGE_ANNOTATION, LABEL, pullOutcome, pullPodFor } from '../../lib/pull-pod.ts';
import { placementOf, type StartupTaint } from '../../lib/targets.ts';
import { hostOf } from './hosts.ts';

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
  /** The policy's startupTaint: its pull pods tolerate it (lib/targets.ts placementOf). */
  readonly startupTaint?: StartupTaint;
  /** Every CachedImage (the round picks those governed by `policy`). */
  readonly images: readonly CachedImage[];
  /** Every Drop pull pod in the cluster, any policy. */
  readonly pods: readonly Pod[];
  /** The target nodes of an image now (lib/targets.ts over the nodes the holder watches). */
  readonly targetsOf: (image: CachedImage) => readonly string[];
  /**
   * Nodes whose pull of an image ended and was deleted before its outcome reached the image's
   * status (watches of pods and images deliver in no common order): still busy for that image.
   */
  readonly unrecorded?: (image: string) => ReadonlySet<string>;
  /** When the earliest of those holds ends (epoch ms): a round wakes then, for nothing else may. */
  readonly unrecordedEnds?: number;
  /** When the process first saw a pull pod finished (epoch ms); without it, now. */
  readonly endedAt?: (pod: string) => number;
  /** When a node joined (epoch ms), so a wait is not counted from before it existed. */
  readonly joinedAt?: (node: string) => number | undefined;
  readonly memory: PacerMemory;
  readonly namespace: string;
  readonly now: number;
  /** How far past `now` the round may spread an image's starts (nextPulls' horizonMs). */
  readonly horizonMs?: number;
  /** Nodes this holder leaves alone until the given time (epoch ms), after a collision there. */
  readonly holdOff?: ReadonlyMap<string, number>;
  /** Say why pulls wait (`summary`, for the images' status), or only how many (`wake`, the default). */
  readonly explain?: 'summary' | 'wake';
  /** Registry hosts with a cap or a record (functions/pace/hosts.ts), for every policy alike. */
  readonly hosts?: ReadonlyMap<string, HostState>;
}

export interface PaceRound {
  readonly create: readonly Pod[];
  /** For each pod in `create`: when to create it (epoch ms; `now` for most, later within the horizon). */
  readonly createAt: readonly number[];
  /** For each pod in `create`: how long its node had waited, in seconds (the slot-wait metric). */
  readonly waitedSeconds: readonly number[];
  /** Pulls of this policy in flight once `create` has started. */
  readonly inFlight: number;
  readonly memory: PacerMemory;
  readonly nextWakeAt?: number;
  /** Pending pulls of this policy that did not start. */
  readonly waitingCount: number;
  /** Why they did not, when asked (`summary`): by image and limit, the first few named, for the images' status. */
  readonly waiting: readonly WaitingSummary[];
  /** The nodes served first in this round (joined within the policy's newNodeWindow). */
  readonly newNodes: ReadonlySet<string>;
}

// An image whose status reports a problem with its policy starts nothing: pacing with limits
// nobody chose would be a silent default. Nor does one refused as larger than maxImageSize. The
// STATUS word (the Ready condition's reason) says it: status.phase is Go Drop's coarse phase.
const POLICY_PROBLEMS = new Set(['PolicyNotFound', 'InvalidPolicy', 'ImageTooLarge']);

/** Whether the image has nodes for the pacer: waiting for a pull, or due a garbage-collection probe. */
export function hasPacerWork(image: CachedImage): boolean {
  return (image.status?.nodesWaiting ?? 0) > 0 || (image.status?.probeNodes?.length ?? 0) > 0;
}

/** One pacing round for one policy: which pull pods to create now, and what to remember. */
export function paceRound(input: PaceInput): PaceRound {
  const governed = input.images.filter(
    (i) => policyOf(i) === input.policy && isSettled(i) && !POLICY_PROBLEMS.has(statusWord(i.status)),
  );
  const podsByImage = groupBy(input.pods, (p) => p.metadata.annotations?.[CACHED_IMAGE_ANNOTATION] ?? '');
  // Nodes held off after a collision: busy for every image.
  const held = new Set(
    [...(input.holdOff ?? [])].filter(([, until]) => until > input.now).map(([node]) => node),
  );
  const demands = governed.map((image) =>
    demandOf(image, podsByImage.get(image.metadata.name) ?? [], input, held),
  );
  const ended = governed.some((image) =>
    endedPodBlocks(image, podsByImage.get(image.metadata.name) ?? [], input),
  );
  const inFlight = input.pods.filter(isPulling).map(inFlightOf);
  // Nodes that joined recently are warmed first (lib/pacing/new-nodes.ts): only pending ones matter.
  const pendingNodes = new Set<string>();
  for (const demand of demands) for (const node of demand.pendingNodes) pendingNodes.add(node);
  const window = input.limits.newNodeWindowMs ?? NEW_NODE_WINDOW_MS;
  const newNodes = input.joinedAt
    ? newNodesOf(pendingNodes, input.joinedAt, input.now, window)
    : new Set<string>();
  const decision = nextPulls({
    policy: input.policy,
    limits: input.limits,
    images: demands,
    inFlight,
    cursor: input.memory.cursor,
    now: input.now,
    ...(input.horizonMs ? { horizonMs: input.horizonMs } : {}),
    explain: input.explain ?? 'wake',
    ...(input.hosts ? { hosts: input.hosts } : {}),
    // New nodes come first only when there are others: when every pending node is new (a fleet that
    // just came up), nextPulls would look at each pending pull to find that out.
    ...(newNodes.size > 0 && newNodes.size < pendingNodes.size ? { newNodes } : {}),
  });
  const byName = new Map(governed.map((i) => [i.metadata.name, i]));
  const create = decision.starts.map((start) => podFor(byName.get(start.image)!, start.node, input));
  const waitedSeconds = decision.starts.map((start) => {
    const since = waitingSince(byName.get(start.image)!, start.node, input);
    return since === undefined ? 0 : Math.max(0, (input.now - since) / 1000);
  });
  const lastStart: Record<string, number> = {};
  for (const image of governed) {
    const known = input.memory.lastStart[image.metadata.name];
    if (known !== undefined) lastStart[image.metadata.name] = known;
  }
  for (const start of decision.starts)
    lastStart[start.image] = Math.max(lastStart[start.image] ?? 0, start.at ?? input.now);
  return {
    create,
    createAt: decision.starts.map((start) => start.at ?? input.now),
    waitedSeconds,
    inFlight: inFlight.filter((p) => p.policy === input.policy).length + create.length,
    memory: { cursor: decision.cursor, lastStart },
    ...wakeOf(decision.nextWakeAt, input, ended),
    waitingCount: decision.waitingCount,
    waiting: decision.waitingSummary,
    newNodes,
  };
}

// A node held off, or busy with a pull whose outcome went unrecorded, comes back when that ends:
// wake then, too (no event may come to say so). So does one that a finished pod still holds.
function wakeOf(
  scheduled: number | undefined,
  input: PaceInput,
  endedPodBlocks: boolean,
): { nextWakeAt?: number } {
  const holds = [
    ...(input.holdOff?.values() ?? []),
    input.unrecordedEnds ?? 0,
    endedPodBlocks ? input.now + ENDED_POD_RECHECK_MS : 0,
  ].filter((until) => until > input.now);
  const wake = Math.min(scheduled ?? Number.POSITIVE_INFINITY, ...holds);
  return Number.isFinite(wake) ? { nextWakeAt: wake } : {};
}

// Only a status written for the current spec says which reference to pull and which nodes hold it.
function isSettled(image: CachedImage): boolean {
  return (
    !image.metadata.deletionTimestamp &&
    image.status?.observedGeneration === image.metadata.generation &&
    Boolean(image.status?.reference)
  );
}

/** How soon a round looks again at a node that a finished pull pod still holds. */
export const ENDED_POD_RECHECK_MS = 1_000;
/**
 * For how long after it finished: reconcile-image records an outcome within 5 s and deletes the pod
 * right after, so a pod still there long after is one it cannot delete (down, or refused), and
 * looking every second would only spin; the next ping or event looks again.
 */
export const ENDED_POD_WAIT_MS = 30_000;

/**
 * Whether a node the image needs is held by one of its pods that has finished — its outcome
 * recorded, its delete on the way (a probe that found the image gone leaves its node needed at
 * once). The next pull there takes that pod's name, so it waits for the delete; the view says when
 * a pull ends, not when a finished pod goes, so without a wake the holder would stop serving and
 * the node wait for the next ping.
 */
function endedPodBlocks(image: CachedImage, pods: readonly Pod[], input: PaceInput): boolean {
  const recent = (pod: Pod) =>
    input.now - (input.endedAt?.(pod.metadata.name) ?? input.now) < ENDED_POD_WAIT_MS;
  const ended = new Set(
    pods.filter((pod) => !isPulling(pod) && recent(pod)).map((pod) => pod.spec?.nodeName ?? ''),
  );
  if (ended.size === 0) return false;
  return neededByStatus(image.status!, input.targetsOf(image)).some((node) => ended.has(node));
}

/**
 * The nodes of an image that need a pull now: its targets, less those that hold it (unless a
 * re-pull cycle wants them again), less those busy with a pull of it (a pod, or one whose outcome
 * the status has not recorded yet), less those held off after a collision.
 */
function demandOf(
  image: CachedImage,
  pods: readonly Pod[],
  input: PaceInput,
  held: ReadonlySet<string>,
): ImageDemand {
  const status = image.status!;
  let failures: Record<string, { failures: number; lastFailedAt: number }> | undefined;
  for (const f of status.failedNodes ?? []) {
    failures ??= {};
    // A record written before lastFailedAt existed counts from retryAt: it can only wait longer.
    const failedAt = Date.parse(f.lastFailedAt ?? f.retryAt);
    failures[f.node] = { failures: f.failures, lastFailedAt: Number.isNaN(failedAt) ? 0 : failedAt };
  }
  const podStarts = pods.map((p) => Date.parse(p.metadata.creationTimestamp ?? '') || 0);
  const lastStartAt = Math.max(input.memory.lastStart[image.metadata.name] ?? 0, ...podStarts);
  const needed = neededByStatus(status, input.targetsOf(image));
  const busy = new Set([...held, ...(input.unrecorded?.(image.metadata.name) ?? [])]);
  for (const pod of pods) busy.add(pod.spec?.nodeName ?? '');
  return {
    name: image.metadata.name,
    priority: image.spec?.priority ?? 0,
    pendingNodes: busy.size === 0 ? needed : needed.filter((n) => !busy.has(n)),
    // None, rather than an empty record: the pacer asks for every pending node.
    ...(failures ? { failures } : {}),
    ...(lastStartAt > 0 ? { lastStartAt } : {}),
    host: hostOf(status.reference),
  };
}

// A round runs at each pull's outcome and reads every image's targets; what its status says they
// need changes only when the status or the nodes do. Kept per status object (a watch cache's, until
// the image changes) and target list (lib/targets.ts keeps one while the nodes stay as they are),
// sorted as the pacer walks them: at a thousand nodes × 20 images, most of a round.
const needed = new WeakMap<CachedImageStatus, { targets: readonly string[]; nodes: readonly string[] }>();

/** The targets that hold no copy of the image, or are due a re-pull or a probe, in name order. */
function neededByStatus(status: CachedImageStatus, targets: readonly string[]): readonly string[] {
  const known = needed.get(status);
  if (known?.targets === targets) return known.nodes;
  const cached = setOf(status.cachedNodes);
  const again = setOf(status.repullNodes);
  // Cached nodes due for a garbage-collection probe get a pull pod too (one with imagePullPolicy Never).
  const probe = setOf(status.probeNodes);
  const nodes = targets.filter((n) => !cached.has(n) || again.has(n) || probe.has(n)).sort(compareText);
  needed.set(status, { targets, nodes });
  return nodes;
}

/**
 * Since when a node waited for its pull: the later of when the image stopped being Ready (it
 * started needing pulls), when the node joined, and when its last failure's backoff ended.
 */
function waitingSince(image: CachedImage, node: string, input: PaceInput): number | undefined {
  const ready = image.status?.conditions?.find((c) => c.type === 'Ready' && c.status !== 'True');
  const failure = image.status?.failedNodes?.find((f) => f.node === node);
  const times = [
    Date.parse(ready?.lastTransitionTime ?? ''),
    input.joinedAt?.(node) ?? Number.NaN,
    Date.parse(failure?.retryAt ?? ''),
  ].filter((t) => !Number.isNaN(t));
  return times.length > 0 ? Math.max(...times) : undefined;
}

// A pull holds its slots while the kubelet pulls; once the pod shows an outcome the node's bandwidth
// is free, even before reconcile-image has recorded the outcome and deleted the pod. The pod still
// keeps its (image, node) busy (demandOf), so an unrecorded failure is never retried early.
function isPulling(pod: Pod): boolean {
  return pullOutcome(pod).kind === 'pulling';
}

// Kept per pod object (a watch cache's, until the pod changes): every round reads every pull in flight.
const inFlightPulls = new WeakMap<Pod, InFlightPull>();

function inFlightOf(pod: Pod): InFlightPull {
  let pull = inFlightPulls.get(pod);
  if (pull === undefined) {
    pull = {
      image: pod.metadata.annotations?.[CACHED_IMAGE_ANNOTATION] ?? '',
      node: pod.spec?.nodeName ?? '',
      policy: pod.metadata.labels?.[LABEL.policy] ?? '',
      startedAt: Date.parse(pod.metadata.creationTimestamp ?? '') || 0,
    };
    inFlightPulls.set(pod, pull);
  }
  return pull;
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
    tolerations: placementOf(image.spec, input.startupTaint).tolerations ?? [],
    // A node that holds the image and is due a probe only asks the kubelet whether it still does;
    // a re-pull due there is a pull all the same.
    probe: isProbe(image, node),
  });
}

function isProbe(image: CachedImage, node: string): boolean {
  const status = image.status;
  return (
    setOf(status?.probeNodes).has(node) &&
    setOf(status?.cachedNodes).has(node) &&
    !setOf(status?.repullNodes).has(node)
  );
}

// A round reads every image's records; the same record (a watch cache's array, until the image
// changes) is made a set once: at a thousand nodes that was a good part of a round.
const sets = new WeakMap<readonly string[], ReadonlySet<string>>();

function setOf(names: readonly string[] | undefined): ReadonlySet<string> {
  if (!names) return EMPTY;
  let set = sets.get(names);
  if (!set) {
    set = new Set(names);
    sets.set(names, set);
  }
  return set;
}

const EMPTY: ReadonlySet<string> = new Set();

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** The Kubernetes Events of pulls this round started: one PullStarted per image, counting its nodes. */
export function startedEvents(
  started: readonly Pod[],
  images: readonly CachedImage[],
  newNodes: ReadonlySet<string> = new Set(),
): { readonly image: CachedImage; readonly occurrence: Occurrence }[] {
  const byImage = groupBy(started, (p) => p.metadata.annotations?.[CACHED_IMAGE_ANNOTATION] ?? '');
  return images.flatMap((image) => {
    const pods = byImage.get(image.metadata.name) ?? [];
    const reference = image.status?.reference ?? image.spec?.image ?? image.metadata.name;
    // Pulls on new nodes are told apart: they were served first (lib/pacing/new-nodes.ts).
    const onNew = pods.filter((p) => newNodes.has(p.spec?.nodeName ?? '')).length;
    const kinds = [
      { count: pods.length - onNew, note: `Started pulling ${reference} on a node` },
      { count: onNew, note: `Started pulling ${reference} on a node that just joined (warmed first)` },
    ];
    return kinds
      .filter((k) => k.count > 0)
      .map((k) => ({
        image,
        occurrence: { type: 'Normal', reason: 'PullStarted', action: 'Pull', note: k.note, count: k.count },
      }));
  });
}

/**
 * The Kubernetes Events of pacing limits that began holding an image's nodes (status.pacing before
 * and as this round writes it): one WaitingForSlot per such limit, counting the nodes it holds. A
 * limit that keeps holding nodes says nothing more; the status has its counts.
 */
export function waitingEvents(
  policy: string,
  before: readonly PacingLimitGroup[],
  after: readonly PacingLimitGroup[],
): Occurrence[] {
  const held = new Set(before.map((w) => w.limit));
  return after
    .filter((w) => !held.has(w.limit))
    .map((w) => ({
      type: 'Normal',
      reason: 'WaitingForSlot',
      action: 'Pace',
      note: `Nodes wait for a pacing slot: ${w.limit} of PullPolicy ${policy} holds them`,
      count: w.nodes,
    }));
}
