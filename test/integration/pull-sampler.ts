import type { Kube, Pod } from '../../lib/kube/index.ts';
import { paths } from '../../lib/kube/index.ts';
import {
  CACHED_IMAGE_ANNOTATION,
  PROBE_ANNOTATION,
  PULL_POD_SELECTOR,
  pullOutcome,
} from '../../lib/pull-pod.ts';

export interface Sample {
  readonly at: number;
  readonly pods: readonly {
    readonly image: string;
    readonly node: string;
    readonly name: string;
    /** Being deleted: withdrawn by the pacer, or recorded by reconcile-image. */
    readonly deleting: boolean;
    /** A garbage-collection probe (imagePullPolicy Never), not a pull. */
    readonly probe: boolean;
  }[];
}

/**
 * Lists Drop's pull pods continuously (every ~100 ms) so limits are checked at every moment,
 * not only at the end. A pod counts while it is pulling, as the pacer counts it.
 */
export function samplePulls(kube: Kube, namespace: string) {
  const samples: Sample[] = [];
  const firstSeen = new Map<string, number>();
  // Pods seen with their outcome in: a recorded pull pod stays until its status is written (up to
  // 5 s), so a pull that ran to its end is seen ended; one withdrawn mid-pull never is.
  const ended = new Map<string, string>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const list = await kube.list<Pod>(paths.pods(namespace), { labelSelector: PULL_POD_SELECTOR });
      const at = Date.now();
      for (const p of list.items) {
        const kind = pullOutcome(p).kind;
        if (kind !== 'pulling') ended.set(`${p.metadata.name}/${p.metadata.uid}`, kind);
      }
      const pods = list.items
        // A pod whose outcome is in holds no slot any more, even before it is recorded and deleted.
        .filter((p) => pullOutcome(p).kind === 'pulling')
        .map((p) => ({
          image: p.metadata.annotations?.[CACHED_IMAGE_ANNOTATION] ?? '',
          node: p.spec?.nodeName ?? '',
          name: `${p.metadata.name}/${p.metadata.uid}`,
          deleting: Boolean(p.metadata.deletionTimestamp),
          probe: p.metadata.annotations?.[PROBE_ANNOTATION] === 'true',
        }));
      for (const pod of pods) if (!firstSeen.has(pod.name)) firstSeen.set(pod.name, at);
      samples.push({ at, pods });
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    samples,
    /** The outcome a pull pod (by name/uid) was seen with (`cached`, `failed`, …); none if withdrawn or never seen ended. */
    endOf(name: string): string | undefined {
      return ended.get(name);
    },
    /** When each pull pod (by name/uid) was first seen, per image, in order. */
    startsOf(image: string): number[] {
      const names = new Set(
        samples.flatMap((s) => s.pods.filter((p) => p.image === image).map((p) => p.name)),
      );
      return [...names].map((n) => firstSeen.get(n) ?? 0).sort((a, b) => a - b);
    },
    most(count: (sample: Sample) => number): number {
      return Math.max(0, ...samples.map(count));
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

export function maxPerKey(sample: Sample, key: (p: Sample['pods'][number]) => string): number {
  const counts = new Map<string, number>();
  for (const pod of sample.pods) counts.set(key(pod), (counts.get(key(pod)) ?? 0) + 1);
  return Math.max(0, ...counts.values());
}
