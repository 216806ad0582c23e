// npm run discover:dry-run -- policy.yaml: runs a DiscoveryPolicy's queries and prints the ranked
// images with every contribution, writing nothing (functions/discover/dry-run.ts).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { dryRun } from '../functions/discover/dry-run.ts';
import { createKube, dropNamespace, type Kube, loadKubeConfig } from '../lib/kube/index.ts';

const USAGE = `usage: npm run discover:dry-run -- FILE [--name POLICY] [--no-cluster]
  runs the queries of every DiscoveryPolicy in FILE (or the one named) and prints the ranking
  with every contribution; writes nothing. With KUBECONFIG (or ~/.kube/config) it reads the
  Secrets of secretRef in DROP_NAMESPACE (default drop-system), Events and nodes from that cluster.`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: 'string' },
    'no-cluster': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
const [file] = positionals;
if (values.help || !file) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}

function clusterOrNone(): Kube | undefined {
  if (values['no-cluster']) return undefined;
  try {
    return createKube(loadKubeConfig(), 'drop-dry-run');
  } catch (error) {
    console.error(
      `no cluster (${error instanceof Error ? error.message : String(error)}): queries that read it will fail`,
    );
    return undefined;
  }
}

const result = await dryRun(readFileSync(file, 'utf8'), {
  kube: clusterOrNone(),
  namespace: dropNamespace(),
  now: () => new Date(),
  ...(values.name ? { name: values.name } : {}),
});
console.log(result.text);
process.exit(result.exitCode);
