// npm start: runs Drop.
//   With KUBECONFIG set: the standalone runner against that cluster (--install-crds first installs
//   the CRDs and the drop-system namespace).
//   Without: a local control plane with fake build nodes (built from pinned Go modules on first use),
//   the CRDs, and Drop on it. --examples applies examples/ in either case. Ctrl-C stops what it started.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { applyObjects, EXAMPLES_DIR, ensureNamespace, installCrds, readManifests } from '../lib/install.ts';
import { createKube, dropNamespace, loadKubeConfig } from '../lib/kube/index.ts';
import { createLogger } from '../lib/log.ts';
import { readSources } from '../standalone/config-files.ts';
import { startStandalone } from '../standalone/standalone.ts';
import { type ControlPlane, DEFAULT_STATE_DIR, startControlPlane } from '../test/controlplane/index.ts';

const USAGE = `usage: npm start [-- --examples] [--install-crds] [--nodes N] [--port P]
  with KUBECONFIG set: run Drop against that cluster (--install-crds: install the CRDs and namespace first)
  without: start a local control plane in .drop/ with N fake nodes (default 6) and run Drop on it
  --examples   apply the manifests in examples/
env: DROP_LOG_LEVEL (default warn here; info logs every event), DROP_NAMESPACE (default drop-system),
     DROP_STATE_DIR (the local control plane's folder, default .drop/)`;

const { values } = parseArgs({
  options: {
    examples: { type: 'boolean' },
    'install-crds': { type: 'boolean' },
    nodes: { type: 'string' },
    port: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
const say = (line: string) => console.error(line);
const stateDir = process.env.DROP_STATE_DIR ?? DEFAULT_STATE_DIR;

async function main(): Promise<void> {
  if (values.help) return say(USAGE);
  process.env.DROP_LOG_LEVEL ??= 'warn';
  const namespace = dropNamespace();
  const external = process.env.KUBECONFIG;
  let plane: ControlPlane | undefined;
  if (!external) {
    say(`drop: no KUBECONFIG set: starting a local control plane in ${stateDir} (the first run builds it)`);
    plane = await startControlPlane({ stateDir, nodes: Number(values.nodes ?? 6), log: say });
  }
  const kubeconfigPath = plane?.kubeconfigPath ?? external ?? '';
  const kube = createKube(loadKubeConfig(kubeconfigPath), 'drop-start');
  if (external && values['install-crds']) {
    say(`drop: installed ${(await installCrds(kube)).join(', ')}`);
    await ensureNamespace(kube, namespace);
  }
  const drop = await startStandalone({
    kube,
    namespace,
    sources: readSources(new URL('../config/', import.meta.url).pathname, namespace),
    log: createLogger({ component: 'standalone' }),
    port: Number(values.port ?? 0),
    hostname: '127.0.0.1',
  });
  if (values.examples) {
    const examples = readManifests(EXAMPLES_DIR);
    await applyObjects(kube, examples, namespace);
    say(`drop: applied ${examples.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  }
  say(`drop: running against ${kube.transport.serverUrl} (metrics: http://127.0.0.1:${drop.port}/metrics)`);
  say('drop: watch it in another shell:');
  const path = plane ? ` PATH=${join(plane.stateDir, 'bin')}:$PATH` : '';
  say(`  export KUBECONFIG=${kubeconfigPath}${path}`);
  say('  kubectl get cachedimages -w');
  say(`  kubectl get pods -n ${namespace} -l app.kubernetes.io/managed-by=drop -o wide -w`);
  say(`drop: Ctrl-C stops Drop${plane && !plane.reused ? ' and the control plane' : ''}`);
  const stop = async () => {
    say('drop: stopping');
    await drop.stop();
    // A control plane that `npm run cluster:up` started before us is left running.
    if (plane && !plane.reused) await plane.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  say(`drop: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
