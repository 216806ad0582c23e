import type { CachedImage } from '../../lib/api/index.ts';
import type { Outcome } from '../../lib/events/index.ts';
import { type Kube, KubeError, type Node, type Pod, paths, statusPath } from '../../lib/kube/index.ts';
import { CACHED_IMAGE_ANNOTATION, pullPodSelectorFor } from '../../lib/pull-pod.ts';
import { sameJson } from '../../lib/same-json.ts';
import { lookupPolicy, missingSecrets, type PolicyLookup, specView } from './observe.ts';
import { type ImagePlan, planImage } from './plan.ts';

export interface ReconcileDeps {
  readonly kube: Kube;
  readonly namespace: string;
  readonly now: () => Date;
  /** Asks the pacer to start pulls for a policy that has pending nodes. */
  readonly requestPulls: (policy: string) => Promise<void>;
}

/** What the handler needs besides the image itself; read once per event and shared across images. */
export interface Shared {
  readonly nodes: readonly Node[];
  readonly pods?: readonly Pod[];
}

const WRITE_ATTEMPTS = 3;

/** Reconciles one CachedImage: read, plan, write status, then delete what the status now records. */
export async function reconcileImage(deps: ReconcileDeps, name: string, shared?: Shared): Promise<Outcome> {
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const image = await deps.kube.get<CachedImage>(paths.cachedImage(name));
    if (!image || image.metadata.deletionTimestamp) {
      const removed = await deletePullPods(deps, name);
      return { result: 'ignored', detail: `CachedImage ${name} is gone; removed ${removed} pull pods` };
    }
    const result = await reconcileExisting(deps, image, shared);
    if (result !== 'conflict') return result;
    shared = undefined;
  }
  return { result: 'retry', status: 503, detail: `status of CachedImage ${name} kept changing under us` };
}

async function reconcileExisting(
  deps: ReconcileDeps,
  image: CachedImage,
  shared: Shared | undefined,
): Promise<Outcome | 'conflict'> {
  const { kube, namespace } = deps;
  const name = image.metadata.name;
  const spec = specView(image);
  const [nodes, pods] = await Promise.all([
    shared?.nodes ?? kube.list<Node>(paths.nodes()).then((l) => l.items),
    shared?.pods?.filter((p) => belongsTo(p, name)) ??
      kube.list<Pod>(paths.pods(namespace), { labelSelector: pullPodSelectorFor(name) }).then((l) => l.items),
  ]);
  const settled = image.status?.observedGeneration === image.metadata.generation;
  const policy: PolicyLookup = await lookupPolicy(kube, image, { needed: !settled || hasWork(image, pods) });
  const secrets = await missingSecrets(kube, namespace, image, { needed: !settled || hasWork(image, pods) });
  const plan = planImage({
    generation: image.metadata.generation ?? 0,
    spec,
    previous: image.status,
    nodes,
    pods,
    missingSecrets: secrets,
    ...(policy.problem ? { policyProblem: policy.problem } : {}),
    backoff: policy.backoff,
    now: deps.now(),
  });
  if (!sameJson(image.status, plan.status)) {
    const written = await writeStatus(kube, image, plan);
    if (written === 'conflict') return 'conflict';
  }
  await Promise.all(plan.deletePods.map((p) => kube.delete(paths.pod(namespace, p.name), { uid: p.uid })));
  if (plan.pendingNodes.length > 0 && !policy.problem) await deps.requestPulls(policy.name);
  return {
    result: 'done',
    detail: `${plan.status.phase} ${plan.status.ready}; deleted ${plan.deletePods.length} pods; ${plan.pendingNodes.length} pending`,
  };
}

function belongsTo(pod: Pod, name: string): boolean {
  return pod.metadata.annotations?.[CACHED_IMAGE_ANNOTATION] === name;
}

// Steady state means nothing to record and nothing to start: skip the policy and Secret reads.
function hasWork(image: CachedImage, pods: readonly Pod[]): boolean {
  return pods.length > 0 || image.status?.phase !== 'Cached';
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
