import type { CachedImage, PullPolicy } from '../../lib/api/index.ts';
import type { Outcome } from '../../lib/events/index.ts';
import { type Kube, KubeError, type Node, type Pod, paths, statusPath } from '../../lib/kube/index.ts';
import { pullDuration } from '../../lib/metrics.ts';
import { CACHED_IMAGE_ANNOTATION, pullOutcome, pullPodSelectorFor } from '../../lib/pull-pod.ts';
import { sameJson } from '../../lib/same-json.ts';
import { targetNodes } from '../../lib/targets.ts';
import { lookupPolicy, missingSecrets, specView } from './observe.ts';
import { type ImagePlan, type ImageSpecView, planImage, targetsOf } from './plan.ts';
import { repullDue } from './repull.ts';

export interface ReconcileDeps {
  readonly kube: Kube;
  readonly namespace: string;
  readonly now: () => Date;
}

/** What the handler needs besides the image itself; read once per event and shared across images. */
export interface Shared {
  readonly nodes: readonly Node[];
  readonly pods?: readonly Pod[];
  readonly policies?: readonly PullPolicy[];
}

export interface ReconcileOptions {
  readonly shared?: Shared | undefined;
  /**
   * A pull pod changed and nothing else: the target nodes are those the status recorded for this
   * spec, so the node list (the largest read, and of no use here) is skipped. Node events and the
   * resync ping list the nodes, so a node that came or went is still noticed.
   */
  readonly targetsFromStatus?: boolean;
  /** The image as a list just returned it: spares the first read (a conflict reads it again). */
  readonly listed?: CachedImage;
}

const WRITE_ATTEMPTS = 3;

/** Reconciles one CachedImage: read, plan, write status, then delete what the status now records. */
export async function reconcileImage(
  deps: ReconcileDeps,
  name: string,
  options: ReconcileOptions = {},
): Promise<Outcome> {
  let shared = options.shared;
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const image =
      attempt === 0 && options.listed
        ? options.listed
        : await deps.kube.get<CachedImage>(paths.cachedImage(name));
    if (!image || image.metadata.deletionTimestamp) {
      const removed = await deletePullPods(deps, name);
      return { result: 'ignored', detail: `CachedImage ${name} is gone; removed ${removed} pull pods` };
    }
    const result = await reconcileExisting(deps, image, { ...options, shared });
    if (result !== 'conflict') return result;
    shared = undefined;
  }
  return { result: 'retry', status: 503, detail: `status of CachedImage ${name} kept changing under us` };
}

async function reconcileExisting(
  deps: ReconcileDeps,
  image: CachedImage,
  options: ReconcileOptions,
): Promise<Outcome | 'conflict'> {
  const { kube, namespace } = deps;
  const { shared } = options;
  const name = image.metadata.name;
  const spec = specView(image);
  const [targets, pods] = await Promise.all([
    targetsFor(kube, image, spec, options),
    shared?.pods?.filter((p) => belongsTo(p, name)) ??
      kube.list<Pod>(paths.pods(namespace), { labelSelector: pullPodSelectorFor(name) }).then((l) => l.items),
  ]);
  const now = deps.now();
  const reads = readsNeeded(image, pods, now, Boolean(shared));
  const [policy, secrets] = await Promise.all([
    lookupPolicy(kube, image, { needed: reads.policy, listed: shared?.policies }),
    missingSecrets(kube, namespace, image, { needed: reads.secrets }),
  ]);
  const plan = planImage({
    generation: image.metadata.generation ?? 0,
    spec,
    previous: image.status,
    targets,
    pods,
    missingSecrets: secrets,
    ...(policy.problem ? { policyProblem: policy.problem } : {}),
    backoff: policy.backoff,
    ...(policy.read ? { repull: { intervalMs: policy.repullIntervalMs } } : {}),
    now,
  });
  if (!sameJson(image.status, plan.status)) {
    const written = await writeStatus(kube, image, plan);
    if (written === 'conflict') return 'conflict';
    for (const pull of plan.recorded)
      pullDuration.observe({ policy: pull.policy, result: pull.result }, pull.seconds);
  }
  // The status now lists the pending nodes: its update event is what tells the pacer to start them.
  await Promise.all(plan.deletePods.map((p) => kube.delete(paths.pod(namespace, p.name), { uid: p.uid })));
  return {
    result: 'done',
    detail: `${plan.status.phase} ${plan.status.ready}; deleted ${plan.deletePods.length} pods; ${plan.pendingNodes.length} pending`,
  };
}

async function targetsFor(
  kube: Kube,
  image: CachedImage,
  spec: ImageSpecView,
  options: ReconcileOptions,
): Promise<readonly string[]> {
  if (!spec.ok) return [];
  const generation = image.metadata.generation ?? 0;
  const recorded = options.targetsFromStatus && targetsOf(image.status, generation, spec.reference);
  if (recorded) return recorded;
  const nodes = options.shared?.nodes ?? (await kube.list<Node>(paths.nodes())).items;
  return targetNodes(nodes, spec.placement);
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
  return {
    policy: fresh || failure || repullDue(status, now) || POLICY_PROBLEMS.has(status?.phase ?? ''),
    secrets: fresh || Boolean(secretsMissing),
  };
}

async function writeStatus(kube: Kube, image: CachedImage, plan: ImagePlan): Promise<'ok' | 'conflict'> {
  try {
    // PUT on /status with the resourceVersion we read: a concurrent writer makes this a 409, never a lost update.
    await kube.replace(statusPath(paths.cachedImage(image.metadata.name)), { ...image, status: plan.status });
    return 'ok';
  } catch (error) {
    if (error instanceof KubeError && error.kind === 'conflict') return 'conflict';
    if (error instanceof KubeError && error.kind === 'not-found') return 'ok';
    throw error;
  }
}

/** Deletes every pull pod of a CachedImage that no longer exists. */
export async function deletePullPods(
  deps: Pick<ReconcileDeps, 'kube' | 'namespace'>,
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
