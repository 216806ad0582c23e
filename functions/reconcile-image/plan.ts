import { type Condition, setCondition } from '../../lib/conditions.ts';
import type { Pod } from '../../lib/kube/core.ts';
import { backoffDelayMs } from '../../lib/pacing/index.ts';
import { LABEL, pullOutcome, REFERENCE_ANNOTATION } from '../../lib/pull-pod.ts';
import type { Placement } from '../../lib/targets.ts';
import { type RepullRound, repullRound } from './repull.ts';
import { conditionsOf, messageOf, phaseOf, waitingEntry } from './status-text.ts';

export interface FailedNode {
  readonly node: string;
  readonly reason: string;
  readonly message: string;
  readonly failures: number;
  readonly retryAt: string;
  readonly lastPod?: string;
}

export interface WaitingNode {
  readonly node: string;
  readonly reason: string;
  readonly message: string;
  readonly retryAt?: string;
  /** When the node started waiting (for a first pull, a retry or a re-pull). */
  readonly since?: string;
}

/** The status reconcile-image owns (shape defined in lib/api). */
export interface ImageStatus {
  readonly phase: string;
  readonly ready: string;
  readonly message: string;
  readonly reference?: string;
  readonly nodesTargeted: number;
  readonly nodesReady: number;
  readonly nodesPulling: number;
  readonly nodesWaiting: number;
  readonly cachedNodes: readonly string[];
  readonly pullingNodes: readonly string[];
  readonly failedNodes: readonly FailedNode[];
  readonly waitingNodes?: readonly WaitingNode[];
  readonly resolvedDigest?: string;
  readonly lastPulledAt?: string;
  readonly repullNodes?: readonly string[];
  readonly lastRepullAt?: string;
  readonly nextRepullAt?: string;
  readonly conditions: readonly Condition[];
  readonly observedGeneration: number;
}

export type ImageSpecView =
  | {
      readonly ok: true;
      readonly reference: string;
      readonly digest?: string;
      readonly placement: Placement;
      /** A re-pull can bring something new: a tag (not a digest) pulled with imagePullPolicy Always. */
      readonly repullable: boolean;
    }
  | { readonly ok: false; readonly reason: string; readonly message: string };

export interface ObservedImage {
  readonly generation: number;
  readonly spec: ImageSpecView;
  readonly previous?: Partial<ImageStatus>;
  /** The target nodes (lib/targets.ts), or those the previous status recorded (targetsOf). */
  readonly targets: readonly string[];
  /** The pull pods labelled with this CachedImage. */
  readonly pods: readonly Pod[];
  readonly missingSecrets: readonly string[];
  readonly policyProblem?: { readonly reason: string; readonly message: string };
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  /** PullPolicy repullInterval (ms; undefined: never) when the policy was read; absent: keep the round as the status has it. */
  readonly repull?: { readonly intervalMs: number | undefined };
  readonly now: Date;
}

export interface PodRef {
  readonly name: string;
  readonly uid?: string;
}

export interface ImagePlan {
  readonly status: ImageStatus;
  /** Pods whose outcome the status now records, or that no longer serve the spec. Delete after the status is written. */
  readonly deletePods: readonly PodRef[];
  /** Targeted nodes that still need a pull and have none in progress (the pacer starts them). */
  readonly pendingNodes: readonly string[];
  /** Pull outcomes this plan records for the first time, for the pull-duration metric. */
  readonly recorded: readonly RecordedPull[];
}

export interface RecordedPull {
  readonly policy: string;
  readonly result: 'cached' | 'failed';
  /** From the pod's creation to its outcome. */
  readonly seconds: number;
}

/**
 * The target nodes a status written for this spec recorded: cached, pulling, failed and waiting
 * partition them. Undefined when the status is for another generation or reference (or predates
 * pullingNodes): then only a node list can say.
 */
export function targetsOf(
  previous: Partial<ImageStatus> | undefined,
  generation: number,
  reference: string,
): readonly string[] | undefined {
  if (!previous?.pullingNodes || previous.observedGeneration !== generation) return undefined;
  if (previous.reference !== reference) return undefined;
  return [
    ...new Set([
      ...(previous.cachedNodes ?? []),
      ...previous.pullingNodes,
      ...(previous.failedNodes ?? []).map((f) => f.node),
      ...(previous.waitingNodes ?? []).map((w) => w.node),
    ]),
  ];
}

/** Reads the observed pods against the spec and the last recorded status, and says what is true now. */
export function planImage(observed: ObservedImage): ImagePlan {
  const { spec } = observed;
  if (!spec.ok) return invalidSpecPlan(observed, spec);

  const targets = [...observed.targets].sort();
  const targetSet = new Set(targets);
  const sameReference = observed.previous?.reference === spec.reference;
  const previous = sameReference ? observed.previous : undefined;

  // Only target nodes are listed: a node that stops being one drops out, and is pulled again (a
  // registry check, or nothing with IfNotPresent) should it come back.
  const cached = new Set((previous?.cachedNodes ?? []).filter((n) => targetSet.has(n)));
  const failed = new Map((previous?.failedNodes ?? []).map((f) => [f.node, f]));
  const repulling = new Set(previous?.repullNodes ?? []);
  const deletePods: PodRef[] = [];
  const recorded: RecordedPull[] = [];
  const pulling = new Set<string>();
  let resolvedDigest = previous?.resolvedDigest ?? spec.digest;
  let lastPulledAt = previous?.lastPulledAt;

  for (const pod of oldestFirst(observed.pods)) {
    const ref = { name: pod.metadata.name, uid: pod.metadata.uid };
    const node = pod.spec?.nodeName ?? '';
    if (pod.metadata.deletionTimestamp) continue;
    const stale = pod.metadata.annotations?.[REFERENCE_ANNOTATION] !== spec.reference;
    if (stale || !targetSet.has(node) || pulling.has(node)) {
      deletePods.push(ref);
      continue;
    }
    const outcome = pullOutcome(pod);
    if (outcome.kind === 'pulling') {
      pulling.add(node);
      continue;
    }
    deletePods.push(ref);
    if (outcome.kind === 'cached') {
      cached.add(node);
      failed.delete(node);
      repulling.delete(node);
      resolvedDigest = outcome.digest ?? resolvedDigest;
      lastPulledAt = latest(lastPulledAt, outcome.at ?? observed.now.toISOString());
      recorded.push(recordOf(pod, 'cached', outcome.at, observed.now));
      continue;
    }
    const before = failed.get(node);
    // The same pod seen twice (its delete failed last time) must not count as a second failure.
    // Pull pods reuse their name on every attempt, so the uid is what tells attempts apart.
    const attempt = pod.metadata.uid ?? pod.metadata.name;
    if (before?.lastPod === attempt) continue;
    recorded.push(recordOf(pod, 'failed', undefined, observed.now));
    const failures = (before?.failures ?? 0) + 1;
    const retryAt = new Date(
      observed.now.getTime() + backoffDelayMs(failures, observed.backoff),
    ).toISOString();
    failed.set(node, {
      node,
      reason: outcome.reason,
      message: outcome.message,
      failures,
      retryAt,
      lastPod: attempt,
    });
    // A failed re-pull leaves the image that was there: the node stays cached.
    if (!repulling.has(node)) cached.delete(node);
  }

  const ready = targets.filter((n) => cached.has(n));
  const repull = observed.repull
    ? repullRound({
        intervalMs: spec.repullable ? observed.repull.intervalMs : undefined,
        remaining: [...repulling],
        lastRepullAt: previous?.lastRepullAt,
        lastPulledAt,
        ready: ready.filter((n) => !pulling.has(n)),
        now: observed.now,
      })
    : keptRound(previous, repulling, ready);
  const due = new Set(repull.nodes);
  for (const node of failed.keys()) {
    if (!targetSet.has(node) || (cached.has(node) && !due.has(node))) failed.delete(node);
  }
  const needsPull = (n: string) => (!cached.has(n) || due.has(n)) && !pulling.has(n);
  // A missing policy stops new pulls: pacing with limits nobody chose would be a silent default.
  const pendingNodes = observed.policyProblem ? [] : targets.filter(needsPull);
  const failedNodes = [...failed.values()].sort((a, b) => a.node.localeCompare(b.node));
  const waitingNodes = pendingNodes.map((n) =>
    waitingEntry(n, failed.get(n), due.has(n), previous?.waitingNodes, observed.now),
  );
  const counts = {
    targets: targets.length,
    ready: ready.length,
    pulling: pulling.size,
    pending: pendingNodes.length,
  };
  const phase = phaseOf(counts, failedNodes, observed);
  const message = messageOf(phase, counts, failedNodes, [...pulling].sort(), observed);
  return {
    deletePods,
    pendingNodes,
    recorded,
    status: {
      phase,
      ready: `${ready.length}/${targets.length}`,
      message,
      reference: spec.reference,
      nodesTargeted: targets.length,
      nodesReady: ready.length,
      nodesPulling: pulling.size,
      nodesWaiting: pendingNodes.length,
      cachedNodes: ready,
      pullingNodes: [...pulling].sort(),
      failedNodes,
      waitingNodes,
      ...(resolvedDigest ? { resolvedDigest } : {}),
      ...(lastPulledAt ? { lastPulledAt } : {}),
      ...(repull.nodes.length > 0 ? { repullNodes: repull.nodes } : {}),
      ...(repull.lastRepullAt ? { lastRepullAt: repull.lastRepullAt } : {}),
      ...(repull.nextRepullAt ? { nextRepullAt: repull.nextRepullAt } : {}),
      conditions: conditionsOf(observed, phase, message),
      observedGeneration: observed.generation,
    },
  };
}

function invalidSpecPlan(observed: ObservedImage, spec: { reason: string; message: string }): ImagePlan {
  return {
    deletePods: observed.pods
      .filter((p) => !p.metadata.deletionTimestamp)
      .map((p) => ({
        name: p.metadata.name,
        uid: p.metadata.uid,
      })),
    pendingNodes: [],
    recorded: [],
    status: {
      phase: spec.reason,
      ready: '0/0',
      message: spec.message,
      nodesTargeted: 0,
      nodesReady: 0,
      nodesPulling: 0,
      nodesWaiting: 0,
      cachedNodes: [],
      pullingNodes: [],
      failedNodes: [],
      waitingNodes: [],
      conditions: setCondition(
        observed.previous?.conditions ?? [],
        { type: 'Ready', status: 'False', reason: spec.reason, message: spec.message },
        { now: observed.now, observedGeneration: observed.generation },
      ),
      observedGeneration: observed.generation,
    },
  };
}

// The policy was not read: the round goes on as recorded, less the nodes that pulled again.
function keptRound(
  previous: Partial<ImageStatus> | undefined,
  remaining: ReadonlySet<string>,
  ready: readonly string[],
): RepullRound {
  return {
    nodes: ready.filter((n) => remaining.has(n)),
    ...(previous?.lastRepullAt ? { lastRepullAt: previous.lastRepullAt } : {}),
    ...(previous?.nextRepullAt ? { nextRepullAt: previous.nextRepullAt } : {}),
  };
}

function recordOf(pod: Pod, result: RecordedPull['result'], at: string | undefined, now: Date): RecordedPull {
  const started = Date.parse(pod.metadata.creationTimestamp ?? '');
  const ended = at ? Date.parse(at) : now.getTime();
  const seconds = Number.isNaN(started) || Number.isNaN(ended) ? 0 : Math.max(0, (ended - started) / 1000);
  return { policy: pod.metadata.labels?.[LABEL.policy] ?? '', result, seconds };
}

function oldestFirst(pods: readonly Pod[]): readonly Pod[] {
  return [...pods].sort(
    (a, b) =>
      (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
      a.metadata.name.localeCompare(b.metadata.name),
  );
}

function latest(a: string | undefined, b: string): string {
  return a && a > b ? a : b;
}
