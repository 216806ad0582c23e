import {
  type CachedImage,
  type CachedImageStatus,
  type ManifestRecord,
  type PullPolicy,
  statusWord,
} from '../../lib/api/index.ts';
import {
  type EventRecorder,
  type HandlerContext,
  informers,
  type Outcome,
  reconcileByName,
  reconcileEach,
  regardingOf,
} from '../../lib/controller/index.ts';
import { parseDuration } from '../../lib/duration.ts';
import {
  beginPullSeries,
  imagesCachedTotal,
  pullErrorsTotal,
  pullLabels,
} from '../../lib/go-drop-metrics.ts';
import { type Kube, type Node, type Pod, paths } from '../../lib/kube/index.ts';
import type { Informer } from '../../lib/kube/informer.ts';
import { pullDuration } from '../../lib/metrics.ts';
import { imageReportIn, type NodeImageReport } from '../../lib/node-images.ts';
import { policyOf, sizeLimitOf, startupTaintOf } from '../../lib/policy/index.ts';
import {
  CACHED_IMAGE_ANNOTATION,
  pullOutcome,
  pullPodSelectorFor,
  REFERENCE_ANNOTATION,
  recordedPullsSelector,
} from '../../lib/pull-pod.ts';
import { type PullSecret, pullSecretProblem } from '../../lib/pull-secret.ts';
import { type Placement, placementOf, skippedIn, targetsIn } from '../../lib/targets.ts';
import { cachedImages, nodes, pullPods, pullPolicies } from '../../lib/watched.ts';
import { driftCheckDue } from './drift.ts';
import { manifestCheckDue, manifestVerdict } from './manifest.ts';
import { canPatchNodes } from './node-permission.ts';
import { type ImagePlan, planImage, policyView, specView } from './plan.ts';
import { askManifest } from './registry.ts';
import { repullDue } from './repull.ts';

/**
 * A status changes with every pull that ends; written at most this often per image, it records
 * every outcome of the interval at once (the pods that show them wait until it is written). At a
 * thousand nodes every write is 20 KB to each watcher of CachedImages, and the pacer frees a slot
 * at a pull's outcome, not at its record, so the interval costs no pacing.
 */
export const STATUS_WRITE_INTERVAL_MS = 5_000;

/** What reconcile-image reads, kept by the process's watches (lib/watched.ts). */
export interface ImageView {
  readonly images: Informer<CachedImage>;
  readonly pods: Informer<Pod>;
  readonly nodes: Informer<Node>;
  readonly policies: Informer<PullPolicy>;
}

/**
 * Runs `work` with the informers reconcile-image reads, opened (and listed) on first use. While
 * they are open, node updates and pull pod deletions come from these informers: its event source
 * sends only nodes joining and leaving, and no pod deletions (config/reconcile-image/sources.yaml
 * says why).
 */
export async function withImageView<R>(
  ctx: HandlerContext,
  namespace: string,
  work: (view: ImageView) => Promise<R>,
): Promise<R> {
  const pool = informers(ctx.kube);
  const held = await Promise.all([
    pool.acquire(cachedImages),
    pool.acquire(pullPods(namespace)),
    pool.acquire(nodes),
    pool.acquire(pullPolicies),
  ]);
  const [images, pods, nodeCache, policies] = held;
  ctx.follow(nodeCache.informer, 'Node', ['update']);
  ctx.follow(pods.informer, 'Pod', ['delete']);
  try {
    return await work({
      images: images.informer,
      pods: pods.informer,
      nodes: nodeCache.informer,
      policies: policies.informer,
    });
  } finally {
    for (const h of held) h.release();
  }
}

/** Where reconcile-image works: the Drop namespace, and the recorder of Events on CachedImages. */
export interface ImageScope {
  readonly namespace: string;
  /** Kubernetes Events on the CachedImage (kubectl describe), aggregated per process. */
  readonly events: EventRecorder;
}

/** Reconciles one CachedImage: plan from the caches, write status (paced), then delete the pods it records. */
export function reconcileImage(
  ctx: HandlerContext,
  scope: ImageScope,
  name: string,
  view: ImageView,
): Promise<Outcome> {
  const { namespace } = scope;
  return reconcileByName<CachedImage, CachedImageStatus>({
    kube: ctx.kube,
    kind: 'CachedImage',
    name,
    path: paths.cachedImage(name),
    cached: () => view.images.get(name),
    observe: (written) => view.images.observe(written),
    minWriteIntervalMs: STATUS_WRITE_INTERVAL_MS,
    urgent: (image) => needsPrompt(image, view.pods.indexed(name), ctx.now()),
    finalize: async () =>
      `removed the pull pods of ${await deletePullPods(ctx.kube, namespace, [name])} images`,
    sync: async (image) => {
      const plan = await planFor(ctx, namespace, image, view);
      return {
        status: plan.status,
        detail: `${statusWord(plan.status)} ${plan.status.ready}; deleted ${plan.deletePods.length} pods; ${plan.pendingNodes.length} pending`,
        // After the status records their outcomes (the pacer reads that status): delete the pods.
        afterward: () => deleteRecorded(ctx.kube, namespace, image, view, plan),
        onWritten: async () => {
          const repository = image.spec?.image ?? '';
          beginPullSeries(repository, policyOf(image), plan.pendingNodes);
          for (const pull of plan.recorded) {
            pullDuration.observe(
              { image: repository, policy: pull.policy, result: pull.result },
              pull.seconds,
            );
            const counter = pull.result === 'cached' ? imagesCachedTotal : pullErrorsTotal;
            counter.inc(pullLabels(repository, pull.node));
          }
          await scope.events.record(ctx.kube, regardingOf('CachedImage', image), plan.events, ctx.now());
        },
      };
    },
  });
}

async function planFor(
  ctx: HandlerContext,
  namespace: string,
  image: CachedImage,
  view: ImageView,
): Promise<ImagePlan> {
  const spec = specView(image);
  const pods = view.pods.indexed(image.metadata.name);
  const now = ctx.now();
  const reads = readsNeeded(image, now);
  const pullPolicy = view.policies.get(policyOf(image));
  const policy = policyView(image, pullPolicy);
  const startupTaint = startupTaintOf(pullPolicy);
  const placement = (spec: Placement) => placementOf(spec, startupTaint);
  const secrets = reads.secrets ? await pullSecretsOf(ctx.kube, namespace, image) : NO_SECRET_PROBLEMS;
  const size = spec.ok
    ? await sizeCheck(ctx.kube, namespace, image, spec.reference, pullPolicy, now)
    : { notes: [] };
  const problem = policy.problem ?? size.problem;
  const drift =
    spec.ok && spec.repullable
      ? await driftCheck(ctx.kube, namespace, image, spec.reference, pullPolicy, size.manifest, now)
      : undefined;
  const manifest = drift?.manifest ?? size.manifest;
  return planImage({
    ...(drift ? { drift: { current: drift.manifest?.digest } } : {}),
    generation: image.metadata.generation ?? 0,
    spec,
    ...(image.status ? { previous: image.status } : {}),
    targets: spec.ok ? targetsIn(view.nodes, placement(spec.placement)) : [],
    skipped: spec.ok ? skippedIn(view.nodes, placement(spec.placement)) : [],
    ...(manifest ? { manifest } : {}),
    notes: size.notes,
    pods,
    missingSecrets: secrets.missing,
    unusableSecrets: secrets.unusable,
    ...(problem ? { policyProblem: problem } : {}),
    backoff: policy.backoff,
    repull: { intervalMs: policy.repullIntervalMs },
    nodeImages: nodeImagesOf(view.nodes, image.status?.cachedNodes ?? []),
    probe: { intervalMs: policy.probeIntervalMs },
    ...(startupTaint ? { startupTaint: { permitted: await canPatchNodes(ctx.kube, now) } } : {}),
    now,
  });
}

/** The image lists of the recorded nodes that report one, from the node cache (no request). */
function nodeImagesOf(nodes: Informer<Node>, cached: readonly string[]): Map<string, NodeImageReport> {
  const reports = new Map<string, NodeImageReport>();
  for (const name of cached) {
    const report = imageReportIn(nodes.get(name));
    if (report) reports.set(name, report);
  }
  return reports;
}

/**
 * maxImageSize, the image's or its policy's, against the size the registry lists for the
 * manifest: asked once per reference (status.manifest keeps the answer), again only after a failed
 * answer has aged. An unknown size pulls anyway: the kubelet meets the same registry.
 */
async function sizeCheck(
  kube: Kube,
  namespace: string,
  image: CachedImage,
  reference: string,
  policy: PullPolicy | undefined,
  now: Date,
): Promise<{
  readonly manifest?: ManifestRecord;
  readonly problem?: { readonly reason: string; readonly message: string };
  readonly notes: readonly string[];
}> {
  const limit = sizeLimitOf(image.spec?.maxImageSize, {
    name: policyOf(image),
    maxImageSize: policy?.spec?.maxImageSize,
  });
  const before = image.status?.manifest;
  const manifest = manifestCheckDue(before, reference, limit, now)
    ? await askManifest(kube, namespace, image, reference, now)
    : before?.reference === reference
      ? before
      : undefined;
  const verdict = manifestVerdict(manifest, reference, limit);
  return {
    ...(manifest ? { manifest } : {}),
    ...(verdict.kind === 'refused' ? { problem: { reason: verdict.reason, message: verdict.message } } : {}),
    notes: verdict.kind === 'unknown' ? [verdict.note] : [],
  };
}

/**
 * Digest drift (PullPolicy digestCheckInterval): the registry is asked for the tag's digest when the
 * last answer is older than the interval (a HEAD, with the image's pull secrets; the size too when
 * a maxImageSize applies). Undefined: checks are off for this image's policy.
 */
async function driftCheck(
  kube: Kube,
  namespace: string,
  image: CachedImage,
  reference: string,
  policy: PullPolicy | undefined,
  known: ManifestRecord | undefined,
  now: Date,
): Promise<{ readonly manifest?: ManifestRecord } | undefined> {
  const text = policy?.spec?.digestCheckInterval;
  const intervalMs = text ? parseDuration(text) : undefined;
  if (!intervalMs) return undefined;
  const before = known ?? image.status?.manifest;
  if (!driftCheckDue(before, reference, intervalMs, now))
    return before?.reference === reference ? { manifest: before } : {};
  const sized = image.spec?.maxImageSize !== undefined || policy?.spec?.maxImageSize !== undefined;
  const asked = await askManifest(kube, namespace, image, reference, now, sized);
  // A failed ask keeps the digest last known: drift is judged against what the registry said.
  if (!asked.digest && before?.reference === reference && before.digest)
    return {
      manifest: { ...before, checkedAt: asked.checkedAt, ...(asked.error ? { error: asked.error } : {}) },
    };
  return { manifest: asked };
}

/**
 * What the pacer waits for is written at once, whatever the interval: a new spec (it paces only
 * an image whose status is for its spec), a failure (its backoff counts from when it is recorded),
 * a re-pull cycle that is due (its nodes are in the status).
 */
function needsPrompt(image: CachedImage, pods: readonly Pod[], now: Date): boolean {
  const status = image.status;
  if (status?.observedGeneration !== image.metadata.generation) return true;
  if (repullDue(status, now)) return true;
  const counted = new Set((status?.failedNodes ?? []).map((f) => f.lastPod));
  return pods.some(
    (p) =>
      !p.metadata.deletionTimestamp &&
      pullOutcome(p).kind === 'failed' &&
      !counted.has(p.metadata.uid ?? p.metadata.name),
  );
}

/**
 * Whether the Secrets must be read: a spec change reads them, and a status that says one was
 * missing reads them again until it exists; a settled image with its Secrets found does not.
 */
function readsNeeded(image: CachedImage, now: Date): { secrets: boolean } {
  const status = image.status;
  const named = (image.spec?.imagePullSecrets ?? []).length > 0;
  const fresh = status?.observedGeneration !== image.metadata.generation || repullDue(status, now);
  const missing = status?.conditions?.some((c) => c.type === 'PullSecretsFound' && c.status === 'False');
  return { secrets: named && (fresh || Boolean(missing)) };
}

const NO_SECRET_PROBLEMS = { missing: [], unusable: [] } as const;

/** The names in spec.imagePullSecrets missing from the Drop namespace, and why the kubelet would skip others. */
async function pullSecretsOf(
  kube: Kube,
  namespace: string,
  image: CachedImage,
): Promise<{ readonly missing: readonly string[]; readonly unusable: readonly string[] }> {
  const names = (image.spec?.imagePullSecrets ?? []).map((s) => s.name);
  const found = await Promise.all(names.map((name) => kube.get<PullSecret>(paths.secret(namespace, name))));
  return {
    missing: names.filter((_, i) => !found[i]),
    unusable: found.flatMap((secret) => {
      const problem = secret && pullSecretProblem(secret);
      return problem ? [problem] : [];
    }),
  };
}

/**
 * Deletes the pods whose outcome the status now records, and those that no longer serve the spec,
 * one request per reference: pod names are a function of (image, reference, node), so the
 * selector of a reference and its nodes matches exactly those pods.
 */
async function deleteRecorded(
  kube: Kube,
  namespace: string,
  image: CachedImage,
  view: ImageView,
  plan: ImagePlan,
) {
  const byReference = new Map<string, string[]>();
  for (const ref of plan.deletePods) {
    const pod = view.pods.get(ref.name, namespace);
    const reference = pod?.metadata.annotations?.[REFERENCE_ANNOTATION] ?? '';
    byReference.set(reference, [...(byReference.get(reference) ?? []), ref.node]);
  }
  await Promise.all(
    [...byReference].map(([reference, onNodes]) =>
      kube.deleteCollection(paths.pods(namespace), {
        labelSelector: recordedPullsSelector(image.metadata.name, reference, onNodes),
        gracePeriodSeconds: 0,
      }),
    ),
  );
  for (const ref of plan.deletePods) {
    const pod = view.pods.get(ref.name, namespace);
    if (pod) view.pods.observe(pod, true);
  }
}

/** Deletes every pull pod of CachedImages that no longer exist: one request per image. */
async function deletePullPods(kube: Kube, namespace: string, names: readonly string[]): Promise<number> {
  await Promise.all(
    names.map((name) =>
      kube.deleteCollection(paths.pods(namespace), { labelSelector: pullPodSelectorFor(name) }),
    ),
  );
  return names.length;
}

/** The ping: every CachedImage (through the queue, so none runs twice at once), and the pods of deleted ones. */
export async function resyncImages(
  ctx: HandlerContext,
  namespace: string,
  view: ImageView,
): Promise<Outcome> {
  const names = new Set(view.images.list().map((i) => i.metadata.name));
  const orphans = new Set(
    view.pods
      .list()
      .map((p) => p.metadata.annotations?.[CACHED_IMAGE_ANNOTATION] ?? '')
      .filter((n) => n && !names.has(n)),
  );
  await deletePullPods(ctx.kube, namespace, [...orphans]);
  return reconcileEach(
    [...names],
    (name) => ctx.reconcile(name),
    `resynced ${names.size} images, removed pods of ${orphans.size} deleted images`,
  );
}
