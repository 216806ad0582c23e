import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type DiscoveryPolicy,
  type DiscoveryPolicySpec,
  type DiscoverySource,
  parseSpec,
} from '../../lib/api/index.ts';
import {
  ANONYMOUS,
  type Credentials,
  credentialsFrom,
  failure,
  querySource,
  type SourceOutcome,
} from '../../lib/discovery/index.ts';
import type { Outcome } from '../../lib/events/index.ts';
import { type Kube, KubeError, type KubeObject, paths, statusPath } from '../../lib/kube/index.ts';
import { acquireLease, type Lease, writeLease } from '../../lib/kube/lease.ts';
import { discoveryImages, discoverySyncDuration, discoverySyncsTotal } from '../../lib/metrics.ts';
import { invalidSpecStatus, type PolicyStatus, type SourceRun, syncDue, syncedStatus } from './plan.ts';

export interface DiscoverDeps {
  readonly kube: Kube;
  /** Where referenced Secrets and the sync Leases live. */
  readonly namespace: string;
  /** Who holds a sync Lease: one per process. */
  readonly identity: string;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  /** Per HTTP request to a source. */
  readonly requestTimeoutMs: number;
  /** Per HTTP response from a source. */
  readonly maxResponseBytes: number;
  /** For a whole sync of one policy; below the Lease duration, so a sync never outlives its Lease. */
  readonly syncDeadlineMs: number;
}

// Two replicas must not sync one policy at once. A Lease rather than a "syncing" mark in status:
// the mark would be a status write that wakes every watcher of DiscoveryPolicies (reconcile-set,
// kubectl -w) for nothing, and a crashed replica's mark would need the same expiry a Lease has.
export const LEASE_SECONDS = 120;

export function replicaIdentity(): string {
  return `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
}

export function leaseName(policy: string): string {
  return `drop-discover-${policy}`.slice(0, 253);
}

/** Syncs the policy if it is due (read from the API, never from an event's payload). */
export async function syncIfDue(deps: DiscoverDeps, name: string): Promise<Outcome> {
  const policy = await deps.kube.get<DiscoveryPolicy>(paths.discoveryPolicy(name));
  if (!policy) return { result: 'ignored', detail: `DiscoveryPolicy ${name} does not exist` };
  const due = syncDue(policy, deps.now());
  if (!due.due) return { result: 'ignored', detail: `DiscoveryPolicy ${name} is not due: ${due.why}` };
  return syncPolicy(deps, name);
}

/**
 * Syncs one policy under its Lease: re-read it (another replica may have just synced it), query
 * every source, write status with the resourceVersion read, release the Lease.
 */
export async function syncPolicy(deps: DiscoverDeps, name: string): Promise<Outcome> {
  const lease = await acquireLease(
    deps.kube,
    deps.namespace,
    leaseName(name),
    deps.identity,
    LEASE_SECONDS,
    deps.now(),
  );
  if (!lease.held) {
    return {
      result: 'retry',
      status: 429,
      retryAfterSeconds: Math.max(1, Math.ceil((lease.expiresAt.getTime() - deps.now().getTime()) / 1000)),
      detail: `DiscoveryPolicy ${name} is being synced by ${lease.holder}`,
    };
  }
  try {
    return await syncHeld(deps, name);
  } finally {
    await releaseLease(deps, lease.lease);
  }
}

async function syncHeld(deps: DiscoverDeps, name: string): Promise<Outcome> {
  const policy = await deps.kube.get<DiscoveryPolicy>(paths.discoveryPolicy(name));
  if (!policy) return { result: 'ignored', detail: `DiscoveryPolicy ${name} does not exist` };
  const due = syncDue(policy, deps.now());
  if (!due.due) return { result: 'ignored', detail: `DiscoveryPolicy ${name} was just synced elsewhere` };
  const started = performance.now();
  const generation = policy.metadata.generation ?? 0;
  const spec = parseSpec('DiscoveryPolicy', policy.spec);
  let sourceRequests = 0;
  const countRequest = () => {
    sourceRequests++;
  };
  const status = spec.ok
    ? syncedStatus({
        generation,
        spec: spec.spec,
        previous: policy.status,
        runs: await runSources(deps, spec.spec, countRequest),
        now: deps.now(),
      })
    : invalidSpecStatus(
        { generation, previous: policy.status, now: deps.now(), sourceCount: sourcesIn(policy.spec) },
        spec.message,
      );
  const written = await writeStatus(deps.kube, policy, status);
  discoverySyncsTotal.inc({ policy: name, result: status.phase ?? 'Unknown' });
  discoverySyncDuration.observe({ policy: name }, (performance.now() - started) / 1000);
  discoveryImages.set({ policy: name }, status.imageCount ?? 0);
  if (written === 'conflict')
    return {
      result: 'retry',
      status: 503,
      detail: `DiscoveryPolicy ${name} changed during the sync; syncing again`,
    };
  return {
    result: 'done',
    detail: `DiscoveryPolicy ${name}: ${status.phase}, ${status.imageCount} images, ${sourceRequests} source requests (${due.why})`,
  };
}

function sourcesIn(spec: unknown): number {
  const sources = (spec as { sources?: unknown } | undefined)?.sources;
  return Array.isArray(sources) ? sources.length : 0;
}

async function runSources(
  deps: DiscoverDeps,
  spec: DiscoveryPolicySpec,
  countRequest: () => void,
): Promise<SourceRun[]> {
  const deadline = AbortSignal.timeout(deps.syncDeadlineMs);
  const secrets = new Map<string, Promise<CredentialsRead>>();
  // Sources run one after another: they often share a server, and their order fixes the status.
  const runs: SourceRun[] = [];
  for (const source of spec.sources) {
    const secretName = source.secretRef?.name;
    if (secretName && !secrets.has(secretName)) secrets.set(secretName, readCredentials(deps, secretName));
    const read = secretName ? await secrets.get(secretName) : { ok: true as const, credentials: ANONYMOUS };
    runs.push({
      type: source.type,
      outcome: await runSource(deps, source, read, { deadline, countRequest }),
    });
  }
  return runs;
}

type CredentialsRead =
  | { readonly ok: true; readonly credentials: Credentials }
  | { readonly ok: false; readonly outcome: SourceOutcome };

async function runSource(
  deps: DiscoverDeps,
  source: DiscoverySource,
  read: CredentialsRead | undefined,
  sync: { readonly deadline: AbortSignal; readonly countRequest: () => void },
): Promise<SourceOutcome> {
  if (!read) return { ok: false, failure: failure('InvalidSpec', 'secretRef could not be read') };
  if (!read.ok) return read.outcome;
  return querySource(source, read.credentials, {
    now: deps.now(),
    timeoutMs: deps.requestTimeoutMs,
    maxBytes: deps.maxResponseBytes,
    signal: sync.deadline,
    sleep: deps.sleep,
    countRequest: sync.countRequest,
  });
}

interface Secret extends KubeObject {
  readonly data?: Readonly<Record<string, string>>;
}

async function readCredentials(deps: DiscoverDeps, name: string): Promise<CredentialsRead> {
  const secret = await deps.kube.get<Secret>(paths.secret(deps.namespace, name));
  if (!secret)
    return {
      ok: false,
      outcome: {
        ok: false,
        failure: failure(
          'NotFound',
          `secretRef names Secret ${deps.namespace}/${name}, which does not exist`,
        ),
      },
    };
  const read = credentialsFrom(`${deps.namespace}/${name}`, secret.data ?? {});
  if (!read.ok) return { ok: false, outcome: { ok: false, failure: failure('InvalidSpec', read.problem) } };
  return { ok: true, credentials: read.credentials };
}

async function writeStatus(
  kube: Kube,
  policy: DiscoveryPolicy,
  status: PolicyStatus,
): Promise<'ok' | 'conflict'> {
  try {
    // PUT with the resourceVersion read under the Lease: a spec change during the sync is a 409,
    // and that change's own event (or the next ping) syncs the new spec.
    await kube.replace(statusPath(paths.discoveryPolicy(policy.metadata.name)), { ...policy, status });
    return 'ok';
  } catch (error) {
    if (error instanceof KubeError && error.kind === 'conflict') return 'conflict';
    if (error instanceof KubeError && error.kind === 'not-found') return 'ok';
    throw error;
  }
}

async function releaseLease(deps: DiscoverDeps, lease: Lease): Promise<void> {
  try {
    await writeLease(deps.kube, lease, {}, { release: true, now: deps.now() });
  } catch (error) {
    // Deleted with its policy, or taken over after expiry: either way it is no longer ours.
    if (error instanceof KubeError && error.kind === 'not-found') return;
    throw error;
  }
}

/** A deleted policy: its Lease and its metrics go too. */
export async function forgetPolicy(deps: DiscoverDeps, name: string): Promise<Outcome> {
  await deps.kube.delete(paths.lease(deps.namespace, leaseName(name)));
  discoveryImages.remove({ policy: name });
  return { result: 'done', detail: `DiscoveryPolicy ${name} deleted; removed its Lease` };
}
