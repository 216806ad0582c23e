import { parseAllDocuments } from 'yaml';
import { discoveryPolicySpecSchema, parseSpec } from '../../lib/api/index.ts';
import { pipelineOf } from '../../lib/discovery/index.ts';
import type { Kube } from '../../lib/kube/index.ts';
import { rankingTable } from './explain.ts';
import { nodesFor, type QueryBounds, runQueries } from './queries.ts';
import { syncedStatus } from './status.ts';

// The dry run: a DiscoveryPolicy file's queries run as a sync would run them, its ranking printed
// with every contribution — and nothing written. With a cluster it reads what a sync reads there
// (the Secrets its queries name, Events, nodes); it never writes status or takes a Lease.

export interface DryRunOptions extends QueryBounds {
  /** The cluster to read Secrets, Events and nodes from; absent: queries that need it fail. */
  readonly kube: Kube | undefined;
  readonly now: () => Date;
  /** Which policy of the file (default: every DiscoveryPolicy in it). */
  readonly name?: string;
}

export interface DryRunResult {
  readonly text: string;
  /** 0: every policy synced; 1: one failed or could not be read. */
  readonly exitCode: 0 | 1;
}

/** Runs every DiscoveryPolicy of a YAML stream (or the one named) and says what a sync would write. */
export async function dryRun(yaml: string, options: DryRunOptions): Promise<DryRunResult> {
  const policies = parseAllDocuments(yaml)
    .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string }; spec?: unknown })
    .filter((o) => o?.kind === 'DiscoveryPolicy' && (!options.name || o.metadata?.name === options.name));
  if (policies.length === 0)
    return {
      text: `no DiscoveryPolicy${options.name ? ` named ${options.name}` : ''} in the file`,
      exitCode: 1,
    };
  const sections: string[] = [];
  let failed = false;
  for (const policy of policies) {
    const name = policy.metadata?.name ?? '(unnamed)';
    const spec = parseSpec(discoveryPolicySpecSchema, policy.spec);
    if (!spec.ok) {
      failed = true;
      sections.push(`DiscoveryPolicy ${name}: InvalidSpec: ${spec.message}`);
      continue;
    }
    const pipeline = pipelineOf(spec.spec);
    let requests = 0;
    const [runs, nodes] = await Promise.all([
      runQueries(options, pipeline, options, () => {
        requests++;
      }),
      nodesFor(pipeline, options.kube),
    ]);
    const status = syncedStatus({
      generation: 1,
      spec: spec.spec,
      pipeline,
      runs,
      nodes: nodes.nodes,
      ...(nodes.note ? { nodesNote: nodes.note } : {}),
      previous: undefined,
      now: options.now(),
    });
    if (status.phase !== 'Synced') failed = true;
    sections.push(
      [
        `DiscoveryPolicy ${name}: ${status.phase} (${requests} requests)`,
        ...(status.queryResults ?? []).map(
          (q) => `  query ${q.name} (${q.type}): ${q.reason}: ${q.message ?? ''}`,
        ),
        ...(status.ranking?.summary ? [`  ranking: ${status.ranking.summary}`] : []),
        '',
        status.phase === 'Synced' ? rankingTable(status) : `  ${status.message}`,
      ].join('\n'),
    );
  }
  return { text: sections.join('\n\n'), exitCode: failed ? 1 : 0 };
}
