import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { EventSource } from '../../standalone/sources.ts';
import { runKubectl } from './kubectl.ts';
import { binaryPath } from './pins.ts';
import { freePorts, sleep } from './processes.ts';

export interface WatchedResource {
  /** `v1`, `drop.corewire.io/v1alpha1`, … */
  readonly apiVersion: string;
  /** Either the kind or the plural resource name; discovery finds the other. */
  readonly kind?: string;
  readonly resource?: string;
  /** A label selector, e.g. `app.kubernetes.io/managed-by=drop`. */
  readonly selector?: string;
}

export interface ApiServerSourceOptions {
  readonly kubeconfigPath: string;
  readonly resources: readonly WatchedResource[];
  /** Where the adapter POSTs CloudEvents (binary mode). */
  readonly sink: string;
  /** `Resource` (the object is the data) or `Reference` ({kind, namespace, name, apiVersion}). */
  readonly mode: 'Resource' | 'Reference';
  /** Namespaces to watch for namespaced resources; omitted = all namespaces. */
  readonly namespaces?: readonly string[];
  /** `spec.filters` as the ApiServerSource controller passes them on: evaluated by the adapter. */
  readonly filters?: readonly unknown[];
  /** The adapter's NAME (it shows in its logs only); default a random `drop-test-…`. */
  readonly name?: string;
  readonly readyTimeoutMs?: number;
}

export interface ApiServerSource {
  readonly pid: number;
  /** The adapter's recent log lines, for assertions and failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

interface ResolvedResource {
  readonly gvr: { readonly Group: string; readonly Version: string; readonly Resource: string };
  readonly namespaced: boolean;
}

/** The adapter options that run one of config/'s ApiServerSources (as read by the standalone runner). */
export function optionsOfSource(
  source: EventSource,
  kubeconfigPath: string,
  sink: string,
): ApiServerSourceOptions {
  return {
    kubeconfigPath,
    sink,
    mode: source.mode,
    resources: source.resources.map((r) => ({
      apiVersion: r.apiVersion,
      kind: r.kind,
      ...(r.selector ? { selector: r.selector } : {}),
    })),
    namespaces: [source.namespace],
    filters: source.filters,
  };
}

// One adapter starts at a time in this process, so that the watch-list counter that tells when an
// adapter is ready cannot be moved by another adapter of ours starting at the same moment.
let starting: Promise<unknown> = Promise.resolve();

/**
 * Runs the real Knative ApiServerSource receive adapter (knative.dev/eventing v0.49) against the
 * cluster, configured through env exactly as the ApiServerSource controller configures its
 * Deployment, and resolves once every watch it opens is established.
 *
 * Readiness: the adapter sends nothing for objects that exist when its watch starts and logs
 * nothing when a watch is up. Its reflectors use streaming watch-list (client-go 0.35), and the API
 * server counts a watch-list in apiserver_watch_list_duration_seconds once it has sent the initial
 * state: from then on every change reaches the adapter. So we wait until that counter has risen by
 * one per reflector (one per namespace for a namespaced resource, else one).
 */
export function startApiServerSource(options: ApiServerSourceOptions): Promise<ApiServerSource> {
  const result = starting.then(() => launchAdapter(options));
  starting = result.catch(() => undefined);
  return result;
}

async function launchAdapter(options: ApiServerSourceOptions): Promise<ApiServerSource> {
  const resolved = await Promise.all(
    options.resources.map((r) => resolveResource(options.kubeconfigPath, r)),
  );
  const sourceConfig = {
    namespaces: options.namespaces ?? [],
    allNamespaces: options.namespaces === undefined,
    resources: resolved.map((r, i) => ({ gvr: r.gvr, selector: options.resources[i]?.selector ?? '' })),
    mode: options.mode,
    ...(options.filters?.length ? { filters: options.filters } : {}),
  };
  const expected = expectedWatchLists(resolved, options.namespaces);
  const baseline = await watchListCounts(options.kubeconfigPath);
  const [profilingPort] = await freePorts(1);
  const child = spawn(binaryPath('apiserver_receive_adapter'), [], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      KUBECONFIG: options.kubeconfigPath,
      K_SINK: options.sink,
      K_SINK_TIMEOUT: '10',
      K_SOURCE_CONFIG: JSON.stringify(sourceConfig),
      NAME: options.name ?? `drop-test-${randomBytes(4).toString('hex')}`,
      NAMESPACE: options.namespaces?.[0] ?? 'default',
      // knative.dev/pkg/system.Namespace() panics when this is unset.
      SYSTEM_NAMESPACE: 'knative-eventing',
      METRICS_DOMAIN: 'knative.dev/eventing',
      K_OBSERVABILITY_CONFIG: '{}',
      // The health port (8080) is hard-coded and its bind failure ignored; pprof's port is not.
      PROFILING_PORT: String(profilingPort),
    },
  });
  const output = captureOutput(child);
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const stop = async () => {
    process.removeListener('exit', kill);
    await stopChild(child);
  };
  try {
    await waitForWatches(options, child, baseline, expected);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- adapter log (last lines)\n${output.text()}`);
  }
  return { pid: child.pid ?? 0, logs: output.text, stop };
}

async function waitForWatches(
  options: ApiServerSourceOptions,
  child: ChildProcess,
  baseline: ReadonlyMap<string, number>,
  expected: ReadonlyMap<string, number>,
): Promise<void> {
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  let missing = [...expected.keys()];
  while (missing.length > 0) {
    if (child.exitCode !== null) throw new Error(`the ApiServerSource adapter exited with ${child.exitCode}`);
    if (Date.now() > deadline) {
      throw new Error(
        `the ApiServerSource adapter did not establish its watches on ${missing.join(', ')} in time`,
      );
    }
    await sleep(50);
    const now = await watchListCounts(options.kubeconfigPath);
    missing = [...expected]
      .filter(([key, n]) => (now.get(key) ?? 0) - (baseline.get(key) ?? 0) < n)
      .map(([key]) => key);
  }
}

/** The watch-lists the adapter opens, keyed like the metric's labels: group/version/resource/scope. */
function expectedWatchLists(
  resolved: readonly ResolvedResource[],
  namespaces?: readonly string[],
): Map<string, number> {
  const expected = new Map<string, number>();
  for (const { gvr, namespaced } of resolved) {
    const perNamespace = namespaced && namespaces !== undefined;
    const key = `${gvr.Group}/${gvr.Version}/${gvr.Resource}/${perNamespace ? 'namespace' : 'cluster'}`;
    expected.set(key, (expected.get(key) ?? 0) + (perNamespace ? (namespaces?.length ?? 0) : 1));
  }
  return expected;
}

async function watchListCounts(kubeconfigPath: string): Promise<Map<string, number>> {
  const { stdout } = await runKubectl(kubeconfigPath, ['get', '--raw', '/metrics']);
  const counts = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const match = line.match(/^apiserver_watch_list_duration_seconds_count\{(.*)\} (\S+)$/);
    if (!match?.[1]) continue;
    const labels = new Map([...match[1].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const key = ['group', 'version', 'resource', 'scope'].map((k) => labels.get(k) ?? '').join('/');
    counts.set(key, Number(match[2]));
  }
  return counts;
}

// The adapter's output must be drained (it blocks on a full pipe); the last lines are kept for
// failure messages.
function captureOutput(child: ChildProcess) {
  const lines: string[] = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      lines.push(line);
      if (lines.length > 200) lines.shift();
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return { text: () => lines.slice(-60).join('\n') };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** The adapter wants a GroupVersionResource; discovery gives the plural name and the scope. */
async function resolveResource(kubeconfigPath: string, watched: WatchedResource): Promise<ResolvedResource> {
  const [group, version] = watched.apiVersion.includes('/')
    ? watched.apiVersion.split('/')
    : ['', watched.apiVersion];
  if (!version) throw new Error(`bad apiVersion ${watched.apiVersion}`);
  const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const { stdout } = await runKubectl(kubeconfigPath, ['get', '--raw', path]);
  const list = JSON.parse(stdout) as { resources: { name: string; kind: string; namespaced: boolean }[] };
  const found = list.resources.find(
    (r) =>
      !r.name.includes('/') && (watched.resource ? r.name === watched.resource : r.kind === watched.kind),
  );
  if (!found)
    throw new Error(
      `the API server does not serve ${watched.kind ?? watched.resource} in ${watched.apiVersion}`,
    );
  return {
    gvr: { Group: group ?? '', Version: version, Resource: found.name },
    namespaced: found.namespaced,
  };
}
