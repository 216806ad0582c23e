import type { CachedImage } from '../../lib/api/index.ts';
import { type EventRecorder, regardingOf, writeStatus } from '../../lib/controller/index.ts';
import { type Kube, labelValue, type Pod, paths } from '../../lib/kube/index.ts';
import {
  paceRoundDuration,
  pullsInFlight,
  pullsStartedTotal,
  pullsWithdrawnTotal,
  slotWait,
} from '../../lib/metrics.ts';
import type { HostCap, HostState } from '../../lib/pacing/index.ts';
import { type PacingLimits, policyOf, settingsOf } from '../../lib/policy/index.ts';
import { CACHED_IMAGE_ANNOTATION, LABEL, PULL_POD_SELECTOR, pullOutcome } from '../../lib/pull-pod.ts';
import type { StartupTaint } from '../../lib/targets.ts';
import { collisions, contested } from './collisions.ts';
import { hostOf } from './hosts.ts';
import { type PaceRound, type PacerMemory, paceRound, startedEvents, waitingEvents } from './plan.ts';
import { pacingUpdate } from './status.ts';
import type { PacingView } from './view.ts';

// One pace round for one policy, under its Lease (docs/design.md §Pacing):
//   1. decide: lib/pacing's nextPulls over the holder's view (pods, images, policy) → which
//      (image, node) pulls start now, and why each other pending pull waits;
//   2. create one pull pod per start (idempotent by name: a racing holder's pod is the same pull);
//   3. withdraw this round's pulls from any node another policy's holder filled at the same moment;
//   4. write the waiting reasons (which limit holds each node) into the images' status.

/** After a collision, a holder leaves the node to the others for this long per policy before it. */
const HOLD_OFF_MS = 250;

/** What a round reads and keeps: the holder's fields. */
export interface RoundInput {
  readonly kube: Kube;
  readonly namespace: string;
  readonly policy: string;
  readonly view: PacingView;
  readonly memory: PacerMemory;
  readonly now: () => Date;
  /** Nodes this holder leaves alone until the given time (epoch ms), after a collision there. */
  readonly holdOff: Map<string, number>;
  /** Runs decide-and-create alone among this process's holders (of other policies too). */
  readonly exclusive: <T>(work: () => Promise<T>) => Promise<T>;
  /** Whether this round says why pulls wait, for the images' status (every PACING_REFRESH_MS or so). */
  readonly explain: boolean;
  /** Kubernetes Events on the images (PullStarted, WaitingForSlot). */
  readonly events: EventRecorder;
  /**
   * How long until the next round may run (ms): an image's starts are spread over it, minDelay
   * apart, rather than capped at one per round (lib/pacing nextPulls' horizonMs). 0: all now.
   */
  readonly horizonMs?: number;
}

export type RoundResult =
  | {
      readonly kind: 'ran';
      readonly started: number;
      /** How long deciding took (ms): the CPU a round costs, apart from waiting on the API. */
      readonly decideMs: number;
      readonly memory: PacerMemory;
      readonly nextWakeAt?: number;
      /** Pending pulls this round could not start. */
      readonly waiting: number;
      /** Pulls of this policy in flight after this round. */
      readonly inFlight: number;
    }
  | { readonly kind: 'invalid'; readonly detail: string };

/** Decides, starts, withdraws collisions and records why the rest waits. */
export async function runRound(input: RoundInput): Promise<RoundResult> {
  const { policy } = input;
  const timer = paceRoundDuration.startTimer({ policy });
  // Alone among this process's holders: a holder of another policy here sees these pods (the
  // shared view) before it decides; holders in other processes are caught by withdrawCollisions.
  const decided = await input.exclusive(async () => {
    const settings = settingsOf(input.view.policy(policy));
    if (!settings.ok)
      return { kind: 'invalid' as const, detail: `PullPolicy ${policy}: ${settings.message}` };
    await input.view.hosts.reload(input.now().getTime());
    input.view.hosts.observeImages(input.view.images());
    const hosts = input.view.hosts.states(input.view.policies(), input.view.pods());
    const decideStarted = performance.now();
    const round = decide(input, settings, hosts.hosts);
    const decideMs = performance.now() - decideStarted;
    const reserved = await reserveCapped(input, round.create, hosts.caps);
    const createAt = new Map(round.create.map((pod, i) => [pod.metadata.name, round.createAt[i] ?? 0]));
    const created = await Promise.all(
      reserved.allowed.map(async (pod) => {
        // A start spread over the horizon waits for its minDelay; still inside `exclusive`, so a
        // holder of another policy here decides with it counted.
        const wait = (createAt.get(pod.metadata.name) ?? 0) - input.now().getTime();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        return input.kube.create(paths.pods(input.namespace), pod);
      }),
    );
    for (const pod of created) if (pod) input.view.created(pod);
    const withdrawn = await withdrawCollisions(input, created, settings.limits.maxConcurrentPullsPerNode);
    const kept = created.filter((pod): pod is Pod => pod !== undefined && !withdrawn.has(pod.metadata.name));
    return { kind: 'ran' as const, round, decideMs, created, kept, started: kept.length, reserved };
  });
  if (decided.kind === 'invalid') return decided;
  const { round, created, kept, started, decideMs, reserved } = decided;
  pullsStartedTotal.inc({ policy }, started);
  // A create that found the pod already there (a racing holder) is in flight all the same.
  const { refused } = reserved;
  const inFlight = round.inFlight - refused.length;
  pullsInFlight.set({ policy }, inFlight);
  const madeNow = new Set(created.flatMap((pod) => (pod ? [pod.metadata.name] : [])));
  round.waitedSeconds.forEach((seconds, i) => {
    if (madeNow.has(round.create[i]?.metadata.name ?? '')) slotWait.observe({ policy }, seconds);
  });
  const now = input.now();
  for (const { image, occurrence } of startedEvents(kept, input.view.images(), round.newNodes))
    await input.events.record(input.kube, regardingOf('CachedImage', image), [occurrence], now);
  if (input.explain) await writeReasons(input, round);
  timer();
  // A pull its host's Lease refused waits like any other, and is tried again when a slot frees:
  // a pull that ends says so itself, a reservation that ages out or a pause that ends does not.
  const wakes = [round.nextWakeAt, reserved.retryAt].filter((t): t is number => t !== undefined);
  return {
    kind: 'ran',
    started,
    decideMs,
    memory:
      refused.length > 0
        ? withoutStarts(round.memory, input.memory, refused, reserved.allowed)
        : round.memory,
    waiting: round.waitingCount + refused.length,
    inFlight,
    ...(wakes.length > 0 ? { nextWakeAt: Math.min(...wakes) } : {}),
  };
}

/** The memory after a round whose refused pods never started: their images keep their last start. */
function withoutStarts(
  after: PacerMemory,
  before: PacerMemory,
  refused: readonly Pod[],
  allowed: readonly Pod[],
): PacerMemory {
  const started = new Set(allowed.map(imageOfPod));
  const lastStart = { ...after.lastStart };
  for (const image of new Set(refused.map(imageOfPod))) {
    if (started.has(image)) continue;
    const known = before.lastStart[image];
    if (known === undefined) delete lastStart[image];
    else lastStart[image] = known;
  }
  return { ...after, lastStart };
}

function imageOfPod(pod: Pod): string {
  return pod.metadata.annotations?.[CACHED_IMAGE_ANNOTATION] ?? '';
}

function decide(
  input: RoundInput,
  settings: { readonly limits: PacingLimits; readonly startupTaint?: StartupTaint },
  hosts: ReadonlyMap<string, HostState>,
): PaceRound {
  const { view } = input;
  return paceRound({
    hosts,
    policy: input.policy,
    limits: settings.limits,
    ...(settings.startupTaint ? { startupTaint: settings.startupTaint } : {}),
    images: view.images(),
    pods: view.pods(),
    targetsOf: (image) => view.targetsOf(image),
    unrecorded: (image) => view.unrecorded(image),
    unrecordedEnds: view.unrecordedEnds(),
    endedAt: (pod) => view.endedAt(pod),
    joinedAt: (node) => view.joinedAt(node),
    memory: input.memory,
    namespace: input.namespace,
    now: input.now().getTime(),
    ...(input.horizonMs ? { horizonMs: input.horizonMs } : {}),
    holdOff: input.holdOff,
    explain: input.explain ? 'summary' : 'wake',
  });
}

/**
 * The pods of this round that their host's cap lets start, reserved in the host's Lease first so
 * that replicas agree (functions/pace/hosts.ts); pods from hosts without a cap all start. When some
 * are refused, `retryAt` is when a slot frees with no event to say so.
 */
async function reserveCapped(
  input: RoundInput,
  pods: readonly Pod[],
  caps: ReadonlyMap<string, HostCap>,
): Promise<{
  readonly allowed: readonly Pod[];
  readonly refused: readonly Pod[];
  readonly retryAt?: number;
}> {
  const byHost = new Map<string, Pod[]>();
  for (const pod of pods) {
    const host = hostOf(pod.spec?.containers[0]?.image);
    if (host !== undefined && caps.has(host)) byHost.set(host, [...(byHost.get(host) ?? []), pod]);
  }
  if (byHost.size === 0) return { allowed: pods, refused: [] };
  const now = input.now().getTime();
  // Read from the view at one moment, after the Lease (hosts.ts reserve says why).
  const inFlight = (host: string) => () => ({
    pulling: input.view
      .pods()
      .filter((p) => pullOutcome(p).kind === 'pulling' && hostOf(p.spec?.containers[0]?.image) === host)
      .length,
    known: (pod: string) => input.view.knows(pod),
  });
  const refused = new Set<string>();
  let retryAt: number | undefined;
  for (const [host, hostPods] of byHost) {
    const names = hostPods.map((p) => p.metadata.name);
    const answer = await input.view.hosts.reserve(host, names, caps.get(host)!, inFlight(host), now);
    const granted = new Set(answer.granted);
    for (const name of names) if (!granted.has(name)) refused.add(name);
    if (answer.retryAt !== undefined) retryAt = Math.min(retryAt ?? answer.retryAt, answer.retryAt);
  }
  return {
    allowed: pods.filter((pod) => !refused.has(pod.metadata.name)),
    refused: pods.filter((pod) => refused.has(pod.metadata.name)),
    ...(retryAt !== undefined ? { retryAt } : {}),
  };
}

/**
 * Deletes this round's pulls that another policy's holder put on the same node at the same moment,
 * and notes in `holdOff` when to offer each such node again (functions/pace/collisions.ts).
 */
async function withdrawCollisions(
  input: RoundInput,
  created: readonly (Pod | undefined)[],
  perNode: number,
): Promise<ReadonlySet<string>> {
  const { kube, namespace, policy, view } = input;
  const started = created.filter((pod): pod is Pod => pod !== undefined);
  const nodes = new Set(started.map((pod) => pod.spec?.nodeName ?? ''));
  if (started.length === 0 || !contested(policy, nodes, view.images(), view.pods(), (i) => view.targetsOf(i)))
    return new Set();
  const selector = `${PULL_POD_SELECTOR},${LABEL.node} in (${[...nodes].map(labelValue).join(',')})`;
  const onNodes = await kube.list<Pod>(paths.pods(namespace), { labelSelector: selector });
  const withdraw = collisions(policy, started, onNodes.items, perNode);
  const now = input.now().getTime();
  for (const { pod, rank } of withdraw) input.holdOff.set(pod.spec?.nodeName ?? '', now + rank * HOLD_OFF_MS);
  pullsWithdrawnTotal.inc({ policy }, withdraw.length);
  await Promise.all(
    withdraw.map(({ pod }) =>
      kube.delete(paths.pod(namespace, pod.metadata.name), { uid: pod.metadata.uid, gracePeriodSeconds: 0 }),
    ),
  );
  return new Set(withdraw.map(({ pod }) => pod.metadata.name));
}

/**
 * Writes which limits hold the waiting nodes into the status of the images whose summary changed
 * (functions/pace/status.ts), with the resourceVersion the view holds: if reconcile-image wrote
 * since, the summary waits for a later round (reconcile-image's status is never overwritten).
 */
async function writeReasons(input: RoundInput, round: PaceRound): Promise<void> {
  const now = input.now().getTime();
  const due = input.view
    .images()
    .filter((image: CachedImage) => policyOf(image) === input.policy)
    .flatMap((image) => {
      const pacing = pacingUpdate(image, round.waiting, now);
      return pacing ? [{ image, pacing }] : [];
    });
  await Promise.all(
    due.map(async ({ image, pacing }) => {
      // The summary is advice to a reader: a write that fails must not stop pacing, and a later
      // round writes it again.
      const written = await writeStatus(input.kube, paths.cachedImage(image.metadata.name), image, {
        ...image.status,
        pacing,
      }).catch(() => undefined);
      if (!written || written === 'conflict' || written === 'gone') return;
      input.view.observeImage(written);
      const events = waitingEvents(input.policy, image.status?.pacing?.waiting ?? [], pacing.waiting);
      await input.events.record(input.kube, regardingOf('CachedImage', image), events, new Date(now));
    }),
  );
}
