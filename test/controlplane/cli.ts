// npm run controlplane:build | cluster:up | cluster:down  (and `tsx test/controlplane/cli.ts status`)
// Progress goes to stderr; `up` prints the shell exports on stdout, so
// `eval "$(npm run -s cluster:up)"` configures the current shell.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startBandwidthModel } from './bandwidth.ts';
import { ensureBinaries } from './build.ts';
import { startImageStore } from './image-store.ts';
import { binDir, readPins } from './pins.ts';
import { startRegistryPulls } from './registry-pulls.ts';
import { healthyState, startControlPlane } from './start.ts';
import { DEFAULT_STATE_DIR, isComponentRunning, readState, stopComponents } from './state.ts';

const USAGE = `usage: cli.ts <build|up|down|status|bandwidth|registry-pulls|image-store> [--nodes N] [--bandwidth] [--state-dir DIR]
  build      build the pinned binaries into ${binDir()} (once)
  up         start etcd, kube-apiserver, kube-controller-manager and kwok; create drop-system, CRDs and N fake nodes (default 3);
             --bandwidth also runs the bandwidth model (README.md "Pull time")
  down       stop everything that up started
  status     show what runs (exit 1 when the control plane is not healthy or a component died)
  bandwidth  run the bandwidth model in the foreground until SIGTERM or Ctrl-C (what up --bandwidth
             starts); [--kubeconfig PATH] (default $KUBECONFIG, else the state dir's) [--namespace NS]
  registry-pulls  resolve pulls from loopback registries against them, in the foreground
  image-store     answer pods with imagePullPolicy Never from the fake nodes' image store, in the foreground
             (README.md "Pulls from a real registry"); [--kubeconfig PATH]
env: DROP_NODES (node count), DROP_BANDWIDTH_MODEL=1 (as --bandwidth),
     DROP_STATE_DIR (default ${DEFAULT_STATE_DIR}), DROP_CACHE_DIR`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    nodes: { type: 'string' },
    bandwidth: { type: 'boolean' },
    kubeconfig: { type: 'string' },
    namespace: { type: 'string' },
    'state-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
const stateDir = values['state-dir'] ?? process.env.DROP_STATE_DIR ?? DEFAULT_STATE_DIR;
const say = (line: string) => console.error(line);

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'build': {
      const pins = readPins();
      say(
        `drop: pins: kubernetes ${pins.kubernetes}, etcd ${pins.etcd}, knative eventing ${pins.eventing}, kwok ${pins.kwok}, helm ${pins.helm}`,
      );
      say(`drop: binaries in ${await ensureBinaries(say)}`);
      return 0;
    }
    case 'up': {
      const started = Date.now();
      const nodes = values.nodes === undefined ? undefined : Number(values.nodes);
      const plane = await startControlPlane({
        stateDir,
        detached: true,
        bandwidthModel: values.bandwidth ?? process.env.DROP_BANDWIDTH_MODEL === '1',
        log: say,
        ...(nodes === undefined ? {} : { nodes }),
      });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      say(
        `drop: control plane ${plane.reused ? 'already running' : `ready in ${seconds} s`}; nodes: ${plane.nodes.join(', ')}`,
      );
      say('drop: use it with (npm run cluster:down stops it):');
      console.log(`export KUBECONFIG=${plane.kubeconfigPath}`);
      console.log(`export PATH=${join(stateDir, 'bin')}:$PATH`);
      return 0;
    }
    case 'down': {
      const stopped = await stopComponents(stateDir);
      say(
        stopped.length
          ? `drop: stopped ${stopped.map((c) => `${c.name} (${c.pid})`).join(', ')}`
          : 'drop: nothing was running',
      );
      return 0;
    }
    case 'status': {
      const state = readState(stateDir);
      if (!state) {
        say(`drop: no control plane in ${stateDir}`);
        return 1;
      }
      for (const c of state.components)
        say(
          `  ${c.name.padEnd(15)} pid ${c.pid} ${isComponentRunning(c) ? 'running' : 'NOT running'}  log ${c.log}`,
        );
      const healthy = await healthyState(stateDir);
      say(`drop: ${state.server} ${healthy ? 'ready' : 'NOT healthy'}; KUBECONFIG=${state.kubeconfigPath}`);
      return healthy && state.components.every(isComponentRunning) ? 0 : 1;
    }
    case 'bandwidth': {
      const kubeconfigPath = values.kubeconfig ?? process.env.KUBECONFIG ?? join(stateDir, 'kubeconfig');
      const model = startBandwidthModel({
        kubeconfigPath,
        ...(values.namespace ? { namespace: values.namespace } : {}),
        log: (line) => console.log(line),
      });
      // up --bandwidth waits for this line.
      console.log(JSON.stringify({ time: new Date().toISOString(), msg: 'started', kubeconfigPath }));
      await new Promise((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await model.stop();
      return 0;
    }
    case 'registry-pulls': {
      const kubeconfigPath = values.kubeconfig ?? process.env.KUBECONFIG ?? join(stateDir, 'kubeconfig');
      const pulls = startRegistryPulls({ kubeconfigPath });
      say(`drop: pulls from loopback registries resolve against them (${kubeconfigPath}); Ctrl-C stops`);
      await new Promise((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await pulls.stop();
      return 0;
    }
    case 'image-store': {
      const kubeconfigPath = values.kubeconfig ?? process.env.KUBECONFIG ?? join(stateDir, 'kubeconfig');
      const store = startImageStore({ kubeconfigPath });
      say(
        `drop: pods with imagePullPolicy Never are answered from the fake nodes' image store (${kubeconfigPath}); Ctrl-C stops`,
      );
      await new Promise((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await store.stop();
      return 0;
    }
    default:
      say(USAGE);
      return values.help ? 0 : 2;
  }
}

main(positionals[0]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`drop: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
