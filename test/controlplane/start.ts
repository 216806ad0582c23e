import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyNamespaces, installCrds } from './bootstrap.ts';
import { ensureBinaries, type Log } from './build.ts';
import {
  AUDIT_POLICY,
  apiserverArgs,
  bandwidthModelCommand,
  controllerManagerArgs,
  etcdArgs,
  kwokArgs,
  type Ports,
} from './components.ts';
import {
  apiGet,
  insecureHealthz,
  kubeconfigYaml,
  readCredentials,
  servingCaPath,
  writeCredentials,
} from './credentials.ts';
import { applyNodes, defaultNodeSpecs } from './nodes.ts';
import { binaryPath, helmPath, kubectlPath } from './pins.ts';
import { freePorts, isRunning, killNow, poll, sleep, startProcess } from './processes.ts';
import {
  CORE_COMPONENTS,
  type ControlPlaneState,
  type CoreComponentName,
  DEFAULT_STATE_DIR,
  isComponentRunning,
  type RunningComponent,
  readState,
  stopComponents,
  writeState,
} from './state.ts';

export interface ControlPlaneOptions {
  /** Where data, logs, state.json and the kubeconfig go; default `.drop/` in the repository. */
  readonly stateDir?: string;
  /** Fake nodes to create (default: env DROP_NODES, else 3). See defaultNodeSpecs for their roles. */
  readonly nodes?: number;
  /** Keep running after this process exits (cluster:up). Tests leave it false. */
  readonly detached?: boolean;
  /**
   * Start on the etcd data and credentials a previous run left in stateDir (npm start keeps its
   * sandbox between runs); default false: every start is empty.
   */
  readonly keepData?: boolean;
  /** CRD folder to install, or false for none; default `crds/` when it exists. */
  readonly crdsDir?: string | false;
  /**
   * Also run the bandwidth model (a node process, see README.md "Pull time"); default false. On a
   * running control plane it is started if it does not run; it is never stopped by `up`.
   */
  readonly bandwidthModel?: boolean;
  /** The API server writes an audit log of every request (<stateDir>/audit.log), for benchmarks. */
  readonly auditLog?: boolean;
  readonly log?: Log;
}

export interface ControlPlane {
  readonly kubeconfigPath: string;
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  readonly stateDir: string;
  readonly kubectlPath: string;
  readonly nodes: readonly string[];
  /** True when a healthy control plane was already running in stateDir and was kept. */
  readonly reused: boolean;
  /** The audit log, when `auditLog` was asked for. */
  readonly auditLogPath?: string;
  /** Stops every process of this control plane. */
  stop(): Promise<void>;
}

/** Starts etcd, kube-apiserver and kwok (building them first if needed), or reuses a healthy running set. */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const log = options.log ?? ((line: string) => console.error(line));
  await ensureBinaries(log);
  mkdirSync(stateDir, { recursive: true });
  const nodes = defaultNodeSpecs(options.nodes ?? Number(process.env.DROP_NODES || 3));
  const existing = await healthyState(stateDir);
  if (existing) {
    // Running twice is harmless: nothing restarts, and missing pieces (CRDs, nodes) are added.
    log(`drop: control plane already running at ${existing.server} (state in ${stateDir})`);
    const names = await bootstrap(existing.kubeconfigPath, options, nodes);
    if (options.bandwidthModel) await ensureBandwidthModel(stateDir, options.detached ?? false, log);
    return handle(stateDir, existing, names, true);
  }
  await stopComponents(stateDir);
  const state = await launch(stateDir, options.detached ?? false, log, {
    audit: options.auditLog ?? false,
    keepData: options.keepData ?? false,
  });
  // Read at exit: the bandwidth model joins state.json after launch.
  const stopOnExit = options.detached
    ? undefined
    : () => killNow((readState(stateDir) ?? state).components.map((c) => c.pid));
  if (stopOnExit) process.once('exit', stopOnExit);
  try {
    const names = await bootstrap(state.kubeconfigPath, options, nodes);
    if (options.bandwidthModel) await ensureBandwidthModel(stateDir, options.detached ?? false, log);
    return handle(stateDir, state, names, false, stopOnExit);
  } catch (error) {
    if (stopOnExit) process.removeListener('exit', stopOnExit);
    await stopComponents(stateDir);
    throw withLogs(error, state.components);
  }
}

async function launch(
  stateDir: string,
  detached: boolean,
  log: Log,
  { audit, keepData }: { readonly audit: boolean; readonly keepData: boolean },
): Promise<ControlPlaneState> {
  const kept = keepData ? readCredentials(join(stateDir, 'pki')) : undefined;
  if (!kept) for (const dir of ['etcd', 'pki']) rmSync(join(stateDir, dir), { recursive: true, force: true });
  for (const dir of ['etcd', 'pki', 'logs', 'bin']) mkdirSync(join(stateDir, dir), { recursive: true });
  // etcd keeps its data across new ports: a single member never talks to a peer.
  const credentials = kept ?? writeCredentials(join(stateDir, 'pki'));
  if (kept)
    log(`drop: keeping the objects of the last run in ${stateDir} (npm start -- --fresh starts empty)`);
  const [etcdClient, etcdPeer, apiserver, controllerManager] = await freePorts(4);
  const ports: Ports = {
    etcdClient: etcdClient!,
    etcdPeer: etcdPeer!,
    apiserver: apiserver!,
    controllerManager: controllerManager!,
  };
  const server = `https://127.0.0.1:${ports.apiserver}`;
  const kubeconfigPath = join(stateDir, 'kubeconfig');
  const components: RunningComponent[] = [];
  const start = (name: CoreComponentName, args: string[]): RunningComponent => {
    const binary = binaryPath(name);
    const logFile = join(stateDir, 'logs', `${name}.log`);
    writeFileSync(logFile, '');
    const component = { name, binary, log: logFile, pid: startProcess(binary, args, { logFile, detached }) };
    components.push(component);
    return component;
  };
  const save = () =>
    writeState(stateDir, { kubeconfigPath, server, ports, components, startedAt: new Date().toISOString() });
  try {
    const started = Date.now();
    const etcd = start('etcd', etcdArgs(join(stateDir, 'etcd'), ports));
    save();
    await waitUntil(etcd, 'etcd /health', async () => {
      const res = await fetch(`http://127.0.0.1:${ports.etcdClient}/health`);
      return res.ok ? true : undefined;
    });
    const auditFiles = audit
      ? { policy: join(stateDir, 'audit-policy.yaml'), log: join(stateDir, 'audit.log') }
      : undefined;
    if (auditFiles) writeFileSync(auditFiles.policy, AUDIT_POLICY);
    const kubeApiserver = start('kube-apiserver', apiserverArgs(credentials, ports, auditFiles));
    save();
    const caFile = servingCaPath(credentials.certDir);
    await waitUntil(kubeApiserver, 'kube-apiserver /readyz', async () => {
      if (!existsSync(caFile)) return undefined;
      const res = await apiGet(server, caFile, credentials.adminToken, '/readyz');
      return res.status === 200 ? true : undefined;
    });
    const caPem = readFileSync(caFile, 'utf8');
    writeFileSync(kubeconfigPath, kubeconfigYaml(server, caPem, credentials.adminToken), { mode: 0o600 });
    const controllerManagerKubeconfig = join(stateDir, 'pki', 'kube-controller-manager.kubeconfig');
    writeFileSync(
      controllerManagerKubeconfig,
      kubeconfigYaml(server, caPem, credentials.controllerManagerToken, 'system:kube-controller-manager'),
      { mode: 0o600 },
    );
    const controllerManager = start(
      'kube-controller-manager',
      controllerManagerArgs(controllerManagerKubeconfig, credentials, caFile, ports, stateDir),
    );
    start('kwok', kwokArgs(kubeconfigPath));
    save();
    linkTools(stateDir);
    // kwok and the controllers start in parallel; /healthz answers once the controllers are started.
    await waitUntil(controllerManager, 'kube-controller-manager /healthz', async () =>
      (await insecureHealthz(ports.controllerManager)) ? true : undefined,
    );
    log(
      `drop: etcd, kube-apiserver, kube-controller-manager and kwok up in ${((Date.now() - started) / 1000).toFixed(1)} s at ${server}`,
    );
    return readState(stateDir)!;
  } catch (error) {
    await stopComponents(stateDir);
    throw withLogs(error, components);
  }
}

/** Namespaces, CRDs and the fake nodes (existing ones are kept); returns the node names. */
async function bootstrap(
  kubeconfigPath: string,
  options: ControlPlaneOptions,
  nodes: ReturnType<typeof defaultNodeSpecs>,
): Promise<string[]> {
  await applyNamespaces(kubeconfigPath);
  if (options.crdsDir !== false) await installCrds(kubeconfigPath, options.crdsDir);
  return applyNodes(nodes, { kubeconfigPath, timeoutMs: 60_000 });
}

async function waitUntil(component: RunningComponent, what: string, check: () => Promise<true | undefined>) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    // Alive is enough here: a process just spawned may not have exec'd its binary yet (its command
    // line is still node's on a loaded machine), and a pid cannot have been reused while we wait.
    if (!isRunning(component.pid)) throw new Error(`${component.name} exited while waiting for ${what}`);
    if (await check().catch(() => undefined)) return;
    await sleep(100);
  }
  throw new Error(`timed out after 60 s waiting for ${what}`);
}

/**
 * The state of stateDir when etcd, kube-apiserver and kwok run and the API server is ready, else
 * undefined. The bandwidth model is not part of health: `up --bandwidth` restarts it alone.
 */
export async function healthyState(stateDir: string): Promise<ControlPlaneState | undefined> {
  const state = readState(stateDir);
  const core = state?.components.filter((c) => (CORE_COMPONENTS as readonly string[]).includes(c.name)) ?? [];
  if (!state || core.length !== CORE_COMPONENTS.length || !core.every(isComponentRunning)) return undefined;
  const caFile = servingCaPath(join(stateDir, 'pki', 'serving'));
  const token = readFileSync(join(stateDir, 'pki', 'tokens.csv'), 'utf8').split(',')[0] ?? '';
  const ready = await apiGet(state.server, caFile, token, '/readyz').catch(() => undefined);
  return ready?.status === 200 ? state : undefined;
}

/** Starts the bandwidth model unless it runs, records it in state.json, and waits until it has started. */
async function ensureBandwidthModel(stateDir: string, detached: boolean, log: Log): Promise<void> {
  const state = readState(stateDir);
  if (!state) throw new Error(`no control plane state in ${stateDir}`);
  const others = state.components.filter((c) => c.name !== 'bandwidth-model');
  const current = state.components.find((c) => c.name === 'bandwidth-model');
  if (current && isComponentRunning(current)) return;
  const { binary, entry, args } = bandwidthModelCommand(state.kubeconfigPath);
  const logFile = join(stateDir, 'logs', 'bandwidth-model.log');
  writeFileSync(logFile, '');
  const pid = startProcess(binary, args, { logFile, detached });
  const component: RunningComponent = { name: 'bandwidth-model', binary, entry, log: logFile, pid };
  writeState(stateDir, { ...state, components: [...others, component] });
  const outcome = await poll(
    async () => {
      if (!isComponentRunning(component)) return 'exited';
      return readFileSync(logFile, 'utf8').includes('"msg":"started"') ? 'started' : undefined;
    },
    { timeoutMs: 30_000, describe: () => 'the bandwidth model did not start within 30 s' },
  ).catch((error: Error) => error);
  if (outcome !== 'started') {
    const why = outcome === 'exited' ? 'the bandwidth model exited' : outcome.message;
    throw new Error(`${why}\n${logTail(component)}`);
  }
  log(`drop: bandwidth model running (pid ${pid}, log ${logFile})`);
}

// `.drop/bin/kubectl` and `.drop/bin/helm` -> the pinned binaries, so `export PATH=$PWD/.drop/bin:$PATH`
// gives a kubectl that matches the API server and the Helm the charts are tested with.
function linkTools(stateDir: string): void {
  for (const [name, target] of [
    ['kubectl', kubectlPath()],
    ['helm', helmPath()],
  ] as const) {
    const link = join(stateDir, 'bin', name);
    rmSync(link, { force: true });
    symlinkSync(target, link);
  }
}

function handle(
  stateDir: string,
  state: ControlPlaneState,
  nodes: readonly string[],
  reused: boolean,
  stopOnExit?: () => void,
): ControlPlane {
  return {
    kubeconfigPath: state.kubeconfigPath,
    server: state.server,
    stateDir,
    kubectlPath: kubectlPath(),
    nodes,
    reused,
    ...(existsSync(join(stateDir, 'audit.log')) ? { auditLogPath: join(stateDir, 'audit.log') } : {}),
    async stop() {
      if (stopOnExit) process.removeListener('exit', stopOnExit);
      await stopComponents(stateDir);
    },
  };
}

function logTail(component: RunningComponent): string {
  const lines = existsSync(component.log)
    ? readFileSync(component.log, 'utf8').trimEnd().split('\n').slice(-15)
    : [];
  return `--- ${component.log} (last lines)\n${lines.join('\n')}`;
}

function withLogs(error: unknown, components: readonly RunningComponent[]): Error {
  const tails = components.map(logTail).join('\n');
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`control plane failed to start: ${message}\n${tails}`);
}
