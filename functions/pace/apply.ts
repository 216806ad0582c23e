import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Outcome } from '../../lib/events/index.ts';
import { type Kube, paths } from '../../lib/kube/index.ts';
import { acquireLease, type Lease, leaseState, pokeLease, writeLease } from '../../lib/kube/lease.ts';
import { paceRoundDuration, pullsInFlight, pullsStartedTotal, slotWait } from '../../lib/metrics.ts';
import { settingsOf } from '../../lib/policy-settings.ts';
import { EMPTY_STATE, type PacerState, paceRound } from './plan.ts';
import type { PacingView } from './view.ts';
import { withdrawCollisions } from './withdraw.ts';

export interface PaceDeps {
  readonly kube: Kube;
  readonly namespace: string;
  /** Who holds the Lease: one per process, so a crashed replica's Lease simply expires. */
  readonly identity: string;
  readonly now: () => Date;
  /** Sleeps, or less when a request for another round arrives in this process. */
  readonly sleep: (ms: number) => Promise<void>;
  /** True once if a request in this process asked for another round since the last call. */
  readonly takeRerun?: () => boolean;
  /** Asks for another round and wakes the loop: what a request in this process does. */
  readonly nudge?: () => void;
  /** The process's shared view of pods, images and policies, opened on first use; release when done. */
  readonly useView: () => Promise<{ readonly view: PacingView; release(): void }>;
  /** Runs a round's decide-and-create alone among this process's holders (of other policies too). */
  readonly exclusive: <T>(work: () => Promise<T>) => Promise<T>;
  /** How long one holder keeps serving a policy, waiting for delays to pass (below the ping period). */
  readonly windowMs: number;
  /** Called once the Lease is held, so an HTTP answer need not wait for the rounds. */
  readonly onAcquired?: () => void;
  /** True once the process is shutting down: the holder releases its Lease and stops serving. */
  readonly stopped?: () => boolean;
}

export const LEASE_SECONDS = 15;
// Between waits the holder re-reads its Lease: a poke (new work) shows up as a new resourceVersion.
const POLL_MS = 1_000;
const MAX_ROUNDS = 1_000;

export function replicaIdentity(): string {
  return `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
}

export function leaseName(policy: string): string {
  return `drop-pace-${policy}`.slice(0, 253);
}

function takeLease(deps: PaceDeps, name: string) {
  return acquireLease(deps.kube, deps.namespace, name, deps.identity, LEASE_SECONDS, deps.now());
}

/**
 * Serves one policy under its Lease: start what every limit allows, then wait — for a slot to
 * free, a delay or backoff to pass, or another request — and repeat inside the window; release
 * when nothing waits any more. Another holder means busy (429) after poking it, so that it runs
 * one more round for our work.
 */
export async function pacePolicy(deps: PaceDeps, policy: string): Promise<Outcome> {
  const name = leaseName(policy);
  const attempt = await takeLease(deps, name);
  if (!attempt.held) {
    await pokeLease(deps.kube, deps.namespace, name, deps.now());
    const wait = Math.max(1, Math.ceil((attempt.expiresAt.getTime() - deps.now().getTime()) / 1000));
    return {
      result: 'retry',
      status: 429,
      retryAfterSeconds: Math.min(wait, LEASE_SECONDS),
      detail: `Lease ${name} is held by ${attempt.holder}`,
    };
  }
  deps.onAcquired?.();
  const { view, release } = await deps.useView();
  const unsubscribe = view.subscribe(deps.nudge ?? (() => undefined));
  try {
    return await serve(deps, policy, attempt.lease, view);
  } finally {
    unsubscribe();
    release();
  }
}

/**
 * Rounds under the Lease until nothing is left to wait for inside the window. The state (cursor,
 * last starts) lives here between rounds and is written with every renewal and at release: a
 * holder that dies loses at most a renewal period of it, which the next holder rebuilds from the
 * pods (their creation times) and a fresh rotation.
 */
async function serve(deps: PaceDeps, policy: string, acquired: Lease, view: PacingView): Promise<Outcome> {
  const name = leaseName(policy);
  let lease = acquired;
  let state = (leaseState(acquired) as PacerState | undefined) ?? EMPTY_STATE;
  let writtenAt = deps.now().getTime();
  const deadline = writtenAt + deps.windowMs;
  const holdOff = new Map<string, number>();
  let started = 0;
  const retake = async (): Promise<Outcome | undefined> => {
    const again = await takeLease(deps, name);
    if (!again.held)
      return { result: 'done', detail: `started ${started} pulls; Lease passed to ${again.holder}` };
    lease = again.lease;
    writtenAt = deps.now().getTime();
    return undefined;
  };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const result = await runRound(deps, policy, state, view, holdOff);
    if (result.kind === 'invalid') {
      await writeLease(deps.kube, lease, state, { release: true, now: deps.now() });
      return { result: 'done', detail: result.detail };
    }
    started += result.started;
    state = result.state;
    const wake = result.nextWakeAt;
    const now = deps.now().getTime();
    const inWindow = now < deadline && !deps.stopped?.();
    // Asked for another round while this one ran (a slot freed): run it now, still holding the Lease.
    const rerun = inWindow && (deps.takeRerun?.() ?? false);
    // Pulls that wait for a slot keep the holder: the view wakes it the moment one frees.
    const keepServing =
      rerun || (inWindow && (result.waiting > 0 || (wake !== undefined && wake <= deadline)));
    if (!keepServing || now - writtenAt >= RENEW_MS) {
      const written = await writeLease(deps.kube, lease, state, { release: !keepServing, now: deps.now() });
      // Poked or taken over: take it again (or learn we lost it) and run another round.
      if (written === 'conflict') {
        const lost = await retake();
        if (lost) return lost;
        continue;
      }
      lease = written;
      writtenAt = deps.now().getTime();
    }
    if (!keepServing) return { result: 'done', detail: `started ${started} pulls for policy ${policy}` };
    if (rerun) continue;
    const waited = await waitUntil(deps, lease, state, Math.min(wake ?? deadline, deadline));
    if (waited !== 'poked') {
      if (waited !== lease) writtenAt = deps.now().getTime();
      lease = waited;
      continue;
    }
    const lost = await retake();
    if (lost) return lost;
  }
  return { result: 'done', detail: `started ${started} pulls (round limit reached)` };
}

type RoundResult =
  | {
      readonly kind: 'ran';
      readonly started: number;
      readonly state: PacerState;
      readonly nextWakeAt?: number;
      /** Pending pulls this round could not start. */
      readonly waiting: number;
    }
  | { readonly kind: 'invalid'; readonly detail: string };

async function runRound(
  deps: PaceDeps,
  policy: string,
  state: PacerState,
  view: PacingView,
  holdOff: Map<string, number>,
): Promise<RoundResult> {
  const { kube, namespace } = deps;
  const timer = paceRoundDuration.startTimer({ policy });
  // Alone among this process's holders: a holder of another policy here sees these pods (the
  // shared view) before it decides; holders in other processes are caught by withdrawCollisions.
  const decided = await deps.exclusive(async () => {
    const limits = settingsOf(view.policy(policy));
    if (!limits.ok) return { kind: 'invalid' as const, detail: `PullPolicy ${policy}: ${limits.message}` };
    const round = paceRound({
      policy,
      limits: limits.limits,
      images: view.images(),
      pods: view.pods(),
      state,
      namespace,
      now: deps.now().getTime(),
      holdOff,
    });
    // A pod that already exists (a racing holder, or a retry) is the same pull: create is idempotent by name.
    const created = await Promise.all(round.create.map((pod) => kube.create(paths.pods(namespace), pod)));
    for (const pod of created) if (pod) view.created(pod);
    const perNode = limits.limits.maxConcurrentPullsPerNode;
    const withdrawn = await withdrawCollisions(deps, policy, created, view, perNode, holdOff);
    return { kind: 'ran' as const, round, created, started: created.filter(Boolean).length - withdrawn };
  });
  if (decided.kind === 'invalid') return decided;
  const { round, created, started } = decided;
  pullsStartedTotal.inc({ policy }, started);
  // A create that found the pod already there (a racing holder) is in flight all the same.
  pullsInFlight.set({ policy }, round.inFlight);
  round.waitedSeconds.forEach((seconds, i) => {
    if (created[i]) slotWait.observe({ policy }, seconds);
  });
  timer();
  return {
    kind: 'ran',
    started,
    state: round.state,
    waiting: round.waiting.length,
    ...(round.nextWakeAt !== undefined ? { nextWakeAt: round.nextWakeAt } : {}),
  };
}

const RENEW_MS = (LEASE_SECONDS * 1000) / 3;

/**
 * Sleeps until `wakeAt` (or until a request in this process asks for another round), renewing the
 * Lease well before it expires and watching for a poke by another replica. Returns the Lease to
 * continue with, or 'poked' when someone wrote to it meanwhile.
 */
async function waitUntil(
  deps: PaceDeps,
  lease: Lease,
  state: PacerState,
  wakeAt: number,
): Promise<Lease | 'poked'> {
  let current = lease;
  let renewedAt = deps.now().getTime();
  while (deps.now().getTime() < wakeAt && !deps.stopped?.()) {
    if (deps.takeRerun?.()) return current;
    await deps.sleep(Math.min(POLL_MS, Math.max(0, wakeAt - deps.now().getTime())));
    if (deps.takeRerun?.()) return current;
    if (deps.now().getTime() - renewedAt >= RENEW_MS) {
      const renewed = await writeLease(deps.kube, current, state, { release: false, now: deps.now() });
      if (renewed === 'conflict') return 'poked';
      current = renewed;
      renewedAt = deps.now().getTime();
      continue;
    }
    const seen = await deps.kube.get<Lease>(paths.lease(deps.namespace, current.metadata.name));
    if (seen?.metadata.resourceVersion !== current.metadata.resourceVersion) return 'poked';
  }
  return current;
}
