import type {
  CachedImageStatus,
  CollectedNode,
  DigestGroup,
  FailedNode,
  FailureGroup,
  ImagePhase,
  ManifestRecord,
  SkippedGroup,
  WaitingGroup,
  WrittenCachedImageStatus,
} from '../../lib/api/index.ts';
import { type Condition, ConditionSet } from '../../lib/controller/index.ts';
import { compareText } from '../../lib/order.ts';
import { counted, fraction } from '../../lib/words.ts';
import type { ProbeCycle } from './probe.ts';
import type { RepullCycle } from './repull.ts';

// How a CachedImage's status reads: the STATUS word, the message, the conditions, and what happens
// on the nodes summarised — counts and the first few names, never one entry per node with its own
// words (at a thousand nodes those made statuses of hundreds of kilobytes that every watcher got on
// every write). The records the pulls need stay per node: cachedNodes, and failedNodes for backoff.

export const IMAGE_CONDITIONS = new ConditionSet('Ready', 'PullSecretsFound', 'StartupTaint');

/** What to do when the policy asks for a startup taint that Drop may not remove. */
export const STARTUP_TAINT_FORBIDDEN =
  'the PullPolicy sets startupTaint, but reconcile-image may not patch nodes, so nodes keep the taint: install the opt-in ClusterRole drop-startup-taint (helm: --set startupTaint.enabled=true; kustomize: the component config/startup-taint)';

/** How many nodes a summary names. */
export const EXAMPLES = 3;

/** What the planner found for an image with a usable spec. */
export interface ImageFindings {
  readonly generation: number;
  readonly now: Date;
  readonly reference: string;
  /** The status the object had, if it was written for this reference. */
  readonly before: CachedImageStatus | undefined;
  /** The tag pulled (the TAG column), if the reference has one. */
  readonly tag?: string | undefined;
  /** The conditions the object had (whatever its reference). */
  readonly conditions: readonly Condition[];
  readonly targets: readonly string[];
  readonly ready: readonly string[];
  readonly pulling: readonly string[];
  /** Targets that need a pull and have none in progress: the pacer starts them. */
  readonly pending: readonly string[];
  readonly failed: readonly FailedNode[];
  /** The kubelet's message of each failure recorded by this plan, by reason. */
  readonly newMessages: ReadonlyMap<string, string>;
  readonly repull: RepullCycle;
  readonly missingSecrets: readonly string[];
  readonly unusableSecrets: readonly string[];
  readonly policyProblem?: { readonly reason: string; readonly message: string } | undefined;
  /** Nodes the placement selects that are skipped for now, with the reason. */
  readonly skipped?: readonly { readonly node: string; readonly reason: string }[];
  readonly manifest?: ManifestRecord | undefined;
  /** Nodes the kubelet removed the image from, until they hold it again (garbage collection). */
  readonly collected?: readonly CollectedNode[];
  /** The garbage-collection probe cycle (status.probeNodes). */
  readonly probe?: ProbeCycle;
  /** Digest drift: which digest each cached node holds, and those holding an older one. */
  readonly digests?: readonly DigestGroup[];
  readonly outdated?: readonly string[];
  /** The image's PullPolicy sets a startupTaint: whether reconcile-image may remove it from nodes. */
  readonly startupTaint?: { readonly permitted: boolean };
  /** The latest throttled pull of the image, for the pacer (status.throttle). */
  readonly throttle?: CachedImageStatus['throttle'];
  /** Pulls this plan found throttled by the registry (not failures of their nodes). */
  readonly throttled?: readonly { readonly node: string; readonly message: string }[];
  readonly notes?: readonly string[];
  readonly resolvedDigest?: string | undefined;
  readonly lastPulledAt?: string | undefined;
}

/** The status that says what the findings mean. */
export function imageStatus(f: ImageFindings): WrittenCachedImageStatus {
  const failures = failureGroups(f.failed, f.newMessages, f.before?.failures ?? []);
  const skipped = skippedGroups(f.skipped ?? []);
  const waiting = waitingGroups(f);
  const counts = {
    targets: f.targets.length,
    ready: f.ready.length,
    pulling: f.pulling.length,
    pending: f.pending.length,
  };
  const rateLimited = rateLimitOf(f);
  const word = rateLimited ? 'RegistryRateLimited' : statusWordOf(counts, f.failed, f.policyProblem);
  const message = [rateLimited, messageOf(word, counts, f, failures, skipped)].filter(Boolean).join('; ');
  // The pacer's word on what holds the waiting nodes lasts while some wait (functions/pace/status.ts).
  const pacing = f.pending.length > 0 ? f.before?.pacing : undefined;
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
    nodesFailed: f.failed.length,
    cachedNodes: [...f.ready],
    failedNodes: [...f.failed],
    failures,
    waiting,
    ...(pacing ? { pacing } : {}),
    ...(skipped.length > 0 ? { skipped } : {}),
    ...(f.collected && f.collected.length > 0 ? { collected: f.collected.map((c) => ({ ...c })) } : {}),
    ...(f.throttle ? { throttle: f.throttle } : {}),
    ...(f.manifest ? { manifest: f.manifest } : {}),
    ...(f.digests
      ? {
          digests: f.digests.map((g) => ({ digest: g.digest, nodes: [...g.nodes] })),
          outdated: `${f.outdated?.length ?? 0}/${f.targets.length}`,
        }
      : {}),
    ...(f.resolvedDigest ? { resolvedDigest: f.resolvedDigest } : {}),
    ...(f.lastPulledAt ? { lastPulledAt: f.lastPulledAt } : {}),
    ...(f.repull.nodes.length > 0 ? { repullNodes: [...f.repull.nodes] } : {}),
    ...(f.repull.lastRepullAt ? { lastRepullAt: f.repull.lastRepullAt } : {}),
    ...(f.repull.nextRepullAt ? { nextRepullAt: f.repull.nextRepullAt } : {}),
    ...(f.probe && f.probe.nodes.length > 0 ? { probeNodes: [...f.probe.nodes] } : {}),
    ...(f.probe?.lastProbeAt ? { lastProbeAt: f.probe.lastProbeAt } : {}),
    ...(f.probe?.nextProbeAt ? { nextProbeAt: f.probe.nextProbeAt } : {}),
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
    nodesFailed: 0,
    cachedNodes: [],
    failedNodes: [],
    failures: [],
    waiting: [],
    conditions: IMAGE_CONDITIONS.manage(conditions, { now, observedGeneration: generation }).markFalse(
      'Ready',
      problem.reason,
      problem.message,
    ).conditions,
    observedGeneration: generation,
  };
}

/**
 * What to say when a registry's rate limit holds the image, or undefined when none does: a pull of
 * this plan was throttled, or the pacer's summary says the host is paused (with when it resumes),
 * while nodes still wait and nothing else is wrong with the image.
 */
function rateLimitOf(f: ImageFindings): string | undefined {
  if (f.policyProblem || f.pending.length === 0 || f.targets.length === f.ready.length) return undefined;
  const paused = f.before?.pacing?.waiting.find((w) => w.limit === 'registryRateLimited');
  if (paused) return paused.message;
  const throttle = f.throttled?.[0];
  return throttle ? `the registry throttled a pull: ${throttle.message}` : undefined;
}

// Why a skipped node is skipped, in words; each reason resumes on its own.
const SKIP_WORDS: Readonly<Record<string, string>> = {
  DiskPressure: 'the kubelet reports DiskPressure; Drop pulls there once it clears',
};

/** Skipped nodes by reason, the first few named. */
export function skippedGroups(
  skipped: readonly { readonly node: string; readonly reason: string }[],
): SkippedGroup[] {
  const byReason = new Map<string, string[]>();
  for (const { node, reason } of skipped) byReason.set(reason, [...(byReason.get(reason) ?? []), node]);
  return [...byReason]
    .map(([reason, nodes]) => ({
      reason,
      nodes: nodes.length,
      examples: [...nodes].sort().slice(0, EXAMPLES),
      message: SKIP_WORDS[reason] ?? reason,
    }))
    .sort((a, b) => b.nodes - a.nodes || compareText(a.reason, b.reason));
}

/** Failed nodes by reason; each reason keeps the kubelet's latest message for it. */
function failureGroups(
  failed: readonly FailedNode[],
  newMessages: ReadonlyMap<string, string>,
  before: readonly FailureGroup[],
): FailureGroup[] {
  const byReason = new Map<string, string[]>();
  for (const node of failed) byReason.set(node.reason, [...(byReason.get(node.reason) ?? []), node.node]);
  return [...byReason]
    .map(([reason, nodes]) => ({
      reason,
      message: newMessages.get(reason) ?? before.find((g) => g.reason === reason)?.message ?? reason,
      nodes: nodes.length,
      examples: nodes.slice(0, EXAMPLES),
    }))
    .sort((a, b) => b.nodes - a.nodes || compareText(a.reason, b.reason));
}

/** Pending nodes by why they wait: a backoff or a re-pull reconcile-image can tell; a slot the pacer gives. */
function waitingGroups(f: ImageFindings): WaitingGroup[] {
  const failed = new Map(f.failed.map((n) => [n.node, n]));
  const due = new Set(f.repull.nodes);
  const collected = new Set((f.collected ?? []).map((c) => c.node));
  const groups = new Map<string, { nodes: string[]; retryAt?: string }>();
  for (const node of f.pending) {
    const failure = failed.get(node);
    const backingOff = failure !== undefined && Date.parse(failure.retryAt) > f.now.getTime();
    const reason = backingOff
      ? 'BackOff'
      : collected.has(node)
        ? 'GarbageCollected'
        : due.has(node)
          ? 'Repull'
          : 'WaitingForSlot';
    const group = groups.get(reason) ?? { nodes: [] };
    group.nodes.push(node);
    if (backingOff && (!group.retryAt || failure.retryAt < group.retryAt)) group.retryAt = failure.retryAt;
    groups.set(reason, group);
  }
  return [...groups].map(([reason, group]) => ({
    reason,
    nodes: group.nodes.length,
    examples: group.nodes.slice(0, EXAMPLES),
    message:
      reason === 'BackOff'
        ? `backing off after failed pulls; the first retry at ${group.retryAt}`
        : reason === 'Repull'
          ? 'due for a re-pull (repullInterval)'
          : reason === 'GarbageCollected'
            ? 'the kubelet removed the image (garbage collection); waiting for a pacing slot to pull it again'
            : 'waiting for a pacing slot',
  }));
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
  const worst = [...failedNodes].sort((a, b) => b.failures - a.failures || compareText(a.node, b.node))[0];
  if (worst) return worst.reason;
  if (counts.pulling > 0) return 'Pulling';
  return 'Pending';
}

function messageOf(
  word: string,
  counts: Counts,
  f: ImageFindings,
  failures: readonly FailureGroup[],
  skipped: readonly SkippedGroup[],
): string {
  const parts: string[] = [];
  if (f.policyProblem) parts.push(f.policyProblem.message);
  parts.push(...(f.notes ?? []));
  if (f.missingSecrets.length > 0) {
    parts.push(`imagePullSecrets not found in the Drop namespace: ${f.missingSecrets.join(', ')}`);
  }
  parts.push(...f.unusableSecrets);
  if (word === 'NoTargetNodes')
    parts.push(
      skipped.length > 0
        ? 'every node that matches nodeSelector and tolerations is skipped for now'
        : 'no Ready, schedulable node matches nodeSelector and tolerations',
    );
  else parts.push(`cached on ${fraction(counts.ready, counts.targets, 'node')}`);
  for (const group of skipped)
    parts.push(
      `${counted(group.nodes, 'node')} skipped: ${group.reason} (${listNodes(group.examples, group.nodes)})`,
    );
  if ((f.outdated?.length ?? 0) > 0)
    parts.push(
      `${counted(f.outdated?.length ?? 0, 'node')} hold an older digest than the registry's ${f.manifest?.digest ?? ''}: re-pulling ${listNodes(f.outdated ?? [], f.outdated?.length ?? 0)}`,
    );
  if (f.pulling.length > 0) parts.push(`pulling on ${listNodes(f.pulling, f.pulling.length)}`);
  for (const group of failures.slice(0, 3)) {
    parts.push(`${group.reason} on ${listNodes(group.examples, group.nodes)}: ${group.message}`);
  }
  if (failures.length > 3) parts.push(`${counted(failures.length - 3, 'more reason')}`);
  const waiting = counts.pending - f.failed.length;
  // While the registry holds the host, the nodes wait for it, not for a slot (the first part says until when).
  if (waiting > 0 && word !== 'Cached')
    parts.push(`${waiting} waiting for ${word === 'RegistryRateLimited' ? 'the registry' : 'a pacing slot'}`);
  return parts.join('; ');
}

function listNodes(names: readonly string[], total: number): string {
  const named = names.slice(0, EXAMPLES).join(', ');
  return total > EXAMPLES ? `${named} and ${total - EXAMPLES} more` : named;
}

function conditionsOf(f: ImageFindings, word: string, message: string): Condition[] {
  // A policy that no longer sets a startupTaint leaves no condition about it behind.
  const kept = f.startupTaint ? f.conditions : f.conditions.filter((c) => c.type !== 'StartupTaint');
  const marks = IMAGE_CONDITIONS.manage(kept, { now: f.now, observedGeneration: f.generation });
  if (f.startupTaint?.permitted === true)
    marks.markTrue('StartupTaint', 'Permitted', 'reconcile-image may remove the startup taint from nodes');
  else if (f.startupTaint) marks.markFalse('StartupTaint', 'StartupTaintForbidden', STARTUP_TAINT_FORBIDDEN);
  marks.markHappy(word === 'Cached', word, message);
  if (f.missingSecrets.length > 0)
    marks.markFalse(
      'PullSecretsFound',
      'SecretNotFound',
      `not found in the Drop namespace: ${f.missingSecrets.join(', ')}`,
    );
  else if (f.unusableSecrets.length > 0)
    marks.markFalse('PullSecretsFound', 'SecretNotUsable', f.unusableSecrets.join('; '));
  else marks.markTrue('PullSecretsFound', 'Found', 'every imagePullSecret exists');
  return marks.conditions;
}
