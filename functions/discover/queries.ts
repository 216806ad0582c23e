import {
  ANONYMOUS,
  type Credentials,
  countReadyNodes,
  credentialsFrom,
  failure,
  type NodesNeeded,
  nodesNeeded,
  type Pipeline,
  type PipelineQuery,
  type QueryOutcome,
  runQuery,
} from '../../lib/discovery/index.ts';
import type { Kube, KubeObject } from '../../lib/kube/index.ts';
import { paths } from '../../lib/kube/index.ts';
import type { QueryRun } from './plan.ts';

// Running a policy's queries: the Secrets they name, then every query at once, each within its
// own time, all within the sync's. What the answers mean is plan.ts's and status.ts's to say.

const REQUEST_TIMEOUT_MS = 30_000;
const QUERY_TIMEOUT_MS = 60_000;
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
// Below the 120 s sync Lease and far below the Knative request timeout (300 s, config/discover).
const SYNC_DEADLINE_MS = 90_000;

/** The API (absent in a dry run without a cluster) and the clock of a sync. */
export interface QueryContext {
  readonly kube: Kube | undefined;
  readonly now: () => Date;
  /** Starts timing one query; the returned function ends it (a sync's latency metric). */
  readonly timeQuery?: (query: PipelineQuery) => () => void;
}

/** Where the Secrets are, and the bounds of one sync (DiscoverOptions; defaults above). */
export interface QueryBounds {
  readonly namespace: string;
  /** Per HTTP request to a server. */
  readonly requestTimeoutMs?: number;
  /** Per query: its requests, pages and Retry-After waits together. */
  readonly queryTimeoutMs?: number;
  readonly maxResponseBytes?: number;
  /** A whole sync of one policy. */
  readonly syncDeadlineMs?: number;
}

/**
 * Runs every query of the pipeline concurrently, so a slow or hanging one costs the others
 * nothing; each ends by its own timeout or the sync's deadline, whichever comes first.
 */
export async function runQueries(
  d: QueryBounds,
  pipeline: Pipeline,
  ctx: QueryContext,
  countRequest: () => void,
): Promise<QueryRun[]> {
  const deadline = AbortSignal.timeout(d.syncDeadlineMs ?? SYNC_DEADLINE_MS);
  const secrets = new Map<string, Promise<CredentialsRead>>();
  const credentialsOf = (name: string) => {
    let read = secrets.get(name);
    if (!read) {
      read = readCredentials(d, ctx.kube, name);
      secrets.set(name, read);
    }
    return read;
  };
  const now = ctx.now();
  return Promise.all(
    pipeline.queries.map(async (query): Promise<QueryRun> => {
      const read = query.secretRef
        ? await credentialsOf(query.secretRef.name)
        : { ok: true as const, credentials: ANONYMOUS };
      const timed = ctx.timeQuery?.(query);
      const outcome = read.ok
        ? await runBounded(d, pipeline, query, read.credentials, ctx.kube, deadline, now, countRequest)
        : read.outcome;
      timed?.();
      return { name: query.name, label: query.label, type: query.type, outcome };
    }),
  );
}

async function runBounded(
  d: QueryBounds,
  pipeline: Pipeline,
  query: PipelineQuery,
  credentials: Credentials,
  kube: Kube | undefined,
  deadline: AbortSignal,
  now: Date,
  countRequest: () => void,
): Promise<QueryOutcome> {
  const timeoutMs = d.queryTimeoutMs ?? QUERY_TIMEOUT_MS;
  const signal = AbortSignal.any([deadline, AbortSignal.timeout(timeoutMs)]);
  // HTTP requests stop on the signal; a Kubernetes list does not take one, so the race ends it.
  const ended = new Promise<QueryOutcome>((resolve) => {
    const end = () => {
      const why = deadline.aborted
        ? 'the sync ran out of time'
        : `no answer within the query timeout of ${timeoutMs / 1000} s`;
      resolve({
        ok: false,
        failure: failure('Timeout', `${query.label}: ${why}; the next sync tries again`),
      });
    };
    if (signal.aborted) end();
    signal.addEventListener('abort', end, { once: true });
  });
  const io = {
    now,
    timeoutMs: d.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
    maxBytes: d.maxResponseBytes ?? MAX_RESPONSE_BYTES,
    signal,
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    countRequest,
  };
  return Promise.race([runQuery(pipeline, query, { credentials, kube, io }), ended]);
}

type CredentialsRead =
  | { readonly ok: true; readonly credentials: Credentials }
  | { readonly ok: false; readonly outcome: QueryOutcome };

interface Secret extends KubeObject {
  readonly data?: Readonly<Record<string, string>>;
}

async function readCredentials(
  d: QueryBounds,
  kube: Kube | undefined,
  name: string,
): Promise<CredentialsRead> {
  if (!kube) {
    const why = `secretRef names Secret ${d.namespace}/${name}: reading it needs a cluster (set KUBECONFIG)`;
    return { ok: false, outcome: { ok: false, failure: failure('NotFound', why) } };
  }
  const secret = await kube.get<Secret>(paths.secret(d.namespace, name));
  if (!secret) {
    const missing = `secretRef names Secret ${d.namespace}/${name}, which does not exist`;
    return { ok: false, outcome: { ok: false, failure: failure('NotFound', missing) } };
  }
  const read = credentialsFrom(`${d.namespace}/${name}`, secret.data ?? {});
  if (!read.ok) return { ok: false, outcome: { ok: false, failure: failure('InvalidSpec', read.problem) } };
  return { ok: true, credentials: read.credentials };
}

/** N for a modelExposure ranking: counted from the nodes when a selector asks, else as given. */
export async function nodesFor(
  pipeline: Pipeline,
  kube: Kube | undefined,
): Promise<{ readonly nodes: number; readonly note?: string }> {
  const needed: NodesNeeded = nodesNeeded(pipeline.ranking);
  if (needed.kind === 'none') return { nodes: 1 };
  if (needed.kind === 'count') return { nodes: needed.count };
  if (!kube)
    return {
      nodes: needed.fallback ?? 1,
      note: `no cluster to count nodes in, using N=${needed.fallback ?? 1}`,
    };
  try {
    return { nodes: await countReadyNodes(kube, needed.selector) };
  } catch (error) {
    const fallback = needed.fallback ?? 1;
    return { nodes: fallback, note: `counting nodes failed (${String(error)}), using N=${fallback}` };
  }
}
