// The bandwidth model's loop: watches Drop's pull pods, lets the sized ones on a node share that
// node's bandwidth, and tells kwok when each pull has its last byte. See README.md "Pull time".
import {
  createKube,
  type Kube,
  KubeError,
  loadKubeConfig,
  type Node,
  type Pod,
  paths,
} from '../../lib/kube/index.ts';
import { runWatch } from '../../lib/kube/watch.ts';
import {
  emptyLink,
  goDuration,
  join,
  type Link,
  leave,
  MODELLED_POD_SELECTOR,
  MODELLED_PULL_TIME_ANNOTATION,
  nextFinish,
  nodeBandwidth,
  PULL_DELAY_ANNOTATION,
  podChange,
  takeFinished,
} from './bandwidth-model.ts';

export interface BandwidthModelOptions {
  readonly kubeconfigPath: string;
  /** Only pull pods in this namespace; default every namespace. */
  readonly namespace?: string;
  /** Receives one JSON line per pull the model lets go; default none. */
  readonly log?: (line: string) => void;
  /** Default: a line on stderr. The model keeps going (the watch relists; a release is retried). */
  readonly onError?: (context: string, error: unknown) => void;
}

export interface BandwidthModel {
  /** Stops the watch and the timers; pulls still in flight stay ContainerCreating. */
  stop(): Promise<void>;
}

const FIELD_MANAGER = 'drop-bandwidth-model';
const PATCH_ATTEMPTS = 5;

/**
 * Starts the model in this process. Pods that exist already are picked up too (the watch lists
 * first); a sized pull still in ContainerCreating starts its clock when the model first sees it.
 */
export function startBandwidthModel(options: BandwidthModelOptions): BandwidthModel {
  const kube = createKube(loadKubeConfig(options.kubeconfigPath), FIELD_MANAGER);
  const onError = options.onError ?? logError;
  const controller = new AbortController();
  const links = new Map<string, Link>();
  const timers = new Map<string, NodeJS.Timeout>();
  // Let go, until a watch event shows it: an older event still in the stream must not start it again.
  const released = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  // Each node's bandwidth, from a watch of the nodes: fetching the node when a pull starts held up
  // the pod watch behind every fetch (its events are handled one at a time), and at 1,000 nodes
  // with 400 pulls in flight the model saw each pull start ~2 s late.
  const bandwidths = new Map<string, number>();

  const setLink = (node: string, link: Link) => {
    clearTimeout(timers.get(node));
    timers.delete(node);
    const at = nextFinish(link);
    if (at === undefined) return void links.delete(node);
    links.set(node, link);
    // +1 ms: Node may fire a timer up to a millisecond early.
    timers.set(
      node,
      setTimeout(() => onTimer(node), Math.max(0, at - Date.now()) + 1),
    );
  };

  const onTimer = (node: string) => {
    const link = links.get(node);
    if (!link) return;
    const { link: rest, finished } = takeFinished(link, Date.now());
    setLink(node, rest);
    for (const [key, pull] of finished) {
      const modelled = goDuration(pull.finishedAt - pull.startedAt);
      letGo(key, modelled, {
        node,
        bytes: pull.bytes,
        bandwidth: link.bandwidth,
        maxSharing: pull.maxSharing,
      });
    }
  };

  const letGo = (key: string, modelled: string, fields: Readonly<Record<string, unknown>>) => {
    released.add(key);
    const done = release(kube, key, modelled).then(
      (outcome) => {
        if (outcome === 'gone') released.delete(key);
        else
          options.log?.(
            JSON.stringify({ time: new Date().toISOString(), msg: 'pulled', pod: key, modelled, ...fields }),
          );
      },
      (error: unknown) => {
        released.delete(key);
        onError(`release ${key}`, error);
      },
    );
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  };

  const onPod = async (pod: Pod, deleted: boolean) => {
    const node = pod.spec?.nodeName ?? '';
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const change = podChange(pod, deleted);
    const link = links.get(node);
    if (change.kind === 'leave') {
      released.delete(key);
      if (link?.pulls.has(key)) setLink(node, leave(link, key, Date.now()));
      return;
    }
    if (change.kind === 'ignore' || released.has(key) || link?.pulls.has(key)) return;
    if (change.kind === 'invalid') {
      onError(`pod ${key}`, new Error(`${change.message}; let go without a modelled pull time`));
      return letGo(key, 'not modelled', { node, problem: change.message });
    }
    const bandwidth =
      bandwidths.get(node) ?? nodeBandwidth(await kube.get<Node>(paths.node(node)).catch(() => undefined));
    // Read the link again: a timer may have moved it while the node was fetched.
    const now = Date.now();
    setLink(node, join(links.get(node) ?? emptyLink(bandwidth, now), key, change.bytes, bandwidth, now));
  };

  void runWatch(
    kube,
    kube.transport,
    { apiVersion: 'v1', kind: 'Node', plural: 'nodes', path: paths.nodes() },
    async (action, object) => {
      const name = object.metadata.name ?? '';
      if (action === 'delete') bandwidths.delete(name);
      else bandwidths.set(name, nodeBandwidth(object as Node));
    },
    controller.signal,
    (error) => onError('watch nodes', error),
  );
  void runWatch(
    kube,
    kube.transport,
    {
      apiVersion: 'v1',
      kind: 'Pod',
      plural: 'pods',
      path: options.namespace ? paths.pods(options.namespace) : '/api/v1/pods',
      labelSelector: MODELLED_POD_SELECTOR,
    },
    (action, object) => onPod(object as Pod, action === 'delete'),
    controller.signal,
    (error) => onError('watch pull pods', error),
  );

  return {
    async stop() {
      controller.abort();
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...inFlight]);
      kube.transport.close();
    },
  };
}

/**
 * Ends the pull for kwok: drop.test/pull-delay `0s` opens the stages' gate with no further delay
 * (kwok restarts a pending delay on every change of the pod, so the model writes once, at the end).
 */
async function release(kube: Kube, key: string, modelled: string): Promise<'released' | 'gone'> {
  const [namespace = '', name = ''] = key.split('/');
  const patch = {
    metadata: { annotations: { [PULL_DELAY_ANNOTATION]: '0s', [MODELLED_PULL_TIME_ANNOTATION]: modelled } },
  };
  for (let attempt = 1; ; attempt++) {
    try {
      await kube.mergePatch(paths.pod(namespace, name), patch);
      return 'released';
    } catch (error) {
      if (error instanceof KubeError && error.kind === 'not-found') return 'gone';
      if (attempt === PATCH_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

function logError(context: string, error: unknown): void {
  console.error(
    `drop: bandwidth model: ${context}: ${error instanceof Error ? error.message : String(error)}`,
  );
}
