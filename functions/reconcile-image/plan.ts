import { type Condition, setCondition } from '../../lib/conditions.ts';
import type { Pod } from '../../lib/kube/core.ts';
import { pullOutcome, REFERENCE_ANNOTATION } from '../../lib/pull-pod.ts';
import type { Placement } from '../../lib/targets.ts';

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
  readonly conditions: readonly Condition[];
  readonly observedGeneration: number;
}

export type ImageSpecView =
  | {
      readonly ok: true;
      readonly reference: string;
      readonly digest?: string;
      readonly placement: Placement;
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
}

/** Exponential failure backoff: initial × 2^(failures−1), capped at max. */
export function backoffMs(failures: number, backoff: { initialMs: number; maxMs: number }): number {
  if (failures <= 0) return 0;
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(failures - 1, 30));
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
  const deletePods: PodRef[] = [];
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
      resolvedDigest = outcome.digest ?? resolvedDigest;
      lastPulledAt = latest(lastPulledAt, outcome.at ?? observed.now.toISOString());
      continue;
    }
    const before = failed.get(node);
    // The same pod seen twice (its delete failed last time) must not count as a second failure.
    // Pull pods reuse their name on every attempt, so the uid is what tells attempts apart.
    const attempt = pod.metadata.uid ?? pod.metadata.name;
    if (before?.lastPod === attempt) continue;
    const failures = (before?.failures ?? 0) + 1;
    const retryAt = new Date(observed.now.getTime() + backoffMs(failures, observed.backoff)).toISOString();
    failed.set(node, {
      node,
      reason: outcome.reason,
      message: outcome.message,
      failures,
      retryAt,
      lastPod: attempt,
    });
    cached.delete(node);
  }

  for (const node of failed.keys()) if (!targetSet.has(node) || cached.has(node)) failed.delete(node);
  const ready = targets.filter((n) => cached.has(n));
  // A missing policy stops new pulls: pacing with limits nobody chose would be a silent default.
  const pendingNodes = observed.policyProblem ? [] : targets.filter((n) => !cached.has(n) && !pulling.has(n));
  const failedNodes = [...failed.values()].sort((a, b) => a.node.localeCompare(b.node));
  const waitingNodes = pendingNodes.map((n) => waitingEntry(n, failed.get(n), observed.now));
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
      conditions: conditionsOf(observed, phase, message),
      observedGeneration: observed.generation,
    },
  };
}

function waitingEntry(node: string, failure: FailedNode | undefined, now: Date): WaitingNode {
  if (failure && Date.parse(failure.retryAt) > now.getTime()) {
    return {
      node,
      reason: 'BackOff',
      message: `backing off after ${failure.reason}`,
      retryAt: failure.retryAt,
    };
  }
  return { node, reason: 'WaitingForSlot', message: 'waiting for pacing slot' };
}

interface Counts {
  readonly targets: number;
  readonly ready: number;
  readonly pulling: number;
  readonly pending: number;
}

function phaseOf(counts: Counts, failedNodes: readonly FailedNode[], observed: ObservedImage): string {
  if (observed.policyProblem) return observed.policyProblem.reason;
  if (counts.targets === 0) return 'NoTargetNodes';
  if (counts.ready === counts.targets) return 'Cached';
  // The node with the most failures speaks for the image, in the kubelet's own word.
  const worst = [...failedNodes].sort((a, b) => b.failures - a.failures)[0];
  if (worst) return worst.reason;
  if (counts.pulling > 0) return 'Pulling';
  return 'Pending';
}

function messageOf(
  phase: string,
  counts: Counts,
  failedNodes: readonly FailedNode[],
  pulling: readonly string[],
  observed: ObservedImage,
): string {
  const parts: string[] = [];
  if (observed.policyProblem) parts.push(observed.policyProblem.message);
  if (observed.missingSecrets.length > 0) {
    parts.push(`imagePullSecrets not found in the Drop namespace: ${observed.missingSecrets.join(', ')}`);
  }
  if (phase === 'NoTargetNodes')
    parts.push('no Ready, schedulable node matches nodeSelector and tolerations');
  else parts.push(`cached on ${counts.ready}/${counts.targets} nodes`);
  if (pulling.length > 0) parts.push(`pulling on ${listNodes(pulling)}`);
  for (const f of failedNodes.slice(0, 3)) {
    parts.push(`${f.node}: ${f.reason} (${f.failures}×, retry at ${f.retryAt}): ${f.message}`);
  }
  if (failedNodes.length > 3) parts.push(`${failedNodes.length - 3} more nodes failing`);
  const waiting = counts.pending - failedNodes.length;
  if (waiting > 0 && phase !== 'Cached') parts.push(`${waiting} waiting for a pacing slot`);
  return parts.join('; ');
}

function listNodes(nodes: readonly string[]): string {
  return nodes.length <= 3
    ? nodes.join(', ')
    : `${nodes.slice(0, 3).join(', ')} and ${nodes.length - 3} more`;
}

function conditionsOf(observed: ObservedImage, phase: string, message: string): readonly Condition[] {
  const when = { now: observed.now, observedGeneration: observed.generation };
  let conditions = setCondition(
    observed.previous?.conditions ?? [],
    { type: 'Ready', status: phase === 'Cached' ? 'True' : 'False', reason: phase, message },
    when,
  );
  conditions = setCondition(
    conditions,
    observed.missingSecrets.length > 0
      ? {
          type: 'PullSecretsFound',
          status: 'False',
          reason: 'SecretNotFound',
          message: `not found in the Drop namespace: ${observed.missingSecrets.join(', ')}`,
        }
      : {
          type: 'PullSecretsFound',
          status: 'True',
          reason: 'Found',
          message: 'every imagePullSecret exists',
        },
    when,
  );
  return conditions;
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
