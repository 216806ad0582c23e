// npm start: runs Drop.
//   With KUBECONFIG set: the standalone runner against that cluster (--install-crds first installs
//   the CRDs and the drop-system namespace).
//   Without: a local control plane with fake build nodes (built from pinned Go modules on first use),
//   kept in .drop/ between runs (--fresh starts empty), the CRDs, and Drop on it. --examples applies
//   examples/ in either case. Ctrl-C, SIGTERM and SIGHUP (to this process or to npm) stop all it started.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { applyObjects, EXAMPLES_DIR, ensureNamespace, installCrds, readManifests } from '../lib/install.ts';
import { createKube, dropNamespace, loadKubeConfig } from '../lib/kube/index.ts';
import { createLogger } from '../lib/log.ts';
import { readSources } from '../standalone/config-files.ts';
import { type Standalone, startStandalone } from '../standalone/standalone.ts';
import {
  type ControlPlane,
  DEFAULT_STATE_DIR,
  type ImageStore,
  startControlPlane,
  startImageStore,
  stopControlPlane,
} from '../test/controlplane/index.ts';
import { watchAncestors } from './start/lifeline.ts';
import { type LiveLine, showProgress } from './start/progress.ts';

const USAGE = `usage: npm start [-- --examples] [--fresh] [--install-crds] [--nodes N] [--port P]
  with KUBECONFIG set: run Drop against that cluster (--install-crds: install the CRDs and namespace first)
  without: start a local control plane in .drop/ with N fake nodes (default 6) and run Drop on it;
           what you created there is kept for the next run (--fresh starts empty)
  --examples   apply the manifests in examples/
env: DROP_LOG_LEVEL (default warn here; info logs every event), DROP_NAMESPACE (default drop-system),
     DROP_STATE_DIR (the local control plane's folder, default .drop/)`;

const { values } = parseArgs({
  options: {
    examples: { type: 'boolean' },
    fresh: { type: 'boolean' },
    'install-crds': { type: 'boolean' },
    nodes: { type: 'string' },
    port: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
// A closed terminal (SIGHUP) makes writes fail: that must not stop the shutdown.
process.stderr.on('error', () => undefined);
const say = (line: string) => process.stderr.write(`${line}\n`);
const stateDir = process.env.DROP_STATE_DIR ?? DEFAULT_STATE_DIR;

/** What this run started, for the shutdown: whatever exists when a signal comes. */
const started: { plane?: ControlPlane; drop?: Standalone; live?: LiveLine; store?: ImageStore } = {};
let stopping = false;

async function stop(why: string, code = 0): Promise<never> {
  if (!stopping) {
    stopping = true;
    // Should a piece hang, the exit handler still kills the control plane's processes.
    setTimeout(() => process.exit(1), 15_000).unref();
    started.live?.stop();
    const plane = started.plane && !started.plane.reused ? ' and the control plane' : '';
    say(`drop: ${why}: stopping Drop${plane}`);
    await started.drop?.stop().catch(() => undefined);
    await started.store?.stop().catch(() => undefined);
    // A control plane that `npm run cluster:up` started before us is left running.
    if (started.plane && !started.plane.reused) await started.plane.stop();
    say('drop: stopped');
    process.exit(code);
  }
  return new Promise<never>(() => undefined);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));
watchAncestors((pid) => void stop(`npm start ended (process ${pid} is gone)`));

async function main(): Promise<void> {
  if (values.help) {
    say(USAGE);
    process.exit(0);
  }
  process.env.DROP_LOG_LEVEL ??= 'warn';
  const namespace = dropNamespace();
  const external = process.env.KUBECONFIG;
  if (!external) {
    if (values.fresh) await stopControlPlane(stateDir);
    say(
      `drop: [1/3] control plane: etcd, kube-apiserver, kube-controller-manager and kwok in ${stateDir}${values.fresh ? ', from empty' : ''} (the first run builds them)`,
    );
    started.plane = await startControlPlane({
      stateDir,
      nodes: Number(values.nodes ?? 6),
      keepData: !values.fresh,
      log: say,
    });
    say(`drop: [2/3] CRDs installed, ${started.plane.nodes.length} fake nodes ready`);
    // The fake nodes' image store: Drop's garbage-collection probes (pods with imagePullPolicy
    // Never) wait for its answer (test/controlplane/README.md "Images the kubelet removed").
    started.store = startImageStore({ kubeconfigPath: started.plane.kubeconfigPath });
  }
  const plane = started.plane;
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
  started.drop = drop;
  await untilReady(drop);
  say(
    `drop: [3/3] Drop is ready against ${kube.transport.serverUrl} (http://127.0.0.1:${drop.port}/metrics)`,
  );
  if (values.examples) {
    const examples = readManifests(EXAMPLES_DIR);
    await applyObjects(kube, examples, namespace);
    say(`drop: applied ${examples.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  }
  say('drop: watch it in another shell:');
  const path = plane ? ` PATH=${join(plane.stateDir, 'bin')}:$PATH` : '';
  say(`  export KUBECONFIG=${kubeconfigPath}${path}`);
  say('  kubectl get cachedimages -w');
  say(`  kubectl get pods -n ${namespace} -l app.kubernetes.io/managed-by=drop -o wide -w`);
  say('  kubectl describe cachedimage <name>   # its Events: pulls started, cached, failed');
  say(`drop: Ctrl-C stops Drop${plane && !plane.reused ? ' and the control plane' : ''}`);
  if (!stopping) started.live = showProgress(kube, process.stderr);
}

/** Waits for GET /readyz: the API answers, the CRDs are served and every watch has listed. */
async function untilReady(drop: Standalone): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await drop.ready())) {
    if (Date.now() > deadline) throw new Error('Drop did not become ready within 2 minutes (GET /readyz)');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

main().catch(async (error: unknown) => {
  say(`drop: ${error instanceof Error ? error.message : String(error)}`);
  await stop('failed to start', 1);
});
