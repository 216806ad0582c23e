import type { DiscoveryPolicySpec, DiscoverySource } from '../../lib/api/index.ts';
import type { HandlerContext } from '../../lib/controller/index.ts';
import {
  ANONYMOUS,
  type Credentials,
  credentialsFrom,
  failure,
  querySource,
  type SourceOutcome,
} from '../../lib/discovery/index.ts';
import { beginSourceSeries, discoverySourceLatency } from '../../lib/go-drop-metrics.ts';
import { type Kube, type KubeObject, paths } from '../../lib/kube/index.ts';
import type { SourceRun } from './plan.ts';

// Running a policy's sources: the Secrets they name, then each query (lib/discovery), one after
// another. What the answers mean is plan.ts's and status.ts's to say.

const REQUEST_TIMEOUT_MS = 30_000;
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
// Below the Lease duration, so a sync never outlives its Lease.
const SYNC_DEADLINE_MS = 90_000;

/** Where the Secrets are, and the bounds of one sync (DiscoverOptions; defaults below). */
export interface SourceBounds {
  readonly namespace: string;
  readonly requestTimeoutMs?: number;
  readonly maxResponseBytes?: number;
  readonly syncDeadlineMs?: number;
}

/** Queries every source of the policy's spec, reading each named Secret once. */
export async function runSources(
  d: SourceBounds,
  policy: string,
  spec: DiscoveryPolicySpec,
  ctx: HandlerContext,
  countRequest: () => void,
): Promise<SourceRun[]> {
  const deadline = AbortSignal.timeout(d.syncDeadlineMs ?? SYNC_DEADLINE_MS);
  const secrets = new Map<string, Promise<CredentialsRead>>();
  // Sources run one after another: they often share a server, and their order fixes the status.
  const runs: SourceRun[] = [];
  for (const source of spec.sources) {
    const secretName = source.secretRef?.name;
    if (secretName && !secrets.has(secretName))
      secrets.set(secretName, readCredentials(d, ctx.kube, secretName));
    const read = secretName ? await secrets.get(secretName) : { ok: true as const, credentials: ANONYMOUS };
    const io = { deadline, countRequest, now: ctx.now() };
    beginSourceSeries(policy, source.type);
    const timer = discoverySourceLatency.startTimer({ policy, source_type: source.type });
    runs.push({ type: source.type, outcome: await runSource(d, source, read, io) });
    timer();
  }
  return runs;
}

type CredentialsRead =
  | { readonly ok: true; readonly credentials: Credentials }
  | { readonly ok: false; readonly outcome: SourceOutcome };

async function runSource(
  d: SourceBounds,
  source: DiscoverySource,
  read: CredentialsRead | undefined,
  sync: { readonly deadline: AbortSignal; readonly countRequest: () => void; readonly now: Date },
): Promise<SourceOutcome> {
  if (!read) return { ok: false, failure: failure('InvalidSpec', 'secretRef could not be read') };
  if (!read.ok) return read.outcome;
  return querySource(source, read.credentials, {
    now: sync.now,
    timeoutMs: d.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
    maxBytes: d.maxResponseBytes ?? MAX_RESPONSE_BYTES,
    signal: sync.deadline,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    countRequest: sync.countRequest,
  });
}

interface Secret extends KubeObject {
  readonly data?: Readonly<Record<string, string>>;
}

async function readCredentials(d: SourceBounds, kube: Kube, name: string): Promise<CredentialsRead> {
  const secret = await kube.get<Secret>(paths.secret(d.namespace, name));
  if (!secret) {
    const missing = `secretRef names Secret ${d.namespace}/${name}, which does not exist`;
    return { ok: false, outcome: { ok: false, failure: failure('NotFound', missing) } };
  }
  const read = credentialsFrom(`${d.namespace}/${name}`, secret.data ?? {});
  if (!read.ok) return { ok: false, outcome: { ok: false, failure: failure('InvalidSpec', read.problem) } };
  return { ok: true, credentials: read.credentials };
}
