import {
  acquireLease,
  type EventRecorder,
  heldElsewhere,
  type Lease,
  leaseName,
  leaseState,
  type Outcome,
  pokeLease,
  writeLease,
} from '../../lib/controller/index.ts';
import { type Kube, paths } from '../../lib/kube/index.ts';
import type { Logger } from '../../lib/log.ts';
import { EMPTY_MEMORY, type PacerMemory } from './plan.ts';
import { type RoundResult, runRound } from './round.ts';
import { PACING_REFRESH_MS } from './status.ts';
import type { PacingView } from './view.ts';

export const LEASE_SECONDS = 15;
const RENEW_MS = (LEASE_SECONDS * 1000) / 3;
// Between waits the holder re-reads its Lease: a poke (new work) shows up as a new resourceVersion.
const POLL_MS = 1_000;
const MAX_ROUNDS = 10_000;
/**
 * Rounds of one policy start at least GATHER × the last round's decision time apart (within these
 * bounds): when slots free many times a second, one round starts every pull they allow together
 * instead of one round per freed slot. Deciding reads every image's pending nodes — a millisecond
 * at a hundred nodes, tens at a thousand — so pacing never takes more than a tenth of a CPU, and
 * a slot waits for it a fraction of a pull.
 */
const GATHER = 10;
const GATHER_MIN_MS = 50;
const GATHER_MAX_MS = 1_000;

/**
 * When a holder whose window ended should serve its policy again in this process (ms from now), if
 * nothing asks before. Pulls that wait for a slot while others are in flight: at once, for the view
 * that would tell of the slot freeing goes with the holder, and no pull pod is sent to pace (the
 * CachedImage status that records the outcome, at most every 5 s per image, would be the next
 * word). A delay that ends after the window (a long minDelay, a backoff, a pause): then. The ping
 * catches up on either if the process is not up.
 */
function nextServe(result: Extract<RoundResult, { kind: 'ran' }>, now: number): number | undefined {
  if (result.waiting > 0 && result.inFlight > 0) return 0;
  return result.nextWakeAt === undefined ? undefined : Math.max(0, result.nextWakeAt - now);
}

/** What the process gives every holder: shared by the holders of all its policies. */
export interface HolderEnv {
  readonly namespace: string;
  /** Who holds the Lease: one per process, so a crashed replica's Lease simply expires. */
  readonly identity: string;
  readonly now: () => Date;
  /** How long one holder keeps serving a policy, waiting for delays to pass (below the ping period). */
  readonly windowMs: number;
  /** The process's view of pods, images and policies, opened on first use; release when done. */
  readonly useView: () => Promise<{ readonly view: PacingView; release(): void }>;
  /** Runs a round's decide-and-create alone among this process's holders. */
  readonly exclusive: <T>(work: () => Promise<T>) => Promise<T>;
  /** True once the process is shutting down: the holder releases its Lease and stops serving. */
  readonly stopped: () => boolean;
  /** Kubernetes Events on the images it paces. */
  readonly events: EventRecorder;
  /** Each round and why the holder keeps or lets go of its Lease, at debug level. */
  readonly log?: Logger;
}

/**
 * Serves one policy under its Lease `drop-pace-<policy>`: runs a round (round.ts), then waits — for
 * a slot to free (the view wakes it), a delay or backoff to pass, another request in this process
 * (`nudge`) or a poke by another replica — and runs again, inside a window below the ping period;
 * releases when nothing waits any more. Its memory (cursor, last starts) is written to the Lease
 * with every renewal: a holder that dies loses at most a renewal period of it, which the next
 * holder rebuilds from the pods (their creation times) and a fresh rotation.
 */
export class PolicyHolder {
  #rerun = false;
  #wake: (() => void) | undefined;
  #memory: PacerMemory = EMPTY_MEMORY;
  #lease: Lease | undefined;
  #writtenAt = 0;
  #started = 0;
  readonly #holdOff = new Map<string, number>();
  readonly #leaseName: string;

  constructor(
    private readonly env: HolderEnv,
    private readonly kube: Kube,
    readonly policy: string,
  ) {
    this.#leaseName = leaseName('pace', policy);
  }

  /** Asks for another round and wakes the loop if it waits: what a request in this process does. */
  nudge(): void {
    this.#rerun = true;
    this.#wake?.();
  }

  /** True once if another round was asked for since the last call. */
  takeRerun(): boolean {
    const asked = this.#rerun;
    this.#rerun = false;
    return asked;
  }

  /**
   * Takes the Lease and serves until nothing waits; `onHeld` is called once it holds it, so an
   * HTTP answer need not wait for the rounds. Another holder means busy (429) after poking it, so
   * that it runs one more round for our work.
   */
  async serve(onHeld: () => void): Promise<Outcome> {
    const attempt = await this.#take();
    if (!attempt.held) {
      await pokeLease(this.kube, this.env.namespace, this.#leaseName, this.env.now());
      return heldElsewhere(attempt, `Lease ${this.#leaseName}`, this.env.now(), LEASE_SECONDS);
    }
    this.#hold(attempt.lease);
    this.#memory = (leaseState(attempt.lease) as PacerMemory | undefined) ?? EMPTY_MEMORY;
    this.#started = 0;
    onHeld();
    const { view, release } = await this.env.useView();
    const unsubscribe = view.subscribe(() => this.nudge());
    try {
      return await this.#rounds(view);
    } finally {
      unsubscribe();
      release();
    }
  }

  async #rounds(view: PacingView): Promise<Outcome> {
    const deadline = this.env.now().getTime() + this.env.windowMs;
    let lastRound = 0;
    let gatherMs = GATHER_MIN_MS;
    let explainedAt = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const since = Date.now() - lastRound;
      if (since < gatherMs) await new Promise((resolve) => setTimeout(resolve, gatherMs - since));
      lastRound = Date.now();
      // Why pulls wait is worth saying now and then (status.pacing); most rounds need only when to wake.
      const explain = lastRound - explainedAt >= PACING_REFRESH_MS;
      if (explain) explainedAt = lastRound;
      const result = await runRound({
        explain,
        kube: this.kube,
        namespace: this.env.namespace,
        policy: this.policy,
        view,
        memory: this.#memory,
        now: this.env.now,
        holdOff: this.#holdOff,
        exclusive: this.env.exclusive,
        events: this.env.events,
        // No other round of this policy runs sooner: an image may start again within that time.
        horizonMs: gatherMs,
      });
      if (result.kind === 'invalid') {
        await this.#write(true);
        return { result: 'done', detail: result.detail };
      }
      gatherMs = Math.min(GATHER_MAX_MS, Math.max(GATHER_MIN_MS, GATHER * result.decideMs));
      this.#started += result.started;
      this.#memory = result.memory;
      const wake = result.nextWakeAt;
      const now = this.env.now().getTime();
      const inWindow = now < deadline && !this.env.stopped();
      // Asked for another round while this one ran (a slot freed): run it now, still holding the Lease.
      const rerun = inWindow && this.takeRerun();
      // Pulls that wait for a slot keep the holder: the view wakes it the moment one frees.
      const keepServing =
        rerun || (inWindow && (result.waiting > 0 || (wake !== undefined && wake <= deadline)));
      this.env.log?.debug('pace round', {
        policy: this.policy,
        started: result.started,
        waiting: result.waiting,
        wakeInMs: wake === undefined ? null : wake - now,
        windowLeftMs: deadline - now,
        rerun,
        keepServing,
      });
      if (!keepServing || now - this.#writtenAt >= RENEW_MS) {
        // Poked or taken over: take it again (or learn we lost it) and run another round.
        if ((await this.#write(!keepServing)) === 'conflict') {
          const lost = await this.#retake();
          if (lost) return lost;
          continue;
        }
      }
      if (!keepServing) {
        const again = this.env.stopped() ? undefined : nextServe(result, now);
        return {
          result: 'done',
          detail: `started ${this.#started} pulls for policy ${this.policy}`,
          ...(again !== undefined ? { requeueAfterMs: again } : {}),
        };
      }
      if (rerun) continue;
      if ((await this.#waitUntil(Math.min(wake ?? deadline, deadline))) === 'poked') {
        const lost = await this.#retake();
        if (lost) return lost;
      }
    }
    return { result: 'done', detail: `started ${this.#started} pulls (round limit reached)` };
  }

  /**
   * Sleeps until `wakeAt` (or until a request in this process asks for another round), renewing the
   * Lease well before it expires and watching for a poke by another replica.
   */
  async #waitUntil(wakeAt: number): Promise<'woken' | 'poked'> {
    const { env } = this;
    while (env.now().getTime() < wakeAt && !env.stopped()) {
      if (this.takeRerun()) return 'woken';
      await this.#sleep(Math.min(POLL_MS, Math.max(0, wakeAt - env.now().getTime())));
      if (this.takeRerun()) return 'woken';
      if (env.now().getTime() - this.#writtenAt >= RENEW_MS) {
        if ((await this.#write(false)) === 'conflict') return 'poked';
        continue;
      }
      const seen = await this.kube.get<Lease>(paths.lease(env.namespace, this.#leaseName));
      if (seen?.metadata.resourceVersion !== this.#lease?.metadata.resourceVersion) return 'poked';
    }
    return 'woken';
  }

  /** Sleeps, or less when `nudge` is called meanwhile. */
  #sleep(ms: number): Promise<void> {
    return new Promise((done) => {
      const wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        done();
      };
      const timer = setTimeout(wake, ms);
      this.#wake = wake;
    });
  }

  #take() {
    return acquireLease(
      this.kube,
      this.env.namespace,
      this.#leaseName,
      this.env.identity,
      LEASE_SECONDS,
      this.env.now(),
    );
  }

  /** Takes the Lease again after a conflict; the outcome to end with when another replica has it. */
  async #retake(): Promise<Outcome | undefined> {
    const again = await this.#take();
    if (!again.held)
      return { result: 'done', detail: `started ${this.#started} pulls; Lease passed to ${again.holder}` };
    this.#hold(again.lease);
    return undefined;
  }

  /** Renews (or releases) the Lease with the memory in one conditional write. */
  async #write(release: boolean): Promise<'ok' | 'conflict'> {
    if (!this.#lease) return 'conflict';
    const written = await writeLease(this.kube, this.#lease, this.#memory, { release, now: this.env.now() });
    if (written === 'conflict') return 'conflict';
    this.#hold(written);
    return 'ok';
  }

  #hold(lease: Lease): void {
    this.#lease = lease;
    this.#writtenAt = this.env.now().getTime();
  }
}
