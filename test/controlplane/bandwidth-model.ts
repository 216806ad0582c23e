// The per-node bandwidth model, as plain data: what a pod asks of it, and how the pulls on one node
// share that node's bandwidth over time. No clock, no client: the caller passes `now` (ms).

import { quantityValue } from '../../lib/discovery/quantity.ts';
import type { Node, Pod } from '../../lib/kube/index.ts';
import { LABEL, MANAGED_BY, PULL_POD_SELECTOR } from '../../lib/pull-pod.ts';

/** Node annotation: the node's download bandwidth in bytes per second, a quantity such as `100Mi`. */
export const BANDWIDTH_ANNOTATION = 'drop.test/bandwidth';
/** Pod annotation: the image's size in bytes, a quantity such as `1.5Gi`; wins over a size marker. */
export const IMAGE_SIZE_ANNOTATION = 'drop.test/image-size';
/**
 * Pod annotation the kwok stages wait for on a sized pull: when its last byte arrives (RFC 3339, to
 * the millisecond), written once kwok shows the pull and again whenever a pull joining or leaving its
 * node moves it.
 */
export const PULL_DONE_AT_ANNOTATION = 'drop.test/pull-done-at';
/** A pull pod's own pull time (a Go duration); a sized pull with it set is not modelled. */
export const PULL_DELAY_ANNOTATION = 'drop.test/pull-delay';
/** Pod annotation the model writes beside it: the pull time it modelled, e.g. `6.002s`. */
export const MODELLED_PULL_TIME_ANNOTATION = 'drop.test/modelled-pull-time';
/** The bandwidth of a node without (or with an unreadable) drop.test/bandwidth annotation. */
export const DEFAULT_BANDWIDTH = '100Mi';
/** The pods the model times, and the only ones the stages hold for it (see stages/pod-pull-*.yaml). */
export const MODELLED_POD_SELECTOR = PULL_POD_SELECTOR;

// The same pattern as the stages' jq `test("size-[0-9]+[kmg]i"; "i")`. Case-insensitive because a
// repository path must be lower case (`registry.example/big-size-200mi`), a tag need not (`:size-2Gi`).
const SIZE_MARKER = /size-([0-9]+)([kmg]i)/i;

/** A Kubernetes quantity of bytes (`100Mi`, `1.5G`, `512`, `1e3`), or undefined when it is not one. */
export function parseQuantity(text: string): number | undefined {
  // Read as Drop reads maxImageSize (lib/policy/image-size.ts), so the model and Drop agree.
  const bytes = quantityValue(text);
  return bytes !== undefined && bytes >= 0 ? bytes : undefined;
}

export type ImageSize =
  | { readonly kind: 'unsized' }
  | { readonly kind: 'sized'; readonly bytes: number }
  | { readonly kind: 'invalid'; readonly message: string };

/**
 * The size the model pulls for a pod: drop.test/image-size, else `size-<N>(Ki|Mi|Gi)` in the image
 * reference. Only Drop's pull pods are sized: any other pod keeps today's pull time.
 */
export function imageSize(pod: Pod): ImageSize {
  if (pod.metadata.labels?.[LABEL.managedBy] !== MANAGED_BY) return { kind: 'unsized' };
  const annotation = pod.metadata.annotations?.[IMAGE_SIZE_ANNOTATION];
  if (annotation !== undefined) {
    const bytes = parseQuantity(annotation);
    return bytes === undefined
      ? {
          kind: 'invalid',
          message: `${IMAGE_SIZE_ANNOTATION} ${JSON.stringify(annotation)} is not a quantity`,
        }
      : { kind: 'sized', bytes };
  }
  const marker = SIZE_MARKER.exec(pod.spec?.containers[0]?.image ?? '');
  if (!marker) return { kind: 'unsized' };
  return { kind: 'sized', bytes: parseQuantity(`${marker[1]}${marker[2]![0]!.toUpperCase()}i`) ?? 0 };
}

/** A node's bandwidth in bytes per second: its annotation, else the default. */
export function nodeBandwidth(node: Node | undefined): number {
  const bytes = parseQuantity(node?.metadata.annotations?.[BANDWIDTH_ANNOTATION] ?? DEFAULT_BANDWIDTH);
  return bytes !== undefined && bytes > 0 ? bytes : parseQuantity(DEFAULT_BANDWIDTH)!;
}

export type PodChange =
  | { readonly kind: 'ignore' }
  /** The pod stopped pulling without the model (deleted, failed, or someone set its delay): drop it. */
  | { readonly kind: 'leave' }
  /** Pulling since the pod was bound; `shown` once kwok shows it in ContainerCreating. */
  | { readonly kind: 'join'; readonly bytes: number; readonly shown: boolean }
  | { readonly kind: 'invalid'; readonly message: string };

/**
 * What a watch event for a pod means to the model. A pull starts when its pod is bound (created
 * with its node), as a kubelet starts pulling; the model writes its end once kwok shows the pull
 * (pod-pull-start), since a change of the pod before then puts it back at the end of kwok's queue.
 */
export function podChange(pod: Pod, deleted: boolean): PodChange {
  const size = imageSize(pod);
  if (size.kind === 'unsized') return { kind: 'ignore' };
  const state = pullState(pod);
  if (deleted || state === 'past' || pod.metadata.annotations?.[PULL_DELAY_ANNOTATION] !== undefined)
    return { kind: 'leave' };
  if (!pod.spec?.nodeName) return { kind: 'ignore' };
  return size.kind === 'invalid' ? size : { kind: 'join', bytes: size.bytes, shown: state === 'pulling' };
}

// Pulling: kwok has moved the pod to ContainerCreating and not past it (stages/pod-pull-start.yaml);
// not shown yet: kwok has not played that stage. A pod that shows anything else (InvalidImageName, a
// terminated container) uses no bandwidth.
function pullState(pod: Pod): 'not shown' | 'pulling' | 'past' {
  if (pod.metadata.deletionTimestamp) return 'past';
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return 'past';
  if (pod.status?.containerStatuses === undefined) return 'not shown';
  return pod.status.containerStatuses[0]?.state?.waiting?.reason === 'ContainerCreating' ? 'pulling' : 'past';
}

export interface Pull {
  readonly bytes: number;
  readonly remaining: number;
  readonly startedAt: number;
  /** When its last byte arrived; set once remaining reaches 0. */
  readonly finishedAt?: number;
  /** The most pulls that shared the node at once while this one ran, itself included. */
  readonly maxSharing: number;
}

/** One node's download link: the unfinished pulls share its bandwidth equally (processor sharing). */
export interface Link {
  /** Bytes per second. */
  readonly bandwidth: number;
  /** The time (ms) up to which every pull's `remaining` is accounted. */
  readonly at: number;
  readonly pulls: ReadonlyMap<string, Pull>;
}

export function emptyLink(bandwidth: number, now: number): Link {
  return { bandwidth, at: now, pulls: new Map() };
}

/**
 * Accounts the bytes every pull received up to now. Stepwise, from one completion to the next: a
 * pull that finished stops taking its share at that instant, however late the caller looks.
 */
export function advance(link: Link, now: number): Link {
  const pulls = new Map(link.pulls);
  let at = link.at;
  for (;;) {
    const active = [...pulls].filter(([, pull]) => pull.finishedAt === undefined);
    if (active.length === 0 || at >= now) break;
    const rate = link.bandwidth / active.length;
    const least = Math.min(...active.map(([, pull]) => pull.remaining));
    const nextDone = at + (least / rate) * 1000;
    const until = Math.min(now, nextDone);
    for (const [key, pull] of active) {
      const done = until === nextDone && pull.remaining === least;
      const remaining = done ? 0 : pull.remaining - (rate * (until - at)) / 1000;
      pulls.set(key, { ...pull, remaining, ...(done ? { finishedAt: until } : {}) });
    }
    at = until;
  }
  return { ...link, at: Math.max(at, now), pulls };
}

/** Starts a pull of `bytes` on the link at `now`; `bandwidth` is the node's current annotation. */
export function join(link: Link, key: string, bytes: number, bandwidth: number, now: number): Link {
  const advanced = advance(link, now);
  const pulls = new Map(advanced.pulls);
  pulls.set(key, { bytes, remaining: bytes, startedAt: now, maxSharing: 0 });
  const sharing = [...pulls.values()].filter((pull) => pull.finishedAt === undefined).length;
  for (const [k, pull] of pulls)
    if (pull.finishedAt === undefined)
      pulls.set(k, { ...pull, maxSharing: Math.max(pull.maxSharing, sharing) });
  return { bandwidth, at: advanced.at, pulls };
}

/** Takes a pull off the link (finished and reported, or gone). */
export function leave(link: Link, key: string, now: number): Link {
  const advanced = advance(link, now);
  const pulls = new Map(advanced.pulls);
  pulls.delete(key);
  return { ...advanced, pulls };
}

export type FinishedPull = Pull & { readonly finishedAt: number };

/** Advances the link to now and takes off it the pulls whose last byte has arrived. */
export function takeFinished(link: Link, now: number): { link: Link; finished: [string, FinishedPull][] } {
  const advanced = advance(link, now);
  const finished = [...advanced.pulls].filter(
    (entry): entry is [string, FinishedPull] => entry[1].finishedAt !== undefined,
  );
  const pulls = new Map(advanced.pulls);
  for (const [key] of finished) pulls.delete(key);
  return { link: { ...advanced, pulls }, finished };
}

/** When (ms) the next pull on the link will finish if nothing joins or leaves; undefined when idle. */
export function nextFinish(link: Link): number | undefined {
  const pulls = [...link.pulls.values()];
  if (pulls.length === 0) return undefined;
  if (pulls.some((pull) => pull.finishedAt !== undefined)) return link.at;
  const least = Math.min(...pulls.map((pull) => pull.remaining));
  return link.at + (least / (link.bandwidth / pulls.length)) * 1000;
}

/**
 * When (ms) each unfinished pull on the link will have its last byte if nothing joins or leaves:
 * the smallest remainder first, each finish giving its share to the rest.
 */
export function projectedFinishes(link: Link): Map<string, number> {
  const active = [...link.pulls]
    .filter(([, pull]) => pull.finishedAt === undefined)
    .sort(([, a], [, b]) => a.remaining - b.remaining);
  const finishes = new Map<string, number>();
  let at = link.at;
  let received = 0;
  active.forEach(([key, pull], index) => {
    const rate = link.bandwidth / (active.length - index);
    at += ((pull.remaining - received) / rate) * 1000;
    received = pull.remaining;
    finishes.set(key, at);
  });
  return finishes;
}

/** A Go duration with millisecond precision, as the stages' `durationFrom` reads it: `6.002s`. */
export function goDuration(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(3)}s`;
}
