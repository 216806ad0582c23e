import { API_VERSION, type CachedImage, PLURAL, type PullPolicy } from '../../lib/api/index.ts';
import {
  type Kube,
  type KubeObject,
  type Pod,
  paths,
  runWatch,
  type WatchTarget,
} from '../../lib/kube/index.ts';
import { PULL_POD_SELECTOR, pullOutcome } from '../../lib/pull-pod.ts';

const SYNC_TIMEOUT_MS = 10_000;

/**
 * What the holders in this process read every round — the pull pods, the CachedImages and the
 * PullPolicies — kept by watches for as long as one serves, instead of reads every round (at 100
 * nodes × 10 images, ~0.5 MB of JSON a round). It tells the holders when a slot frees or an
 * image's waiting nodes change, so the next round need not wait for the adapter's event. Pods a holder creates are added at
 * once: a watch that lags can only make a finished pull count as running, never the reverse. The
 * holders of several policies in one process share one view, so each sees the others' new pulls.
 */
export class PacingView {
  readonly #pods = new Map<string, Pod>();
  readonly #images = new Map<string, CachedImage>();
  readonly #policies = new Map<string, PullPolicy>();
  readonly #controller = new AbortController();

  readonly #listeners = new Set<() => void>();

  private constructor() {}

  /** Lists and watches the pull pods in `namespace`, every CachedImage and PullPolicy; resolves once all are listed. */
  static async open(kube: Kube, namespace: string): Promise<PacingView> {
    const view = new PacingView();
    let failure: unknown;
    const onError = (error: unknown) => {
      failure = error;
    };
    const drop = (kind: string, plural: string): WatchTarget => ({
      apiVersion: API_VERSION,
      kind,
      plural,
      path: `/apis/${API_VERSION}/${plural}`,
    });
    const pods = {
      apiVersion: 'v1',
      kind: 'Pod',
      plural: 'pods',
      path: paths.pods(namespace),
      labelSelector: PULL_POD_SELECTOR,
    };
    const listed = [
      view.#watch(kube, pods, view.#pods, (o, d) => view.#onPod(o as Pod, d), onError),
      view.#watch(
        kube,
        drop('CachedImage', PLURAL.CachedImage),
        view.#images,
        (o, d) => view.#onImage(o as CachedImage, d),
        onError,
      ),
      view.#watch(
        kube,
        drop('PullPolicy', PLURAL.PullPolicy),
        view.#policies,
        (o, d) => view.#onPolicy(o as PullPolicy, d),
        onError,
      ),
    ];
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), SYNC_TIMEOUT_MS).unref());
    if ((await Promise.race([Promise.all(listed), timeout])) === 'timeout') {
      view.close();
      throw failure instanceof Error
        ? failure
        : new Error('pacing view: the pods and images were not listed in time');
    }
    return view;
  }

  pods(): Pod[] {
    return [...this.#pods.values()];
  }

  images(): CachedImage[] {
    return [...this.#images.values()];
  }

  policy(name: string): PullPolicy | undefined {
    return this.#policies.get(name);
  }

  /** Calls `listener` when a slot frees, waiting nodes change or a policy changes; returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** A pod this holder just created (the API's answer), before its watch event arrives. */
  created(pod: Pod): void {
    this.#pods.set(pod.metadata.name, pod);
  }

  close(): void {
    this.#controller.abort();
  }

  #watch<T extends KubeObject>(
    kube: Kube,
    target: WatchTarget,
    cache: Map<string, T>,
    onChange: (object: T, deleted: boolean) => void,
    onError: (error: unknown) => void,
  ): Promise<void> {
    return new Promise((listed) => {
      void runWatch(
        kube,
        kube.transport,
        target,
        async (action, object) => onChange(object as T, action === 'delete'),
        this.#controller.signal,
        onError,
        (objects) => {
          cache.clear();
          for (const object of objects) cache.set(object.metadata.name, object as T);
          listed();
        },
      );
    });
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }

  // A pull ended (an outcome, or deleted while pulling): a slot is free.
  #onPod(pod: Pod, deleted: boolean): void {
    const before = this.#pods.get(pod.metadata.name);
    if (deleted) this.#pods.delete(pod.metadata.name);
    else this.#pods.set(pod.metadata.name, pod);
    const wasPulling = before !== undefined && pullOutcome(before).kind === 'pulling';
    if (wasPulling && (deleted || pullOutcome(pod).kind !== 'pulling')) this.#changed();
  }

  // Waiting nodes came or went (a new image, a recorded failure, a node that joined).
  #onImage(image: CachedImage, deleted: boolean): void {
    const before = this.#images.get(image.metadata.name);
    if (deleted) this.#images.delete(image.metadata.name);
    else this.#images.set(image.metadata.name, image);
    if (waitingOf(before) !== waitingOf(deleted ? undefined : image)) this.#changed();
  }

  // New limits may allow more starts (or fewer: the next round counts them).
  #onPolicy(policy: PullPolicy, deleted: boolean): void {
    const before = this.#policies.get(policy.metadata.name);
    if (deleted) this.#policies.delete(policy.metadata.name);
    else this.#policies.set(policy.metadata.name, policy);
    if (deleted || before?.metadata.resourceVersion !== policy.metadata.resourceVersion) this.#changed();
  }
}

// What a round reads of an image: whether its status is for its spec, and which nodes wait.
function waitingOf(image: CachedImage | undefined): string {
  if (!image) return '';
  const settled = `${image.metadata.generation}/${image.status?.observedGeneration}`;
  const waiting = (image.status?.waitingNodes ?? []).map((w) => `${w.node}:${w.reason}:${w.retryAt ?? ''}`);
  return `${settled} ${waiting.join(',')}`;
}
