import type { FailedNode, ImagePhase, WaitingNode, WrittenCachedImageStatus } from '../../lib/api/index.ts';
import { type Condition, ConditionSet } from '../../lib/controller/index.ts';
import { counted, fraction } from '../../lib/words.ts';
import type { RepullCycle } from './repull.ts';

// How a CachedImage's status reads: the STATUS word, the message, the waiting reasons and the
// conditions, from what the planner found.

export const IMAGE_CONDITIONS = new ConditionSet('Ready', 'PullSecretsFound');

/** What the planner found for an image with a usable spec. */
export interface ImageFindings {
  readonly generation: number;
  readonly now: Date;
  readonly reference: string;
  /** The tag pulled (the TAG column), if the reference has one. */
  readonly tag?: string | undefined;
  /** The conditions the object had (whatever its reference). */
  readonly conditions: readonly Condition[];
  /** The waiting entries of a status written for this reference. */
  readonly waitingBefore: readonly WaitingNode[];
  readonly targets: readonly string[];
  readonly ready: readonly string[];
  readonly pulling: readonly string[];
  /** Targets that need a pull and have none in progress: the pacer starts them. */
  readonly pending: readonly string[];
  readonly failed: readonly FailedNode[];
  readonly repull: RepullCycle;
  readonly missingSecrets: readonly string[];
  readonly policyProblem?: { readonly reason: string; readonly message: string } | undefined;
  readonly resolvedDigest?: string | undefined;
  readonly lastPulledAt?: string | undefined;
}

/** The status that says what the findings mean. */
export function imageStatus(f: ImageFindings): WrittenCachedImageStatus {
  const failedByNode = new Map(f.failed.map((n) => [n.node, n]));
  const due = new Set(f.repull.nodes);
  const waitingNodes = f.pending.map((n) =>
    waitingEntry(n, failedByNode.get(n), due.has(n), f.waitingBefore, f.now),
  );
  const counts = {
    targets: f.targets.length,
    ready: f.ready.length,
    pulling: f.pulling.length,
    pending: f.pending.length,
  };
  const word = statusWordOf(counts, f.failed, f.policyProblem);
  const message = messageOf(word, counts, f);
  return {
    phase: imagePhase(word),
    ...(f.tag ? { tag: f.tag } : {}),
    ready: `${f.ready.length}/${f.targets.length}`,
    message,
    reference: f.reference,
    nodesTargeted: f.targets.length,
    nodesReady: f.ready.length,
    nodesPulling: f.pulling.length,
    nodesWaiting: f.pending.length,
    cachedNodes: [...f.ready],
    pullingNodes: [...f.pulling],
    failedNodes: [...f.failed],
    waitingNodes,
    ...(f.resolvedDigest ? { resolvedDigest: f.resolvedDigest } : {}),
    ...(f.lastPulledAt ? { lastPulledAt: f.lastPulledAt } : {}),
    ...(f.repull.nodes.length > 0 ? { repullNodes: [...f.repull.nodes] } : {}),
    ...(f.repull.lastRepullAt ? { lastRepullAt: f.repull.lastRepullAt } : {}),
    ...(f.repull.nextRepullAt ? { nextRepullAt: f.repull.nextRepullAt } : {}),
    conditions: conditionsOf(f, word, message),
    observedGeneration: f.generation,
  };
}

/** The status of an image whose spec cannot be pulled: the reason is the STATUS word. */
export function invalidSpecStatus(
  problem: { readonly reason: string; readonly message: string },
  conditions: readonly Condition[],
  generation: number,
  now: Date,
  tag?: string,
): WrittenCachedImageStatus {
  return {
    phase: imagePhase(problem.reason),
    ...(tag ? { tag } : {}),
    ready: '0/0',
    message: problem.message,
    nodesTargeted: 0,
    nodesReady: 0,
    nodesPulling: 0,
    nodesWaiting: 0,
    cachedNodes: [],
    pullingNodes: [],
    failedNodes: [],
    waitingNodes: [],
    conditions: IMAGE_CONDITIONS.manage(conditions, { now, observedGeneration: generation }).markFalse(
      'Ready',
      problem.reason,
      problem.message,
    ).conditions,
    observedGeneration: generation,
  };
}

/**
 * Why a pending node waits. reconcile-image knows backoff and re-pulls; which pacing limit holds a
 * node is the pacer's to say (it writes `limit` and its message), so those are kept while the
 * node keeps waiting for the same reason.
 */
export function waitingEntry(
  node: string,
  failure: FailedNode | undefined,
  repull: boolean,
  previous: readonly WaitingNode[],
  now: Date,
): WaitingNode {
  const before = previous.find((w) => w.node === node);
  // Kept across writes, so the pacer can tell how long a node waited for its slot.
  const since = before?.since ?? now.toISOString();
  if (failure && Date.parse(failure.retryAt) > now.getTime()) {
    return {
      node,
      reason: 'BackOff',
      message: `backing off after ${failure.reason}`,
      retryAt: failure.retryAt,
      since,
    };
  }
  const reason = repull ? 'Repull' : 'WaitingForSlot';
  if (before?.reason === reason && before.limit) {
    return { node, reason, message: before.message, limit: before.limit, since };
  }
  if (repull) return { node, reason, message: 'due for a re-pull (repullInterval)', since };
  return { node, reason, message: 'waiting for pacing slot', since };
}

interface Counts {
  readonly targets: number;
  readonly ready: number;
  readonly pulling: number;
  readonly pending: number;
}

/**
 * Go Drop's phase for a STATUS word: Cached is Ready, Pulling and Pending are on their way, and
 * every other word (a kubelet failure, NoTargetNodes, PolicyNotFound, InvalidSpec…) needs a person:
 * Degraded. (Go says Pending for no target nodes; here it is a problem, as the set has always said.)
 */
export function imagePhase(word: string): ImagePhase {
  if (word === 'Cached') return 'Ready';
  if (word === 'Pulling' || word === 'Pending') return word;
  return 'Degraded';
}

function statusWordOf(
  counts: Counts,
  failedNodes: readonly FailedNode[],
  policyProblem: ImageFindings['policyProblem'],
): string {
  if (policyProblem) return policyProblem.reason;
  if (counts.targets === 0) return 'NoTargetNodes';
  if (counts.ready === counts.targets) return 'Cached';
  // The node with the most failures speaks for the image, in the kubelet's own word.
  const worst = [...failedNodes].sort((a, b) => b.failures - a.failures)[0];
  if (worst) return worst.reason;
  if (counts.pulling > 0) return 'Pulling';
  return 'Pending';
}

function messageOf(word: string, counts: Counts, f: ImageFindings): string {
  const parts: string[] = [];
  if (f.policyProblem) parts.push(f.policyProblem.message);
  if (f.missingSecrets.length > 0) {
    parts.push(`imagePullSecrets not found in the Drop namespace: ${f.missingSecrets.join(', ')}`);
  }
  if (word === 'NoTargetNodes') parts.push('no Ready, schedulable node matches nodeSelector and tolerations');
  else parts.push(`cached on ${fraction(counts.ready, counts.targets, 'node')}`);
  if (f.pulling.length > 0) parts.push(`pulling on ${listNodes(f.pulling)}`);
  for (const n of f.failed.slice(0, 3)) {
    parts.push(`${n.node}: ${n.reason} (${n.failures}×, retry at ${n.retryAt}): ${n.message}`);
  }
  if (f.failed.length > 3) parts.push(`${counted(f.failed.length - 3, 'more node')} failing`);
  const waiting = counts.pending - f.failed.length;
  if (waiting > 0 && word !== 'Cached') parts.push(`${waiting} waiting for a pacing slot`);
  return parts.join('; ');
}

function listNodes(nodes: readonly string[]): string {
  return nodes.length <= 3
    ? nodes.join(', ')
    : `${nodes.slice(0, 3).join(', ')} and ${nodes.length - 3} more`;
}

function conditionsOf(f: ImageFindings, word: string, message: string): Condition[] {
  const marks = IMAGE_CONDITIONS.manage(f.conditions, { now: f.now, observedGeneration: f.generation });
  marks.markHappy(word === 'Cached', word, message);
  if (f.missingSecrets.length > 0)
    marks.markFalse(
      'PullSecretsFound',
      'SecretNotFound',
      `not found in the Drop namespace: ${f.missingSecrets.join(', ')}`,
    );
  else marks.markTrue('PullSecretsFound', 'Found', 'every imagePullSecret exists');
  return marks.conditions;
}
