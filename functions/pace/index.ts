import type { Hono } from 'hono';
import type { CachedImage } from '../../lib/api/index.ts';
import { type DropEvent, eventApp, type Outcome } from '../../lib/events/index.ts';
import { type Kube, type Pod, paths } from '../../lib/kube/index.ts';
import { pokeLease } from '../../lib/kube/lease.ts';
import type { Logger } from '../../lib/log.ts';
import { LABEL } from '../../lib/pull-pod.ts';
import { leaseName, type PaceDeps, pacePolicy, replicaIdentity } from './apply.ts';
import { policyOf } from './plan.ts';

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

export function createPacer(options: PacerOptions): Pacer {
  const identity = options.identity ?? replicaIdentity();
  const running = new Set<Promise<unknown>>();
  // One serving loop per policy per process: the Lease identity is per process, so a second loop
  // here would hold the same Lease at the same time. A request while one serves just pokes it.
  const serving = new Set<string>();
  const rerun = new Set<string>();
  const now = options.now ?? (() => new Date());
  let closed = false;
  return {
    async request(policy, kube = options.kube) {
      if (serving.has(policy)) {
        rerun.add(policy);
        // Wakes the loop early if it is sleeping towards a delay; the flag covers the rest.
        await pokeLease(kube, options.namespace, leaseName(policy), now());
        return { result: 'done', detail: `policy ${policy} is being served here; asked for another round` };
      }
      serving.add(policy);
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
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        windowMs: options.windowMs ?? 45_000,
        stopped: () => closed,
        afterRound: (started) =>
          reply({ result: 'done', detail: `policy ${policy}: started ${started} pulls` }),
      };
      const work = (async () => {
        try {
          do {
            rerun.delete(policy);
            reply(await pacePolicy(deps, policy));
            // No await between this check and the delete below: a request either sets the flag
            // before it (and gets another round) or finds the policy no longer served here.
          } while (rerun.has(policy) && !closed);
        } catch (error) {
          if (answered)
            options.log?.error('pacing stopped after answering', { policy, error: String(error) });
          reply({ result: 'retry', status: 503, detail: `pacing policy ${policy} failed: ${String(error)}` });
        } finally {
          serving.delete(policy);
          rerun.delete(policy);
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
      await this.idle();
    },
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
    const due = images.items.filter((i) => (i.status?.waitingNodes ?? []).length > 0).map(policyOf);
    return [...new Set(due)].sort();
  }
  switch (event.ref.kind) {
    case 'PullPolicy':
      return [event.ref.name];
    case 'CachedImage': {
      const image =
        (event.object as CachedImage | undefined) ??
        (await kube.get<CachedImage>(paths.cachedImage(event.ref.name)));
      return image ? [policyOf(image)] : [];
    }
    case 'Pod': {
      const pod =
        (event.object as Pod | undefined) ?? (await kube.get<Pod>(paths.pod(namespace, event.ref.name)));
      const policy = pod?.metadata.labels?.[LABEL.policy];
      return policy ? [policy] : [];
    }
    default:
      return [];
  }
}
