import type { Hono } from 'hono';
import type { CachedImage } from '../../lib/api/index.ts';
import { type DropEvent, eventApp, type Outcome } from '../../lib/events/index.ts';
import { type Kube, type Pod, paths } from '../../lib/kube/index.ts';
import type { Logger } from '../../lib/log.ts';
import { policyOf } from '../../lib/policy-settings.ts';
import { LABEL, pullOutcome } from '../../lib/pull-pod.ts';
import { type PaceDeps, pacePolicy, replicaIdentity } from './apply.ts';
import { PacingView } from './view.ts';

export const FUNCTION = 'pace';

export interface PacerOptions {
  readonly kube: Kube;
  readonly namespace: string;
  readonly identity?: string;
  /** Default 45 s: below the one-minute resync ping, so a replica never serves across two pings. */
  readonly windowMs?: number;
  readonly now?: () => Date;
  readonly log?: Logger;
}

export interface Pacer {
  /** Runs a pacing round for the policy; resolves after the first round while the holder keeps serving. */
  request(policy: string, kube?: Kube): Promise<Outcome>;
  /** Resolves when every background serving window has ended (for tests and graceful shutdown). */
  idle(): Promise<void>;
  /** Ends every serving window early (their Leases are released) and waits for them. */
  close(): Promise<void>;
}

/** A policy served by this process: requests meanwhile ask for one more round and wake the loop. */
interface Serving {
  rerun: boolean;
  wake: (() => void) | undefined;
}

export function createPacer(options: PacerOptions): Pacer {
  const identity = options.identity ?? replicaIdentity();
  const running = new Set<Promise<unknown>>();
  // One serving loop per policy per process: the Lease identity is per process, so a second loop
  // here would hold the same Lease at the same time. A request while one serves asks it for
  // another round in memory; other replicas poke the Lease instead.
  const serving = new Map<string, Serving>();
  const now = options.now ?? (() => new Date());
  const useView = sharedView(options.kube, options.namespace);
  const exclusive = oneAtATime();
  let closed = false;
  return {
    async request(policy, kube = options.kube) {
      const current = serving.get(policy);
      if (current) {
        current.rerun = true;
        current.wake?.();
        return { result: 'done', detail: `policy ${policy} is being served here; asked for another round` };
      }
      const entry: Serving = { rerun: false, wake: undefined };
      serving.set(policy, entry);
      let resolve!: (outcome: Outcome) => void;
      const answer = new Promise<Outcome>((r) => {
        resolve = r;
      });
      let answered = false;
      const reply = (outcome: Outcome) => {
        if (!answered) resolve(outcome);
        answered = true;
      };
      const deps: PaceDeps = {
        kube,
        namespace: options.namespace,
        identity,
        now,
        sleep: (ms) =>
          new Promise((done) => {
            const timer = setTimeout(wake, ms);
            function wake() {
              clearTimeout(timer);
              entry.wake = undefined;
              done();
            }
            entry.wake = wake;
          }),
        takeRerun: () => {
          const asked = entry.rerun;
          entry.rerun = false;
          return asked;
        },
        nudge: () => {
          entry.rerun = true;
          entry.wake?.();
        },
        useView,
        exclusive,
        windowMs: options.windowMs ?? 45_000,
        stopped: () => closed,
        // The adapter sends one event at a time per watch: answering once the Lease is ours, not
        // after the round, keeps the next event from waiting behind this round's API requests.
        onAcquired: () => reply({ result: 'done', detail: `serving policy ${policy}` }),
      };
      const work = (async () => {
        try {
          do {
            entry.rerun = false;
            reply(await pacePolicy(deps, policy));
            // No await between this check and the delete below: a request either sets the flag
            // before it (and gets another round) or finds the policy no longer served here.
          } while (entry.rerun && !closed);
        } catch (error) {
          if (answered)
            options.log?.error('pacing stopped after answering', { policy, error: String(error) });
          reply({ result: 'retry', status: 503, detail: `pacing policy ${policy} failed: ${String(error)}` });
        } finally {
          serving.delete(policy);
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
      for (const entry of serving.values()) entry.wake?.();
      await this.idle();
    },
  };
}

/** One PacingView for all of a process's holders, open while any of them serves. */
function sharedView(kube: Kube, namespace: string): PaceDeps['useView'] {
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
      const view = await current.view;
      return { view, release: done };
    } catch (error) {
      done();
      throw error;
    }
  };
}

/** Runs the given work one after another, in call order. */
function oneAtATime(): PaceDeps['exclusive'] {
  let tail: Promise<unknown> = Promise.resolve();
  return (work) => {
    const run = tail.then(work);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** The pace function: pull pods finishing, CachedImages and PullPolicies changing, and the ping. */
export function createPaceApp(pacer: Pacer, options: { kube: Kube; namespace: string }): Hono {
  return eventApp({
    name: FUNCTION,
    handle: async (event, ctx) => {
      const kube = options.kube.session(FUNCTION, ctx.countRequest);
      const policies = await policiesFor(kube, options.namespace, event);
      if (policies.length === 0) return { result: 'ignored', detail: 'no policy has work' };
      const outcomes = await Promise.all(policies.map((p) => pacer.request(p, kube)));
      return (
        outcomes.find((o) => o.result === 'retry') ?? {
          result: 'done',
          detail: outcomes.map((o) => o.detail).join('; '),
        }
      );
    },
  });
}

async function policiesFor(kube: Kube, namespace: string, event: DropEvent): Promise<readonly string[]> {
  if (event.type === 'ping') {
    const images = await kube.list<CachedImage>(paths.cachedImages());
    return [...new Set(images.items.filter(hasWaitingNodes).map(policyOf))].sort();
  }
  switch (event.ref.kind) {
    case 'PullPolicy':
      return [event.ref.name];
    case 'CachedImage': {
      if (event.action === 'delete') return [];
      const image =
        (event.object as CachedImage | undefined) ??
        (await kube.get<CachedImage>(paths.cachedImage(event.ref.name)));
      return image && hasWaitingNodes(image) ? [policyOf(image)] : [];
    }
    case 'Pod': {
      const pod =
        (event.object as Pod | undefined) ?? (await kube.get<Pod>(paths.pod(namespace, event.ref.name)));
      const policy = pod?.metadata.labels?.[LABEL.policy];
      return policy && freesSlot(event.action, pod) ? [policy] : [];
    }
    default:
      return [];
  }
}

function hasWaitingNodes(image: CachedImage): boolean {
  return (image.status?.waitingNodes ?? []).length > 0;
}

/**
 * A slot frees when a pull ends: its pod shows an outcome, or a pod still pulling is deleted. The
 * other events of a pull pod (our create, the kubelet's progress, a deletion after the outcome)
 * change no limit, and a round for each would only cost API requests.
 */
function freesSlot(action: 'add' | 'update' | 'delete', pod: Pod): boolean {
  const pulling = pullOutcome(pod).kind === 'pulling';
  if (action === 'delete') return pulling;
  return action === 'update' && !pulling && !pod.metadata.deletionTimestamp;
}
