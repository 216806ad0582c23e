import type { CachedImage, PullPolicy } from '../../lib/api/index.ts';
import { informers } from '../../lib/controller/index.ts';
import type { Kube, Node, Pod } from '../../lib/kube/index.ts';
import type { Change, Informer } from '../../lib/kube/informer.ts';
import { createLogger } from '../../lib/log.ts';
import { policyOf, startupTaintOf } from '../../lib/policy/index.ts';
import { CACHED_IMAGE_ANNOTATION, PROBE_ANNOTATION, pullOutcome } from '../../lib/pull-pod.ts';
import { placementOf, skipReason, targetsIn } from '../../lib/targets.ts';
import { RegistryHosts } from './hosts.ts';

const log = createLogger({ function: 'pace' });

import { cachedImages, nodes, pullPods, pullPolicies } from '../../lib/watched.ts';

/** How long a pull that ended unrecorded keeps its (image, node) busy at most. */
const UNRECORDED_MS = 30_000;

/**
 * What the holders in this process read every round — the pull pods, the CachedImages, the
 * PullPolicies and the nodes — from the process's watches (lib/controller informers), shared by
 * the holders of every policy, so each sees the others' new pulls. It tells them when something
 * that can let a pull start happened: a slot freed, an image's pulls changed, a policy or a node
 * changed. Pods a holder creates are added at once: a watch that lags can only make a finished
 * pull count as running, never the reverse.
 */
export class PacingView {
  readonly #listeners = new Set<() => void>();
  /** By image: nodes whose pull ended and was deleted before the image's status recorded it. */
  readonly #unrecorded = new Map<string, Map<string, number>>();
  /** By pod name: when this view first saw the pod finished (epoch ms), until it is deleted. */
  readonly #endedAt = new Map<string, number>();
  readonly #unsubscribe: (() => void)[] = [];

  /** The registry hosts' records (pauses after a throttle, starts per hour), shared by the holders. */
  readonly hosts: RegistryHosts;

  private constructor(
    private readonly namespace: string,
    hosts: RegistryHosts,
    private readonly podCache: Informer<Pod>,
    private readonly imageCache: Informer<CachedImage>,
    private readonly policyCache: Informer<PullPolicy>,
    private readonly nodeCache: Informer<Node>,
    private readonly release: () => void,
  ) {
    this.hosts = hosts;
    this.#unsubscribe.push(
      podCache.subscribe((c) => this.#onPod(c)),
      imageCache.subscribe((c) => this.#onImage(c)),
      policyCache.subscribe(() => this.#changed()),
      nodeCache.subscribe((c) => this.#onNode(c)),
    );
  }

  /** The view over the process's watches of pods in `namespace`, images, policies and nodes (listed first). */
  static async open(kube: Kube, namespace: string): Promise<PacingView> {
    const pool = informers(kube);
    const held = await Promise.all([
      pool.acquire(pullPods(namespace)),
      pool.acquire(cachedImages),
      pool.acquire(pullPolicies),
      pool.acquire(nodes),
    ]);
    const [pods, images, policies, nodeCache] = held;
    const hosts = new RegistryHosts(kube, namespace, (error) =>
      log.warn('writing a registry host Lease failed', { error: String(error) }),
    );
    return new PacingView(
      namespace,
      hosts,
      pods.informer,
      images.informer,
      policies.informer,
      nodeCache.informer,
      () => {
        for (const h of held) h.release();
      },
    );
  }

  pods(): Pod[] {
    return this.podCache.list();
  }

  /**
   * Whether this process's watch shows the pull pod, or showed it deleted lately: then the pod
   * itself (pulling, an outcome, or gone) says whether it holds a slot of its registry host, and
   * its reservation (functions/pace/hosts.ts) no longer counts — also when the pod came and went
   * before this view opened, while no holder here served.
   */
  knows(pod: string): boolean {
    return (
      this.podCache.get(pod, this.namespace) !== undefined || this.podCache.deletedLately(pod, this.namespace)
    );
  }

  images(): CachedImage[] {
    return this.imageCache.list();
  }

  policy(name: string): PullPolicy | undefined {
    return this.policyCache.get(name);
  }

  policies(): PullPolicy[] {
    return this.policyCache.list();
  }

  /** The image's target nodes now (computed once per placement while the nodes stay as they are). */
  targetsOf(image: CachedImage): readonly string[] {
    return targetsIn(this.nodeCache, placementOf(image.spec, startupTaintOf(this.policy(policyOf(image)))));
  }

  /** When the node was created (epoch ms), if known. */
  joinedAt(node: string): number | undefined {
    const cached = this.nodeCache.get(node);
    if (cached === undefined) return undefined;
    // Kept per node object (the cache's, until the node changes): a round asks of every pending node.
    if (!joinedAt.has(cached)) {
      const created = Date.parse(cached.metadata.creationTimestamp ?? '');
      joinedAt.set(cached, Number.isNaN(created) ? undefined : created);
    }
    return joinedAt.get(cached);
  }

  /** Nodes whose pull of `image` ended unrecorded (see #onPod). */
  unrecorded(image: string): ReadonlySet<string> {
    const nodesOf = this.#unrecorded.get(image);
    if (!nodesOf) return EMPTY;
    const now = Date.now();
    for (const [node, at] of nodesOf) if (now - at > UNRECORDED_MS) nodesOf.delete(node);
    return new Set(nodesOf.keys());
  }

  /**
   * When this view first saw the pull pod finished (epoch ms): at its outcome, or the first time
   * a round asks about one that had finished before the view opened.
   */
  endedAt(pod: string): number {
    const seen = this.#endedAt.get(pod);
    if (seen !== undefined) return seen;
    const now = Date.now();
    this.#endedAt.set(pod, now);
    return now;
  }

  /**
   * When the earliest unrecorded hold ends (epoch ms), if any: nothing else may happen then (its
   * status can be written before the pod's delete arrives, or never), so a round must wake for it.
   */
  unrecordedEnds(): number | undefined {
    let earliest: number | undefined;
    const now = Date.now();
    for (const nodesOf of this.#unrecorded.values())
      for (const at of nodesOf.values())
        if (now - at <= UNRECORDED_MS)
          earliest = Math.min(earliest ?? Number.POSITIVE_INFINITY, at + UNRECORDED_MS + 1);
    return earliest;
  }

  /** Calls `listener` when a slot frees or work or limits change; returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** An image as a status write returned it, before its watch event arrives. */
  observeImage(image: CachedImage): void {
    this.imageCache.observe(image);
  }

  /** A pod this holder just created (the API's answer), before its watch event arrives. */
  created(pod: Pod): void {
    this.podCache.observe(pod);
  }

  close(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#listeners.clear();
    this.release();
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }

  // A pull ended (an outcome, or deleted while pulling): a slot is free. One deleted after its
  // outcome may be deleted before the image's status says so: it stays busy for its image until
  // the status records it, so the stale status never asks for the same pull again.
  #onPod({ type, object, before }: Change<Pod>): void {
    // A registry that throttled a pull pauses its host for every holder at once.
    if (this.hosts.observePod(object, Date.now())) this.#changed();
    const wasPulling = before !== undefined && pullOutcome(before).kind === 'pulling';
    const outcome = pullOutcome(object).kind;
    if (type === 'delete') this.#endedAt.delete(object.metadata.name);
    else if (outcome !== 'pulling' && !this.#endedAt.has(object.metadata.name))
      this.#endedAt.set(object.metadata.name, Date.now());
    if (type === 'delete' && outcome !== 'pulling') {
      const image = object.metadata.annotations?.[CACHED_IMAGE_ANNOTATION] ?? '';
      const node = object.spec?.nodeName ?? '';
      if (!this.#recorded(image, node, object)) {
        const nodesOf = this.#unrecorded.get(image) ?? new Map<string, number>();
        nodesOf.set(node, Date.now());
        this.#unrecorded.set(image, nodesOf);
      }
    }
    if (wasPulling && (type === 'delete' || outcome !== 'pulling')) this.#changed();
    // A deleted probe frees its node for the pull it may have found needed.
    else if (type === 'delete' && object.metadata.annotations?.[PROBE_ANNOTATION]) this.#changed();
  }

  #recorded(image: string, node: string, pod: Pod): boolean {
    const status = this.imageCache.get(image)?.status;
    // A probe is recorded once the node is no longer due one, or is recorded as collected.
    if (pod.metadata.annotations?.[PROBE_ANNOTATION])
      return (
        !(status?.probeNodes ?? []).includes(node) || (status?.collected ?? []).some((c) => c.node === node)
      );
    if (pullOutcome(pod).kind === 'cached') return (status?.cachedNodes ?? []).includes(node);
    return (status?.failedNodes ?? []).some((f) => f.node === node && f.lastPod === pod.metadata.uid);
  }

  // What a round reads of an image changed: its spec, or the records of its pulls.
  #onImage({ object, before }: Change<CachedImage>): void {
    const nodesOf = this.#unrecorded.get(object.metadata.name);
    if (nodesOf) {
      const recorded = new Set([
        ...(object.status?.cachedNodes ?? []),
        ...(object.status?.failedNodes ?? []).map((f) => f.node),
        // A probe that found the image gone: the node is pending again, for a pull.
        ...(object.status?.collected ?? []).map((c) => c.node),
      ]);
      for (const node of nodesOf.keys()) if (recorded.has(node)) nodesOf.delete(node);
    }
    if (workOf(before) !== workOf(object)) this.#changed();
  }

  // A node that came, went or changed what makes it a target changes every image's targets.
  #onNode({ type, object, before }: Change<Node>): void {
    if (type === 'update' && before && targetPrint(before) === targetPrint(object)) return;
    this.#changed();
  }
}

const EMPTY: ReadonlySet<string> = new Set();

/** When each node object (the cache's) was created, epoch ms: see PacingView.joinedAt. */
const joinedAt = new WeakMap<Node, number | undefined>();

// What a round reads of an image besides its pods: the spec it pulls and the records of its pulls.
// The pacer's own summary (status.pacing) is left out, so writing it wakes no round.
function workOf(image: CachedImage | undefined): string {
  if (!image) return '';
  const status = image.status;
  return JSON.stringify([
    image.metadata.generation,
    image.spec,
    status?.observedGeneration,
    status?.reference,
    status?.phase,
    status?.repullNodes?.length,
    status?.probeNodes?.length,
    (status?.failedNodes ?? []).map((f) => `${f.node}:${f.failures}:${f.lastFailedAt}`),
  ]);
}

function targetPrint(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? '';
  return JSON.stringify([
    node.metadata.labels,
    node.spec?.taints,
    node.spec?.unschedulable,
    ready,
    node.metadata.deletionTimestamp,
    skipReason(node),
  ]);
}
