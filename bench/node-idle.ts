import type { Kube, KubeObject, Pod } from '../lib/kube/index.ts';
import { paths } from '../lib/kube/index.ts';
import { runWatch } from '../lib/kube/watch.ts';
import { CACHED_IMAGE_ANNOTATION, PULL_POD_SELECTOR, pullOutcome } from '../lib/pull-pod.ts';

/**
 * Watches Drop's pull pods and, per node, the time from one pull's outcome to the next pull pod's
 * creation: how long the pacer left a node idle that had more to pull. Times are when this process
 * saw the changes, so both ends carry the same watch delay.
 */
export function watchNodeIdle(kube: Kube, namespace: string) {
  const created = new Map<string, number>();
  const ended = new Map<string, number>();
  const nodeOf = new Map<string, string>();
  const imageOf = new Map<string, string>();
  const controller = new AbortController();
  void runWatch(
    kube,
    kube.transport,
    {
      apiVersion: 'v1',
      kind: 'Pod',
      plural: 'pods',
      path: paths.pods(namespace),
      labelSelector: PULL_POD_SELECTOR,
    },
    async (action, object: KubeObject) => {
      const pod = object as Pod;
      const key = `${pod.metadata.name}/${pod.metadata.uid}`;
      const now = performance.now();
      if (!created.has(key)) created.set(key, now);
      nodeOf.set(key, pod.spec?.nodeName ?? '');
      imageOf.set(key, pod.metadata.annotations?.[CACHED_IMAGE_ANNOTATION] ?? '');
      if (!ended.has(key) && (action === 'delete' || pullOutcome(pod).kind !== 'pulling'))
        ended.set(key, now);
    },
    controller.signal,
    () => undefined,
  );
  return {
    stop(): void {
      controller.abort();
    },
    /** Each pull's time in ms, creation to outcome, as this process saw them (kwok's reaction included). */
    pullTimes(): number[] {
      return [...ended].map(([key, end]) => end - (created.get(key) ?? end)).sort((a, b) => a - b);
    },
    /** Idle gaps in ms: for each pull, from its end to the next pull created on the same node. */
    gaps(): number[] {
      const gaps: number[] = [];
      for (const keys of groupedBy(nodeOf).values()) {
        const ordered = keys.sort((a, b) => (created.get(a) ?? 0) - (created.get(b) ?? 0));
        for (let i = 1; i < ordered.length; i++) {
          const previousEnd = ended.get(ordered[i - 1] ?? '');
          const next = created.get(ordered[i] ?? '');
          if (previousEnd !== undefined && next !== undefined) gaps.push(Math.max(0, next - previousEnd));
        }
      }
      return gaps.sort((a, b) => a - b);
    },
    /**
     * How full the pacer kept each image's `limit` pull slots while it had nodes left to start:
     * pull time in flight ÷ (limit × the time from its first pull's creation to its last's), the
     * mean over images. 1 is every slot busy all along; what is missing is the pacer's turnaround
     * (outcome seen → next pod created) as this process saw it.
     */
    slotOccupancy(limit: number): number {
      const shares: number[] = [];
      for (const keys of groupedBy(imageOf).values()) {
        const starts = keys.map((k) => created.get(k) ?? 0);
        const from = Math.min(...starts);
        const to = Math.max(...starts);
        if (to <= from) continue;
        let busy = 0;
        for (const k of keys) {
          const start = created.get(k) ?? 0;
          const end = Math.min(ended.get(k) ?? to, to);
          busy += Math.max(0, end - start);
        }
        shares.push(busy / (limit * (to - from)));
      }
      return shares.length === 0 ? 0 : shares.reduce((a, b) => a + b, 0) / shares.length;
    },
  };
}

/** The pulls (keys) of each node or image, from a map of pull → node or image. */
function groupedBy(of: ReadonlyMap<string, string>): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const [key, group] of of) {
    const keys = groups.get(group);
    if (keys) keys.push(key);
    else groups.set(group, [key]);
  }
  return groups;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}
