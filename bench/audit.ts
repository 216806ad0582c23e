import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** What Drop asked of the API server in a time window, as the server's audit log counts it. */
export interface AuditCounts {
  /** Every request Drop's processes made (a watch counts once, when it ends). */
  readonly requests: number;
  readonly byAgent: Record<string, number>;
  /** By verb and resource, e.g. `create pods`, `update cachedimages/status`. */
  readonly byVerb: Record<string, number>;
  /** Pull pods created (201 Created). */
  readonly podsCreated: number;
  /** create, update, patch and delete requests, by agent, verb and resource (`drop/pace: update leases`). */
  readonly writesByAgent: Record<string, number>;
}

interface AuditEvent {
  readonly stage?: string;
  readonly verb?: string;
  readonly userAgent?: string;
  readonly requestReceivedTimestamp?: string;
  readonly objectRef?: { readonly resource?: string; readonly subresource?: string };
  readonly responseStatus?: { readonly code?: number };
}

/** Drop's processes send `drop/<function>` (lib/kube/http.ts); the bench and test tools send others. */
const DROP_AGENTS = new Set([
  'drop/reconcile-image',
  'drop/pace',
  'drop/reconcile-set',
  'drop/discover',
  'drop/drop-standalone',
]);
const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** Counts Drop's requests received between `from` and `to` (epoch ms). */
export async function countAudit(path: string, from: number, to: number): Promise<AuditCounts> {
  // The log is written in batches at most a second apart.
  await new Promise((r) => setTimeout(r, 2_000));
  const counts = {
    requests: 0,
    byAgent: {} as Record<string, number>,
    byVerb: {} as Record<string, number>,
    podsCreated: 0,
    writesByAgent: {} as Record<string, number>,
  };
  if (!existsSync(path)) return counts;
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (!line.includes('"drop/')) continue;
    const event = JSON.parse(line) as AuditEvent;
    const agent = event.userAgent ?? '';
    if (!DROP_AGENTS.has(agent) || event.stage !== 'ResponseComplete') continue;
    const at = Date.parse(event.requestReceivedTimestamp ?? '');
    if (!(at >= from && at <= to)) continue;
    const verb = event.verb ?? '';
    const resource = [event.objectRef?.resource, event.objectRef?.subresource].filter(Boolean).join('/');
    counts.requests++;
    counts.byAgent[agent] = (counts.byAgent[agent] ?? 0) + 1;
    counts.byVerb[`${verb} ${resource}`] = (counts.byVerb[`${verb} ${resource}`] ?? 0) + 1;
    if (verb === 'create' && resource === 'pods' && event.responseStatus?.code === 201) counts.podsCreated++;
    const write = `${agent}: ${verb} ${resource}`;
    if (WRITES.has(verb)) counts.writesByAgent[write] = (counts.writesByAgent[write] ?? 0) + 1;
  }
  return counts;
}
