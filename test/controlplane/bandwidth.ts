// The bandwidth model's loop: watches Drop's pull pods, lets the sized ones on a node share that
// node's bandwidth, and tells kwok when each pull will have its last byte. See README.md "Pull time".
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
  PULL_DONE_AT_ANNOTATION,
  podChange,
  projectedFinishes,
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
  /**
   * Stops the watch and the timers. A pull in flight ends when it was last said to; one not said yet
   * stays ContainerCreating.
   */
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
  // Ended by the model, until a watch event shows it past pulling: an older event still in the
  // stream (or kwok not there yet) must not start it again.
  const ended = new Set<string>();
  // Pulls kwok shows in ContainerCreating; each one's end as last said (or being said) to kwok, and
  // whether a write is on its way.
  const shown = new Set<string>();
  const said = new Map<string, Said>();
  // Ended before kwok showed them: their end, to write once it does.
  const unsaid = new Map<string, Said>();
  const writing = new Map<string, Promise<void>>();
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
    announce(link);
    // +1 ms: Node may fire a timer up to a millisecond early.
    timers.set(
      node,
      setTimeout(() => onTimer(node), Math.max(0, at - Date.now()) + 1),
    );
  };

  // Writes the end of each pull on the link that kwok shows and whose end moved.
  const announce = (link: Link) => {
    for (const [key, finish] of projectedFinishes(link)) {
      const previous = said.get(key);
      // A millisecond either way is the arithmetic's rounding, not a change of the pull.
      if (!shown.has(key) || (previous && Math.abs(previous.finish - finish) <= 1)) continue;
      tell(key, { finish, modelled: goDuration(finish - link.pulls.get(key)!.startedAt) });
    }
  };

  const onTimer = (node: string) => {
    const link = links.get(node);
    if (!link) return;
    const { link: rest, finished } = takeFinished(link, Date.now());
    setLink(node, rest);
    for (const [key, pull] of finished) {
      ended.add(key);
      const end = { finish: pull.finishedAt, modelled: goDuration(pull.finishedAt - pull.startedAt) };
      if (!shown.has(key)) unsaid.set(key, end);
      options.log?.(
        JSON.stringify({
          time: new Date().toISOString(),
          msg: 'pulled',
          pod: key,
          modelled: end.modelled,
          node,
          bytes: pull.bytes,
          bandwidth: link.bandwidth,
          maxSharing: pull.maxSharing,
        }),
      );
    }
  };

  // Says a pull's end on its pod, one write at a time per pod, the latest end last.
  const tell = (key: string, end: Said) => {
    said.set(key, end);
    if (writing.has(key)) return;
    const done = (async () => {
      // Until what is said is what was written; nothing is said any more of a pod gone from the model.
      for (let end = said.get(key), written: Said | undefined; end && end !== written; end = said.get(key)) {
        try {
          if ((await sayEnd(kube, key, end)) === 'gone') return;
          written = end;
        } catch (error) {
          onError(`end of ${key}`, error);
          return;
        }
      }
    })().finally(() => writing.delete(key));
    writing.set(key, done);
  };

  const onPod = async (pod: Pod, deleted: boolean) => {
    const node = pod.spec?.nodeName ?? '';
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const change = podChange(pod, deleted);
    const link = links.get(node);
    if (change.kind === 'leave') {
      ended.delete(key);
      shown.delete(key);
      said.delete(key);
      unsaid.delete(key);
      if (link?.pulls.has(key)) setLink(node, leave(link, key, Date.now()));
      return;
    }
    if (change.kind === 'join' && change.shown && !shown.has(key)) {
      shown.add(key);
      const end = unsaid.get(key);
      unsaid.delete(key);
      if (end) return tell(key, end);
      if (link?.pulls.has(key)) return announce(link);
    }
    if (change.kind === 'ignore' || ended.has(key) || link?.pulls.has(key)) return;
    if (change.kind === 'invalid') {
      onError(`pod ${key}`, new Error(`${change.message}; let go without a modelled pull time`));
      ended.add(key);
      return tell(key, { finish: Date.now(), modelled: 'not modelled' });
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
      await Promise.allSettled([...writing.values()]);
      kube.transport.close();
    },
  };
}

interface Said {
  /** When (ms since the epoch) the pull's last byte arrives. */
  readonly finish: number;
  /** The pull time for the Pulled Event: `6.002s`, or `not modelled`. */
  readonly modelled: string;
}

/**
 * Tells kwok when a pull ends: the stages wait until drop.test/pull-done-at, counted again from
 * each change of the pod (kwok restarts a pending delay then), so a later write moves the end.
 */
async function sayEnd(kube: Kube, key: string, end: Said): Promise<'said' | 'gone'> {
  const [namespace = '', name = ''] = key.split('/');
  const patch = {
    metadata: {
      annotations: {
        [PULL_DONE_AT_ANNOTATION]: new Date(end.finish).toISOString(),
        [MODELLED_PULL_TIME_ANNOTATION]: end.modelled,
      },
    },
  };
  for (let attempt = 1; ; attempt++) {
    try {
      await kube.mergePatch(paths.pod(namespace, name), patch);
      return 'said';
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
