// Leader election for standalone replicas (the chart's replicaCount > 1): only the holder of one
// coordination.k8s.io Lease runs Drop, the others stand by and take over when it stops renewing.
// Correctness never depended on it — pacing and discovery hold their own Leases — but every runner
// opens every watch and runs every timer, so without it N replicas cost N times the API load.
// The timing is client-go's leaderelection default (what controller-runtime and Go Drop's
// --leader-elect use): a 15 s Lease, renewed every 2 s, given up after 10 s without a renewal — so
// a leader that cannot reach the API server stops before anyone else may take its Lease.
import { acquireLease, type Lease, microTime } from '../lib/controller/lease-holder.ts';
import type { Kube } from '../lib/kube/client.ts';
import { KubeError } from '../lib/kube/errors.ts';
import { paths } from '../lib/kube/paths.ts';
import type { Logger } from '../lib/log.ts';

/** The Lease in Drop's namespace whose holder runs the standalone runner. */
export const LEADER_LEASE = 'drop-standalone';

export interface LeaderTiming {
  readonly leaseSeconds: number;
  readonly renewDeadlineMs: number;
  readonly retryMs: number;
}

export const DEFAULT_LEADER_TIMING: LeaderTiming = {
  leaseSeconds: 15,
  renewDeadlineMs: 10_000,
  retryMs: 2_000,
};

/** What a candidate knows between attempts. */
export interface Candidacy {
  readonly leading: boolean;
  /** When the Lease was last taken or renewed by us (ms since the epoch). */
  readonly renewedAt?: number;
}

/** One attempt to take or renew the Lease: held, held by someone else, or the API failed. */
export type Attempt =
  | { readonly kind: 'held' }
  | { readonly kind: 'elsewhere' }
  | { readonly kind: 'failed' };

/**
 * The candidate after an attempt, and whether it must start or stop running Drop. A failed attempt
 * keeps a leader leading until renewDeadline has passed since its last renewal: a blip of the API
 * server does not restart everything, an outage stops it before the Lease can expire.
 */
export function nextCandidacy(
  candidacy: Candidacy,
  attempt: Attempt,
  now: number,
  timing: LeaderTiming,
): { readonly candidacy: Candidacy; readonly change?: 'start' | 'stop' } {
  if (attempt.kind === 'held')
    return {
      candidacy: { leading: true, renewedAt: now },
      ...(candidacy.leading ? {} : { change: 'start' }),
    };
  if (!candidacy.leading) return { candidacy };
  const expired = attempt.kind === 'elsewhere' || now - (candidacy.renewedAt ?? 0) >= timing.renewDeadlineMs;
  return expired ? { candidacy: { leading: false }, change: 'stop' } : { candidacy };
}

export interface LeaderElectionOptions {
  readonly kube: Kube;
  readonly namespace: string;
  readonly identity: string;
  readonly log: Logger;
  readonly timing?: LeaderTiming;
  readonly lease?: string;
  /** Starts Drop; what it returns stops it. */
  readonly lead: () => Promise<() => Promise<void>>;
}

export interface LeaderElection {
  leading(): boolean;
  /** Stops running Drop if leading, then releases the Lease so a standby takes over at once. */
  stop(): Promise<void>;
}

/** Runs for the Lease until stopped; `lead` runs while it is held. */
export function startLeaderElection(options: LeaderElectionOptions): LeaderElection {
  const timing = options.timing ?? DEFAULT_LEADER_TIMING;
  const lease = options.lease ?? LEADER_LEASE;
  let candidacy: Candidacy = { leading: false };
  let stopLeading: (() => Promise<void>) | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();

  const attempt = async (): Promise<Attempt> => {
    try {
      const result = await acquireLease(
        options.kube,
        options.namespace,
        lease,
        options.identity,
        timing.leaseSeconds,
        new Date(),
      );
      return result.held ? { kind: 'held' } : { kind: 'elsewhere' };
    } catch (error) {
      options.log.warn('leader election: the Lease could not be read or written', { error: String(error) });
      return { kind: 'failed' };
    }
  };

  const step = async () => {
    const next = nextCandidacy(candidacy, await attempt(), Date.now(), timing);
    candidacy = next.candidacy;
    if (next.change === 'start' && !stopped) {
      options.log.info('leader election: leading', { lease, identity: options.identity });
      stopLeading = await options.lead();
    }
    if (next.change === 'stop') {
      options.log.warn('leader election: lost the Lease, standing by', { lease });
      await stopLeading?.();
      stopLeading = undefined;
    }
  };

  const loop = () => {
    round = step().finally(() => {
      if (!stopped) timer = setTimeout(loop, timing.retryMs);
    });
  };
  loop();

  return {
    leading: () => candidacy.leading,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await round;
      if (stopLeading) await stopLeading();
      if (candidacy.leading)
        await releaseLeadership(options.kube, options.namespace, lease, options.identity);
      candidacy = { leading: false };
    },
  };
}

// As client-go's ReleaseOnCancel: the holder is cleared (with the resourceVersion read, so a Lease
// someone else took meanwhile is left alone) and a standby takes it at its next attempt.
async function releaseLeadership(kube: Kube, namespace: string, name: string, identity: string) {
  try {
    const current = await kube.get<Lease>(paths.lease(namespace, name));
    if (current?.spec?.holderIdentity !== identity) return;
    await kube.replace<Lease>(paths.lease(namespace, name), {
      ...current,
      spec: { ...current.spec, holderIdentity: undefined, renewTime: microTime(new Date()) },
    });
  } catch (error) {
    if (error instanceof KubeError && (error.kind === 'conflict' || error.kind === 'not-found')) return;
    throw error;
  }
}
