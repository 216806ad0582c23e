import { API_VERSION, type CachedImage, type PullPolicy, statusWord } from '../../lib/api/index.ts';
import {
  type EventRecorder,
  inBatches,
  type Outcome,
  type Regarding,
  reconcileByName,
  reconcileEach,
} from '../../lib/controller/index.ts';
import {
  beginPullSeries,
  imagesCachedTotal,
  pullErrorsTotal,
  pullLabels,
} from '../../lib/go-drop-metrics.ts';
import { type Kube, type Node, type Pod, paths } from '../../lib/kube/index.ts';
import { pullDuration } from '../../lib/metrics.ts';
import { DEFAULT_PACING_LIMITS, policyOf } from '../../lib/policy/index.ts';
import {
  CACHED_IMAGE_ANNOTATION,
  PULL_POD_SELECTOR,
  pullOutcome,
  pullPodSelectorFor,
} from '../../lib/pull-pod.ts';
import { targetNodes } from '../../lib/targets.ts';
import { type ImageSpecView, planImage, policyView, specView, targetsOf } from './plan.ts';
import { repullDue } from './repull.ts';

export interface ImageDeps {
  readonly kube: Kube;
  readonly namespace: string;
  readonly now: () => Date;
  /** Kubernetes Events on the CachedImage (kubectl describe). */
  readonly events: EventRecorder;
}

/** What an event asks reconcile-image to look at. */
export interface ImageKey {
  readonly name: string;
  /**
   * A pull pod changed and nothing else: the target nodes are those the status recorded for this
   * spec, so the node list (the largest read, and of no use here) is skipped. Node events and the
   * resync ping list the nodes, so a node that came or went is still noticed.
   */
  readonly targetsFromStatus?: boolean;
}

/** What a resync reads once and shares across every image. */
interface Shared {
  readonly nodes: readonly Node[];
  readonly pods: readonly Pod[];
  readonly policies: readonly PullPolicy[];
}

/** Reconciles one CachedImage: read, plan, write status, then delete the pods the status now records. */
export function reconcileImage(
  deps: ImageDeps,
  key: ImageKey,
  resync?: { readonly shared: Shared; readonly listed: CachedImage },
): Promise<Outcome> {
  return reconcileByName<CachedImage, CachedImage['status']>({
    kube: deps.kube,
    kind: 'CachedImage',
    name: key.name,
    path: paths.cachedImage(key.name),
    listed: resync?.listed,
    finalize: async () => `removed ${await deletePullPods(deps, key.name)} pull pods`,
    // After a conflict the shared lists may be stale: read what this image needs afresh.
    sync: (image, attempt) => syncImage(deps, image, key, attempt === 0 ? resync?.shared : undefined),
  });
}

async function syncImage(deps: ImageDeps, image: CachedImage, key: ImageKey, shared: Shared | undefined) {
  const { kube, namespace } = deps;
  const name = image.metadata.name;
  const spec = specView(image);
  const [targets, pods] = await Promise.all([
    targetsFor(kube, image, spec, key, shared),
    shared?.pods.filter((p) => belongsTo(p, name)) ??
      kube.list<Pod>(paths.pods(namespace), { labelSelector: pullPodSelectorFor(name) }).then((l) => l.items),
  ]);
  const now = deps.now();
  const reads = readsNeeded(image, pods, now, Boolean(shared));
  const [policy, missingSecrets] = await Promise.all([
    reads.policy ? readPolicy(kube, image, shared) : undefined,
    reads.secrets ? missingSecretsOf(kube, namespace, image) : [],
  ]);
  const plan = planImage({
    generation: image.metadata.generation ?? 0,
    spec,
    ...(image.status ? { previous: image.status } : {}),
    targets,
    pods,
    missingSecrets,
    ...(policy?.problem ? { policyProblem: policy.problem } : {}),
    backoff: policy?.backoff ?? DEFAULT_PACING_LIMITS.failureBackoff,
    // Unread, the re-pull cycle goes on as the status has it.
    ...(policy ? { repull: { intervalMs: policy.repullIntervalMs } } : {}),
    now,
  });
  return {
    status: plan.status,
    detail: `${statusWord(plan.status)} ${plan.status.ready}; deleted ${plan.deletePods.length} pods; ${plan.pendingNodes.length} pending`,
    onWritten: async () => {
      const repository = image.spec?.image ?? '';
      beginPullSeries(repository, policyOf(image), plan.pendingNodes);
      for (const pull of plan.recorded) {
        pullDuration.observe({ image: repository, policy: pull.policy, result: pull.result }, pull.seconds);
        const counter = pull.result === 'cached' ? imagesCachedTotal : pullErrorsTotal;
        counter.inc(pullLabels(repository, pull.node));
      }
      await deps.events.record(kube, regardingOf(image), plan.events, now);
    },
    // The status now lists the pending nodes: its update event is what tells the pacer to start them.
    afterward: async () => {
      await Promise.all(
        plan.deletePods.map((p) => kube.delete(paths.pod(namespace, p.name), { uid: p.uid })),
      );
    },
  };
}

/** The CachedImage as its Events refer to it (kubectl describe finds them by uid). */
function regardingOf(image: CachedImage): Regarding {
  return {
    apiVersion: API_VERSION,
    kind: 'CachedImage',
    name: image.metadata.name,
    uid: image.metadata.uid ?? '',
  };
}

async function targetsFor(
  kube: Kube,
  image: CachedImage,
  spec: ImageSpecView,
  key: ImageKey,
  shared: Shared | undefined,
): Promise<readonly string[]> {
  if (!spec.ok) return [];
  const recorded =
    key.targetsFromStatus && targetsOf(image.status, image.metadata.generation ?? 0, spec.reference);
  if (recorded) return recorded;
  const nodes = shared?.nodes ?? (await kube.list<Node>(paths.nodes())).items;
  return targetNodes(nodes, spec.placement);
}

/** The image's policy, from the resync's list or read for it. */
async function readPolicy(kube: Kube, image: CachedImage, shared: Shared | undefined) {
  const name = policyOf(image);
  const policy = shared
    ? shared.policies.find((p) => p.metadata.name === name)
    : await kube.get<PullPolicy>(paths.pullPolicy(name));
  return policyView(image, policy);
}

/** Names in spec.imagePullSecrets that do not exist in the Drop namespace. */
async function missingSecretsOf(
  kube: Kube,
  namespace: string,
  image: CachedImage,
): Promise<readonly string[]> {
  const names = (image.spec?.imagePullSecrets ?? []).map((s) => s.name);
  const found = await Promise.all(names.map((name) => kube.get(paths.secret(namespace, name))));
  return names.filter((_, i) => !found[i]);
}

function belongsTo(pod: Pod, name: string): boolean {
  return pod.metadata.annotations?.[CACHED_IMAGE_ANNOTATION] === name;
}

// Steady state means nothing to record and nothing to start: skip the policy and Secret reads.
const POLICY_PROBLEMS = new Set(['PolicyNotFound', 'InvalidPolicy']);

/**
 * Which reads this reconcile needs besides the image and its pods. A pod event on a settled image
 * needs neither the policy nor the Secrets, unless it records a failure (its backoff is the
 * policy's), a re-pull is due, or the status reports a problem with them that may have gone; a
 * spec change and the resync read both.
 */
function readsNeeded(
  image: CachedImage,
  pods: readonly Pod[],
  now: Date,
  resync: boolean,
): { policy: boolean; secrets: boolean } {
  const status = image.status;
  const fresh = resync || status?.observedGeneration !== image.metadata.generation;
  const failure = pods.some((p) => !p.metadata.deletionTimestamp && pullOutcome(p).kind === 'failed');
  // Unread Secrets count as found: only a status that says one was missing needs them read again.
  const secretsMissing = status?.conditions?.some(
    (c) => c.type === 'PullSecretsFound' && c.status === 'False',
  );
  const named = (image.spec?.imagePullSecrets ?? []).length > 0;
  return {
    policy: fresh || failure || repullDue(status, now) || POLICY_PROBLEMS.has(statusWord(status)),
    secrets: named && (fresh || Boolean(secretsMissing)),
  };
}

/** Deletes every pull pod of a CachedImage that no longer exists. */
export async function deletePullPods(
  deps: Pick<ImageDeps, 'kube' | 'namespace'>,
  name: string,
): Promise<number> {
  const pods = await deps.kube.list<Pod>(paths.pods(deps.namespace), {
    labelSelector: pullPodSelectorFor(name),
  });
  const mine = pods.items.filter((p) => belongsTo(p, name));
  await Promise.all(
    mine.map((p) => deps.kube.delete(paths.pod(deps.namespace, p.metadata.name), { uid: p.metadata.uid })),
  );
  return mine.length;
}

/** The ping: every CachedImage, plus pull pods whose CachedImage no longer exists. */
export async function resyncImages(deps: ImageDeps): Promise<Outcome> {
  const [images, nodes, pods, policies] = await Promise.all([
    deps.kube.list<CachedImage>(paths.cachedImages()),
    deps.kube.list<Node>(paths.nodes()),
    deps.kube.list<Pod>(paths.pods(deps.namespace), { labelSelector: PULL_POD_SELECTOR }),
    deps.kube.list<PullPolicy>(paths.pullPolicies()),
  ]);
  const names = new Set(images.items.map((i) => i.metadata.name));
  const orphans = new Set(
    pods.items
      .map((p) => p.metadata.annotations?.[CACHED_IMAGE_ANNOTATION] ?? '')
      .filter((n) => n && !names.has(n)),
  );
  await inBatches([...orphans], (name) => deletePullPods(deps, name));
  // One list of each kind serves every image: a steady-state resync costs four requests in all.
  const shared = { nodes: nodes.items, pods: pods.items, policies: policies.items };
  return reconcileEach(
    images.items,
    (image) => reconcileImage(deps, { name: image.metadata.name }, { shared, listed: image }),
    `resynced ${images.items.length} images, removed pods of ${orphans.size} deleted images`,
  );
}
