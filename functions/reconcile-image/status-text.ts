import { type Condition, setCondition } from '../../lib/conditions.ts';
import type { FailedNode, ObservedImage, WaitingNode } from './plan.ts';

// How the status reads: the STATUS word, the message and the conditions, from what the plan found.

export function waitingEntry(
  node: string,
  failure: FailedNode | undefined,
  repull: boolean,
  previous: readonly WaitingNode[] | undefined,
  now: Date,
): WaitingNode {
  // Kept across writes, so the pacer can tell how long a node waited for its slot.
  const since = previous?.find((w) => w.node === node)?.since ?? now.toISOString();
  if (failure && Date.parse(failure.retryAt) > now.getTime()) {
    return {
      node,
      reason: 'BackOff',
      message: `backing off after ${failure.reason}`,
      retryAt: failure.retryAt,
      since,
    };
  }
  if (repull) return { node, reason: 'Repull', message: 'due for a re-pull (repullInterval)', since };
  return { node, reason: 'WaitingForSlot', message: 'waiting for pacing slot', since };
}

export interface Counts {
  readonly targets: number;
  readonly ready: number;
  readonly pulling: number;
  readonly pending: number;
}

export function phaseOf(counts: Counts, failedNodes: readonly FailedNode[], observed: ObservedImage): string {
  if (observed.policyProblem) return observed.policyProblem.reason;
  if (counts.targets === 0) return 'NoTargetNodes';
  if (counts.ready === counts.targets) return 'Cached';
  // The node with the most failures speaks for the image, in the kubelet's own word.
  const worst = [...failedNodes].sort((a, b) => b.failures - a.failures)[0];
  if (worst) return worst.reason;
  if (counts.pulling > 0) return 'Pulling';
  return 'Pending';
}

export function messageOf(
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

export function conditionsOf(observed: ObservedImage, phase: string, message: string): readonly Condition[] {
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
