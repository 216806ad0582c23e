import {
  type CachedImage,
  type CachedImageStatus,
  cachedImageSpecSchema,
  type FailedNode,
  type ManifestRecord,
  type PullPolicy,
  parseSpec,
  type WrittenCachedImageStatus,
} from '../../lib/api/index.ts';
import type { Occurrence } from '../../lib/controller/index.ts';
import { formatReference, parseImageReference } from '../../lib/image-ref.ts';
import type { Pod } from '../../lib/kube/core.ts';
import type { NodeImageReport } from '../../lib/node-images.ts';
import { compareText } from '../../lib/order.ts';
import { isThrottle } from '../../lib/pacing/index.ts';
import {
  backoffDelayMs,
  DEFAULT_PACING_LIMITS,
  type FailureBackoff,
  policyOf,
  settingsOf,
} from '../../lib/policy/index.ts';
import { LABEL, PROBE_ANNOTATION, pullOutcome, REFERENCE_ANNOTATION } from '../../lib/pull-pod.ts';
import type { Placement } from '../../lib/targets.ts';
import { collectedRecord, goneFromNodeStatus } from './collected.ts';
import { digestGroups, outdatedNodes } from './drift.ts';
import { imageEvents } from './events.ts';
import { DEFAULT_PROBE_INTERVAL_MS, type ProbeCycle, probeCycle, undecidedNodes } from './probe.ts';
import { type RepullCycle, repullCycle } from './repull.ts';
import { imageStatus, invalidSpecStatus } from './status.ts';

export type ImageSpecView = (
  | {
      readonly ok: true;
      readonly reference: string;
      readonly digest?: string;
      readonly placement: Placement;
      /** A re-pull can bring something new: a tag (not a digest) pulled with imagePullPolicy Always. */
      readonly repullable: boolean;
    }
  | { readonly ok: false; readonly reason: string; readonly message: string }
) & {
  /** The tag pulled (the TAG column): spec.tag, or latest without tag and digest. */
  readonly tag?: string;
};

/** The image's PullPolicy as the planner needs it. */
export interface PolicyView {
  readonly backoff: FailureBackoff;
  readonly repullIntervalMs?: number;
  /** imageProbeInterval (ms; 0: never), the default when the policy leaves it unset. */
  readonly probeIntervalMs: number;
  readonly problem?: { readonly reason: string; readonly message: string };
}

export interface ObservedImage {
  readonly generation: number;
  readonly spec: ImageSpecView;
  readonly previous?: CachedImageStatus;
  /** The target nodes (lib/targets.ts). */
  readonly targets: readonly string[];
  /** The pull pods labelled with this CachedImage. */
  readonly pods: readonly Pod[];
  readonly missingSecrets: readonly string[];
  /** Why the kubelet would skip an imagePullSecret that exists (lib/pull-secret.ts). */
  readonly unusableSecrets?: readonly string[];
  /** A problem that stops new pulls: the policy's (PolicyNotFound, InvalidPolicy) or the image's (ImageTooLarge). */
  readonly policyProblem?: { readonly reason: string; readonly message: string };
  /** Nodes the placement selects that are skipped for now (lib/targets.ts skippedNodes). */
  readonly skipped?: readonly { readonly node: string; readonly reason: string }[];
  /** What the registry said about the reference, when Drop asked (maxImageSize). */
  readonly manifest?: ManifestRecord;
  /** Words for the message that no other field carries, e.g. why maxImageSize was not checked. */
  readonly notes?: readonly string[];
  /**
   * Digest drift (PullPolicy digestCheckInterval): keep which digest each node holds, and re-pull
   * the nodes whose digest is not `current`, the registry's for the tag now (unknown: none).
   */
  readonly drift?: { readonly current?: string | undefined };
  readonly backoff: FailureBackoff;
  /** PullPolicy repullInterval (ms; undefined: never) when the policy was read; absent: keep the cycle as the status has it. */
  readonly repull?: { readonly intervalMs: number | undefined };
  /**
   * The image lists of the nodes that report one (node.status.images, lib/node-images.ts): a cached
   * node whose complete list no longer names the image lost it to the kubelet's garbage collection.
   */
  readonly nodeImages?: ReadonlyMap<string, NodeImageReport>;
  /** PullPolicy imageProbeInterval (ms; 0: never) when the policy was read; absent: keep the cycle as recorded. */
  readonly probe?: { readonly intervalMs: number };
  /** Present when the image's PullPolicy sets a startupTaint: whether Drop may remove it (the opt-in role). */
  readonly startupTaint?: { readonly permitted: boolean };
  readonly now: Date;
}

export interface PodRef {
  readonly name: string;
  readonly uid?: string;
  readonly node: string;
  /** Its outcome is in the status (else it no longer serves the spec). */
  readonly recorded: boolean;
}

export interface ImagePlan {
  readonly status: WrittenCachedImageStatus;
  /** The Kubernetes Events to record once the status is written (functions/reconcile-image/events.ts). */
  readonly events: readonly Occurrence[];
  /** Pods whose outcome the status now records, or that no longer serve the spec. Delete after the status is written. */
  readonly deletePods: readonly PodRef[];
  /** Targeted nodes that still need a pull and have none in progress (the pacer starts them). */
  readonly pendingNodes: readonly string[];
  /** Pull outcomes this plan records for the first time: the metrics and events of each. */
  readonly recorded: readonly RecordedPull[];
}

export interface RecordedPull {
  readonly node: string;
  readonly policy: string;
  readonly result: 'cached' | 'failed';
  /** From the pod's creation to its outcome. */
  readonly seconds: number;
  /** A failure: the kubelet's reason and message, and the node's consecutive failures now. */
  readonly reason?: string;
  readonly message?: string;
  readonly failures?: number;
}

// Parsing a spec is most of a reconcile that finds nothing new: the same spec object (a watch
// cache's, until the object changes) is parsed once.
const parsedSpecs = new WeakMap<object, ImageSpecView>();

/** The spec as the planner needs it, or why it cannot be used. */
export function specView(image: CachedImage): ImageSpecView {
  const known = image.spec ? parsedSpecs.get(image.spec) : undefined;
  if (known) return known;
  const view = parseSpecView(image);
  if (image.spec) parsedSpecs.set(image.spec, view);
  return view;
}

function parseSpecView(image: CachedImage): ImageSpecView {
  const tag = pulledTag(image.spec);
  const parsed = parseSpec(cachedImageSpecSchema, image.spec);
  if (!parsed.ok) return { ok: false, reason: 'InvalidSpec', message: parsed.message, ...tag };
  const spec = parsed.spec;
  const reference = formatReference({ image: spec.image, tag: spec.tag, digest: spec.digest });
  const checked = parseImageReference(reference);
  if (!checked.ok) return { ok: false, reason: checked.reason, message: checked.message, ...tag };
  return {
    ok: true,
    ...tag,
    reference,
    ...(spec.digest ? { digest: spec.digest } : {}),
    placement: { nodeSelector: spec.nodeSelector, tolerations: spec.tolerations },
    // With IfNotPresent or Never the kubelet keeps what it has, and a digest never moves.
    repullable: spec.imagePullPolicy === 'Always' && !spec.digest,
  };
}

/** What the TAG column says, from the spec as written (valid or not). */
function pulledTag(spec: unknown): { tag?: string } {
  const { tag, digest } = (spec ?? {}) as { tag?: unknown; digest?: unknown };
  if (typeof tag === 'string' && tag !== '') return { tag };
  return digest === undefined ? { tag: 'latest' } : {};
}

/**
 * The policy that paces the image, as read (`policy` undefined: none of that name exists). A
 * policyRef to a policy that does not exist is a problem, never a silent default.
 */
export function policyView(image: CachedImage, policy: PullPolicy | undefined): PolicyView {
  const name = policyOf(image);
  const defaults = {
    backoff: DEFAULT_PACING_LIMITS.failureBackoff,
    probeIntervalMs: DEFAULT_PROBE_INTERVAL_MS,
  };
  if (!policy && image.spec?.policyRef?.name) {
    const message = `PullPolicy "${name}" (spec.policyRef) does not exist`;
    return { ...defaults, problem: { reason: 'PolicyNotFound', message } };
  }
  const settings = settingsOf(policy);
  if (!settings.ok) {
    const message = `PullPolicy "${name}" is invalid: ${settings.message}`;
    return { ...defaults, problem: { reason: 'InvalidPolicy', message } };
  }
  return {
    backoff: settings.limits.failureBackoff,
    ...(settings.repullIntervalMs ? { repullIntervalMs: settings.repullIntervalMs } : {}),
    probeIntervalMs: settings.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS,
  };
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
  const newMessages = new Map<string, string>();
  const pulling = new Set<string>();
  const throttled: { readonly node: string; readonly message: string }[] = [];
  const pulledDigests = new Map<string, string>();
  const pulledNow = new Set<string>();
  const probing = new Set(previous?.probeNodes ?? []);
  const probedGone = new Set<string>();
  let throttle = previous?.throttle;
  const digestBefore = previous?.resolvedDigest;
  let resolvedDigest = previous?.resolvedDigest ?? spec.digest;
  let lastPulledAt = previous?.lastPulledAt;

  for (const pod of oldestFirst(observed.pods)) {
    const node = pod.spec?.nodeName ?? '';
    const ref = { name: pod.metadata.name, uid: pod.metadata.uid, node, recorded: false };
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
    deletePods.push({ ...ref, recorded: true });
    // A probe pulls nothing: it only says whether the image is still on the node.
    if (pod.metadata.annotations?.[PROBE_ANNOTATION]) {
      probing.delete(node);
      if (outcome.kind === 'failed' && outcome.reason === 'ErrImageNeverPull' && cached.has(node))
        probedGone.add(node);
      continue;
    }
    if (outcome.kind === 'cached') {
      cached.add(node);
      pulledNow.add(node);
      failed.delete(node);
      repulling.delete(node);
      resolvedDigest = outcome.digest ?? resolvedDigest;
      if (outcome.digest) pulledDigests.set(node, outcome.digest);
      lastPulledAt = latest(lastPulledAt, outcome.at ?? observed.now.toISOString());
      recorded.push(recordOf(pod, node, 'cached', outcome.at, observed.now));
      continue;
    }
    const before = failed.get(node);
    // The same pod seen twice (its delete failed last time) must not count as a second failure.
    // Pull pods reuse their name on every attempt, so the uid is what tells attempts apart.
    const attempt = pod.metadata.uid ?? pod.metadata.name;
    if (before?.lastPod === attempt) continue;
    // The registry throttled the pull: the node did nothing wrong, so no failure and no backoff
    // for it; the pacer pauses the whole host (functions/pace/hosts.ts) and the node waits.
    if (isThrottle(outcome.message)) {
      throttled.push({ node, message: outcome.message });
      throttle = {
        host: hostOfImage(pod.spec?.containers[0]?.image ?? spec.reference),
        at: observed.now.toISOString(),
        message: outcome.message,
        pull: attempt,
      };
      continue;
    }
    const failure = failureOf(node, outcome.reason, (before?.failures ?? 0) + 1, attempt, observed);
    recorded.push({
      ...recordOf(pod, node, 'failed', undefined, observed.now),
      reason: outcome.reason,
      message: outcome.message,
      failures: failure.failures,
    });
    failed.set(node, failure);
    newMessages.set(outcome.reason, outcome.message);
    // A failed re-pull leaves the image that was there: the node stays cached.
    if (!repulling.has(node)) cached.delete(node);
  }

  // Garbage collection: a node whose kubelet no longer lists the image is pending again, and its
  // pull goes through the pacer like any other (docs/design.md §Garbage collection).
  const listedGone = observed.nodeImages
    ? goneFromNodeStatus({
        cached: [...cached].filter((n) => !pulling.has(n) && !pulledNow.has(n)),
        reports: observed.nodeImages,
        reference: spec.reference,
        digests: previous?.digests,
        resolvedDigest,
        lastPulledAt,
      })
    : [];
  const gone = [
    ...listedGone.filter((n) => !probedGone.has(n)).map((node) => ({ node, how: 'NodeStatus' })),
    ...[...probedGone].sort().map((node) => ({ node, how: 'Probe' })),
  ];
  for (const { node } of gone) {
    cached.delete(node);
    repulling.delete(node);
    probing.delete(node);
  }
  const collected = collectedRecord(
    previous?.collected,
    gone,
    (n) => targetSet.has(n) && !cached.has(n),
    observed.now,
  );
  const ready = targets.filter((n) => cached.has(n));
  const probe = observed.probe
    ? probeCycle({
        intervalMs: observed.probe.intervalMs,
        remaining: [...probing],
        lastProbeAt: previous?.lastProbeAt,
        lastPulledAt,
        undecided: undecidedNodes(
          ready.filter((n) => !pulling.has(n)),
          observed.nodeImages,
        ),
        now: observed.now,
      })
    : keptProbes(previous, probing, ready);
  const repull = observed.repull
    ? repullCycle({
        intervalMs: spec.repullable ? observed.repull.intervalMs : undefined,
        remaining: [...repulling],
        lastRepullAt: previous?.lastRepullAt,
        lastPulledAt,
        ready: ready.filter((n) => !pulling.has(n)),
        now: observed.now,
      })
    : keptCycle(previous, repulling, ready);
  // A node that holds another digest than the registry's is re-pulled like a due re-pull.
  const digests = observed.drift
    ? digestGroups(previous?.digests, pulledDigests, ready, digestBefore ?? resolvedDigest)
    : undefined;
  const outdated = digests ? outdatedNodes(digests, observed.drift?.current) : [];
  const drifting = outdated.filter((n) => !pulling.has(n));
  const withDrift: RepullCycle =
    drifting.length > 0 ? { ...repull, nodes: [...new Set([...repull.nodes, ...drifting])].sort() } : repull;
  const due = new Set(withDrift.nodes);
  for (const node of failed.keys()) {
    if (!targetSet.has(node) || (cached.has(node) && !due.has(node))) failed.delete(node);
  }
  const needsPull = (n: string) => (!cached.has(n) || due.has(n)) && !pulling.has(n);
  // A missing policy stops new pulls: pacing with limits nobody chose would be a silent default.
  const pendingNodes = observed.policyProblem ? [] : targets.filter(needsPull);
  const status = imageStatus({
    generation: observed.generation,
    now: observed.now,
    reference: spec.reference,
    before: previous,
    tag: spec.tag,
    conditions: observed.previous?.conditions ?? [],
    targets,
    ready,
    pulling: [...pulling].sort(),
    pending: pendingNodes,
    failed: [...failed.values()].sort((a, b) => compareText(a.node, b.node)),
    newMessages,
    repull: withDrift,
    missingSecrets: observed.missingSecrets,
    ...(digests ? { digests, outdated } : {}),
    unusableSecrets: observed.unusableSecrets ?? [],
    policyProblem: observed.policyProblem,
    skipped: observed.skipped ?? [],
    collected,
    probe,
    throttled,
    ...(throttle ? { throttle } : {}),
    ...(observed.manifest ? { manifest: observed.manifest } : {}),
    notes: observed.notes ?? [],
    ...(observed.startupTaint ? { startupTaint: observed.startupTaint } : {}),
    resolvedDigest,
    lastPulledAt,
  });
  const events = imageEvents({
    reference: spec.reference,
    previous: observed.previous,
    status,
    recorded,
    throttled,
    backoff: observed.backoff,
  });
  return { deletePods, pendingNodes, recorded, status, events };
}

function hostOfImage(image: string): string {
  const parsed = parseImageReference(image);
  return parsed.ok ? parsed.ref.registry : '';
}

function failureOf(
  node: string,
  reason: string,
  failures: number,
  attempt: string,
  observed: ObservedImage,
): FailedNode {
  const now = observed.now.getTime();
  return {
    node,
    reason,
    failures,
    retryAt: new Date(now + backoffDelayMs(failures, observed.backoff)).toISOString(),
    // The pacer counts the backoff from here with the policy as it is then: nothing to invert.
    lastFailedAt: observed.now.toISOString(),
    lastPod: attempt,
  };
}

function invalidSpecPlan(
  observed: ObservedImage,
  spec: { reason: string; message: string; tag?: string },
): ImagePlan {
  const status = invalidSpecStatus(
    spec,
    observed.previous?.conditions ?? [],
    observed.generation,
    observed.now,
    spec.tag,
  );
  return {
    deletePods: observed.pods
      .filter((p) => !p.metadata.deletionTimestamp)
      .map((p) => ({
        name: p.metadata.name,
        uid: p.metadata.uid,
        node: p.spec?.nodeName ?? '',
        recorded: false,
      })),
    pendingNodes: [],
    recorded: [],
    status,
    events: imageEvents({
      reference: '',
      previous: observed.previous,
      status,
      recorded: [],
      backoff: observed.backoff,
    }),
  };
}

// The policy was not read: the probes go on as recorded, less the nodes probed or no longer cached.
function keptProbes(
  previous: CachedImageStatus | undefined,
  remaining: ReadonlySet<string>,
  ready: readonly string[],
): ProbeCycle {
  return {
    nodes: ready.filter((n) => remaining.has(n)),
    ...(previous?.lastProbeAt ? { lastProbeAt: previous.lastProbeAt } : {}),
    ...(previous?.nextProbeAt ? { nextProbeAt: previous.nextProbeAt } : {}),
  };
}

// The policy was not read: the cycle goes on as recorded, less the nodes that pulled again.
function keptCycle(
  previous: CachedImageStatus | undefined,
  remaining: ReadonlySet<string>,
  ready: readonly string[],
): RepullCycle {
  return {
    nodes: ready.filter((n) => remaining.has(n)),
    ...(previous?.lastRepullAt ? { lastRepullAt: previous.lastRepullAt } : {}),
    ...(previous?.nextRepullAt ? { nextRepullAt: previous.nextRepullAt } : {}),
  };
}

function recordOf(
  pod: Pod,
  node: string,
  result: RecordedPull['result'],
  at: string | undefined,
  now: Date,
): RecordedPull {
  const started = Date.parse(pod.metadata.creationTimestamp ?? '');
  const ended = at ? Date.parse(at) : now.getTime();
  const seconds = Number.isNaN(started) || Number.isNaN(ended) ? 0 : Math.max(0, (ended - started) / 1000);
  return { node, policy: pod.metadata.labels?.[LABEL.policy] ?? '', result, seconds };
}

function oldestFirst(pods: readonly Pod[]): readonly Pod[] {
  return [...pods].sort(
    (a, b) =>
      compareText(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') ||
      compareText(a.metadata.name, b.metadata.name),
  );
}

function latest(a: string | undefined, b: string): string {
  return a && a > b ? a : b;
}
