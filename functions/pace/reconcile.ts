import type { Outcome } from '../../lib/controller/index.ts';
import { eventRecorder, replicaIdentity } from '../../lib/controller/index.ts';
import type { Kube } from '../../lib/kube/index.ts';
import type { Logger } from '../../lib/log.ts';
import { forgetPolicy, isPolicyGone } from './gone.ts';
import { type HolderEnv, PolicyHolder } from './holder.ts';
import { PacingView } from './view.ts';

export interface PacerOptions {
  readonly kube: Kube;
  readonly namespace: string;
  readonly identity?: string;
  /** Default 45 s: below the one-minute resync ping, so a replica never serves across two pings. */
  readonly windowMs?: number;
  readonly now?: () => Date;
  readonly log?: Logger;
}

/** The pacing of one process: at most one PolicyHolder per policy, all sharing one view. */
export interface Pacer {
  /** Reconciles a policy: serves it here, or asks the holder here for another round; resolves once the Lease is held. */
  request(policy: string, kube?: Kube): Promise<Outcome>;
  /** Resolves when every background serving window has ended (for tests and graceful shutdown). */
  idle(): Promise<void>;
  /** Ends every serving window early (their Leases are released) and waits for them. */
  close(): Promise<void>;
}

/**
 * One serving loop per policy per process: the Lease identity is per process, so a second loop here
 * would hold the same Lease at the same time. A request while one serves asks it for another round
 * in memory; other replicas poke the Lease instead (holder.ts).
 */
export function createPacer(options: PacerOptions): Pacer {
  const running = new Set<Promise<unknown>>();
  const serving = new Map<string, PolicyHolder>();
  // Per policy: the wake its last holder owed after its window ended.
  const wakes = new Map<string, NodeJS.Timeout>();
  let closed = false;
  const env: HolderEnv = {
    namespace: options.namespace,
    identity: options.identity ?? replicaIdentity(),
    now: options.now ?? (() => new Date()),
    windowMs: options.windowMs ?? 45_000,
    useView: sharedView(options.kube, options.namespace),
    exclusive: oneAtATime(),
    stopped: () => closed,
    events: eventRecorder('drop-pace', options.log),
    ...(options.log ? { log: options.log } : {}),
  };
  const wakeLater = (policy: string, afterMs: number, kube: Kube) => {
    clearTimeout(wakes.get(policy));
    const timer = setTimeout(() => {
      wakes.delete(policy);
      if (closed) return;
      pacer.request(policy, kube).catch((error: unknown) =>
        // The ping serves it instead (it wakes every policy with work).
        options.log?.warn('a timed pacing round failed', { policy, error: String(error) }),
      );
    }, afterMs);
    timer.unref();
    wakes.set(policy, timer);
  };
  const pacer: Pacer = {
    async request(policy, kube = options.kube) {
      const current = serving.get(policy);
      if (current) {
        options.log?.debug('pace request: another round of the holder here', { policy });
        current.nudge();
        return { result: 'done', detail: `policy ${policy} is being served here; asked for another round` };
      }
      if (await isPolicyGone(kube, policy)) {
        const forgotten = await forgetPolicy(kube, env.namespace, policy, env.now());
        return {
          result: 'ignored',
          detail: `PullPolicy ${policy} does not exist: nothing to pace; ${forgotten}`,
        };
      }
      // A request for the same policy may have started serving while we looked.
      const started = serving.get(policy);
      if (started) {
        started.nudge();
        return { result: 'done', detail: `policy ${policy} is being served here; asked for another round` };
      }
      const holder = new PolicyHolder(env, kube, policy);
      serving.set(policy, holder);
      clearTimeout(wakes.get(policy));
      wakes.delete(policy);
      let last: Outcome | undefined;
      let answered = false;
      let resolve!: (outcome: Outcome) => void;
      const answer = new Promise<Outcome>((r) => {
        resolve = r;
      });
      const reply = (outcome: Outcome) => {
        if (!answered) resolve(outcome);
        answered = true;
      };
      const work = (async () => {
        try {
          do {
            holder.takeRerun();
            // The adapter sends one event at a time per watch: answering once the Lease is ours, not
            // after the rounds, keeps the next event from waiting behind this round's API requests.
            last = await holder.serve(() => reply({ result: 'done', detail: `serving policy ${policy}` }));
            reply(last);
            // No await between this check and the delete below: a request either asks before it
            // (and gets another round) or finds the policy no longer served here.
          } while (holder.takeRerun() && !closed);
        } catch (error) {
          if (answered)
            options.log?.error('pacing stopped after answering', { policy, error: String(error) });
          reply({ result: 'retry', status: 503, detail: `pacing policy ${policy} failed: ${String(error)}` });
        } finally {
          serving.delete(policy);
          options.log?.debug('pace holder ends', {
            policy,
            outcome: last?.result,
            detail: last?.detail,
            requeueAfterMs: last?.result === 'done' ? last.requeueAfterMs : undefined,
          });
          if (last?.result === 'done' && last.requeueAfterMs !== undefined && !closed)
            wakeLater(policy, last.requeueAfterMs, kube);
          // Deleted while served: the Lease was released at the end of the window; it goes now.
          if (!serving.has(policy) && (await isPolicyGone(kube, policy).catch(() => false)))
            await forgetPolicy(kube, env.namespace, policy, env.now()).catch(() => undefined);
        }
      })();
      running.add(work);
      void work.finally(() => running.delete(work));
      return answer;
    },
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
    async close() {
      closed = true;
      for (const timer of wakes.values()) clearTimeout(timer);
      wakes.clear();
      for (const holder of serving.values()) holder.nudge();
      await this.idle();
      await env.events.flush();
    },
  };
  return pacer;
}

/** One PacingView for all of a process's holders, open while any of them serves. */
function sharedView(kube: Kube, namespace: string): HolderEnv['useView'] {
  let shared: { readonly view: Promise<PacingView>; users: number } | undefined;
  return async () => {
    if (!shared) shared = { view: PacingView.open(kube, namespace), users: 0 };
    const current = shared;
    current.users++;
    const done = () => {
      current.users--;
      if (current.users > 0) return;
      if (shared === current) shared = undefined;
      void current.view.then(
        (v) => v.close(),
        () => undefined,
      );
    };
    try {
      return { view: await current.view, release: done };
    } catch (error) {
      done();
      throw error;
    }
  };
}

/** Runs the given work one after another, in call order. */
function oneAtATime(): HolderEnv['exclusive'] {
  let tail: Promise<unknown> = Promise.resolve();
  return (work) => {
    const run = tail.then(work);
    tail = run.catch(() => undefined);
    return run;
  };
}
