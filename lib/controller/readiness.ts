import { API_VERSION, PLURAL } from '../api/index.ts';
import type { Kube, KubeObject } from '../kube/client.ts';
import { KubeError } from '../kube/errors.ts';

export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

interface ResourceList extends KubeObject {
  readonly resources?: readonly { readonly name: string }[];
}

/** How long one answer serves probes: Knative's queue-proxy probes a starting pod every few ms. */
const TTL_MS = 2_000;

/**
 * Whether this process can do Drop's work: the API server answers with these credentials and
 * serves Drop's four kinds. One discovery request (any authenticated user may make it, so it says
 * nothing about RBAC, which a probe cannot test without doing the work), cached for two seconds.
 * A pod that is not ready gets no events: Knative holds them, the adapter retries.
 */
export function readinessCheck(kube: Kube, now: () => number = Date.now): () => Promise<Readiness> {
  let last: { at: number; answer: Promise<Readiness> } | undefined;
  return () => {
    if (last && now() - last.at < TTL_MS) return last.answer;
    last = { at: now(), answer: check(kube) };
    return last.answer;
  };
}

async function check(kube: Kube): Promise<Readiness> {
  try {
    const list = await kube.get<ResourceList>(`/apis/${API_VERSION}`);
    if (!list)
      return { ready: false, reason: `the API server does not serve ${API_VERSION}: install Drop's CRDs` };
    const served = new Set((list.resources ?? []).map((r) => r.name));
    const missing = Object.values(PLURAL).filter((plural) => !served.has(plural));
    if (missing.length > 0) return { ready: false, reason: `CRDs not installed: ${missing.join(', ')}` };
    return { ready: true };
  } catch (error) {
    if (error instanceof KubeError && (error.kind === 'unauthorized' || error.kind === 'forbidden'))
      return { ready: false, reason: `the API server refuses these credentials: ${error.message}` };
    return {
      ready: false,
      reason: `the API server cannot be reached: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/** The HTTP answer of GET /readyz: 200 when ready, else 503 with the reason. */
export async function readyzResponse(check: () => Promise<Readiness>): Promise<Response> {
  const answer = await check();
  const body = answer.ready ? { status: 'ready' } : { status: 'not ready', reason: answer.reason };
  return new Response(JSON.stringify(body), {
    status: answer.ready ? 200 : 503,
    headers: { 'content-type': 'application/json' },
  });
}
