import { BANDWIDTH_ANNOTATION } from './bandwidth-model.ts';
import { FAKE_NODE_ANNOTATION } from './components.ts';
import { runKubectl } from './kubectl.ts';

export const BUILD_ROLE_LABEL = 'node-role.kubernetes.io/build';
/** Every node created by createNodes carries this label with its prefix, to find or delete the set. */
export const NODE_SET_LABEL = 'drop.test/node-set';

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface FakeNodeSpec {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly taints?: readonly Taint[];
  /** Cordoned, as `kubectl cordon` leaves it. */
  readonly unschedulable?: boolean;
}

/**
 * A Node that kwok manages (the annotation) and keeps Ready. Unlike kwok's docs, no
 * `kwok.x-k8s.io/node=fake:NoSchedule` taint: Drop treats an untolerated NoSchedule taint as "not a
 * target", so only nodes a test taints on purpose carry one.
 */
export function fakeNode(spec: FakeNodeSpec): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels: {
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
        ...spec.labels,
      },
      annotations: { [FAKE_NODE_ANNOTATION.key]: FAKE_NODE_ANNOTATION.value, ...spec.annotations },
    },
    spec: {
      ...(spec.taints?.length ? { taints: spec.taints } : {}),
      ...(spec.unschedulable ? { unschedulable: true } : {}),
    },
  };
}

/**
 * The nodes `cluster:up` creates: node 1 a build node, node 2 a build node tainted
 * `node-role.kubernetes.io/build=true:NoSchedule`, node 3 cordoned; from node 4 on, odd nodes are
 * build nodes and even ones plain workers.
 */
export function defaultNodeSpecs(count: number, prefix = 'kwok-node'): FakeNodeSpec[] {
  return Array.from({ length: count }, (_, index) => {
    const n = index + 1;
    const name = `${prefix}-${n}`;
    const build = { [BUILD_ROLE_LABEL]: 'true', [NODE_SET_LABEL]: prefix };
    if (n === 2)
      return {
        name,
        labels: build,
        taints: [{ key: BUILD_ROLE_LABEL, value: 'true', effect: 'NoSchedule' }],
      };
    if (n === 3) return { name, labels: { [NODE_SET_LABEL]: prefix }, unschedulable: true };
    return { name, labels: n % 2 === 1 ? build : { [NODE_SET_LABEL]: prefix } };
  });
}

export interface CreateNodesOptions {
  readonly kubeconfigPath: string;
  /** Names are `<prefix>-1` … `<prefix>-<n>`; use a unique prefix per test. */
  readonly prefix?: string;
  /** Added to every node (e.g. the build role label). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly taints?: readonly Taint[];
  readonly unschedulable?: boolean;
  /**
   * Download bandwidth for the bandwidth model, bytes per second as a quantity (`10Mi`): the
   * annotation drop.test/bandwidth. Without it the model uses its default (100Mi).
   */
  readonly bandwidth?: string;
  /** Wait until kwok reports every node Ready (default true). */
  readonly waitReady?: boolean;
  readonly timeoutMs?: number;
}

/** Creates n plain fake nodes (schedulable, untainted unless asked) and returns their names. */
export async function createNodes(count: number, options: CreateNodesOptions): Promise<string[]> {
  const prefix = options.prefix ?? 'kwok-node';
  const specs = Array.from(
    { length: count },
    (_, index): FakeNodeSpec => ({
      name: `${prefix}-${index + 1}`,
      labels: { [NODE_SET_LABEL]: prefix, ...options.labels },
      ...(options.bandwidth ? { annotations: { [BANDWIDTH_ANNOTATION]: options.bandwidth } } : {}),
      ...(options.taints ? { taints: options.taints } : {}),
      ...(options.unschedulable ? { unschedulable: true } : {}),
    }),
  );
  return applyNodes(specs, options);
}

/** Creates the given nodes (skipping ones that exist) and, unless told not to, waits until they are Ready. */
export async function applyNodes(
  specs: readonly FakeNodeSpec[],
  options: { kubeconfigPath: string; waitReady?: boolean; timeoutMs?: number },
): Promise<string[]> {
  if (specs.length === 0) return [];
  const list = { apiVersion: 'v1', kind: 'List', items: specs.map(fakeNode) };
  // `create` is cheaper than `apply` for hundreds of nodes; existing nodes are left as they are.
  await runKubectl(options.kubeconfigPath, ['create', '-f', '-'], {
    input: JSON.stringify(list),
  }).catch((error: Error) => {
    if (!/AlreadyExists|already exists/.test(error.message)) throw error;
  });
  const names = specs.map((s) => s.name);
  if (options.waitReady !== false) await waitNodesReady(options.kubeconfigPath, names, options.timeoutMs);
  return names;
}

/**
 * Waits until every named node has condition Ready=True: one list of the nodes' Ready conditions
 * every half second. (`kubectl wait` over named nodes waits on each in turn, a request or two per
 * node: at a thousand nodes on a busy machine half a minute and more with every node Ready.)
 */
export async function waitNodesReady(
  kubeconfigPath: string,
  names: readonly string[],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const waiting = new Set(names);
  for (;;) {
    const { stdout } = await runKubectl(kubeconfigPath, ['get', 'nodes', '-o', `jsonpath=${READY_LINES}`]);
    for (const line of stdout.split('\n')) {
      const [name, ready] = line.trim().split(' ');
      if (name && ready === 'True') waiting.delete(name);
    }
    if (waiting.size === 0) return;
    if (Date.now() >= deadline) {
      const named = [...waiting].slice(0, 5).join(', ');
      const more = waiting.size > 5 ? ` and ${waiting.size - 5} more` : '';
      throw new Error(`nodes not Ready after ${timeoutMs} ms: ${named}${more}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Each node's name and the status of its Ready condition, a line each. */
const READY_LINES =
  '{range .items[*]}{.metadata.name}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}';

/** Deletes nodes by name; kube-controller-manager's pod GC then deletes the pods bound to them. */
export async function deleteNodes(kubeconfigPath: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await runKubectl(kubeconfigPath, ['delete', 'node', '--ignore-not-found', '--wait=false', ...names]);
}

/** Who holds a node's Lease while its heartbeat is stopped (kwok leaves a Lease it does not hold alone). */
export const STOPPED_HEARTBEAT_HOLDER = 'drop.test/stopped-heartbeat';

/**
 * Stops a fake node's heartbeat, as if its kubelet died: its Lease in kube-node-lease is taken over
 * for an hour by another holder. kwok then neither renews the Lease nor updates the node or its pods
 * (it only acts for nodes whose Lease it holds, v0.8.0 `NodeLeaseController.Held`), and
 * kube-controller-manager marks the node `Ready=Unknown` and taints it `node.kubernetes.io/unreachable`
 * once `--node-monitor-grace-period` (50 s) has passed.
 */
export async function stopHeartbeat(kubeconfigPath: string, node: string): Promise<void> {
  const spec = {
    holderIdentity: STOPPED_HEARTBEAT_HOLDER,
    leaseDurationSeconds: 3600,
    renewTime: new Date().toISOString().replace('Z', '000Z'),
  };
  await runKubectl(kubeconfigPath, [
    'patch',
    'lease',
    node,
    '-n',
    'kube-node-lease',
    '--type=merge',
    '-p',
    JSON.stringify({ spec }),
  ]);
}

/** Lets kwok heartbeat a node again: it creates a new Lease for a node whose Lease is gone. */
export async function resumeHeartbeat(kubeconfigPath: string, node: string): Promise<void> {
  await runKubectl(kubeconfigPath, ['delete', 'lease', node, '-n', 'kube-node-lease', '--ignore-not-found']);
}

/**
 * What a kubelet posts about the images it holds: `node.status.images` (one entry per image, the
 * names it is known by) with a fresh heartbeat on the Ready condition, as a status post carries.
 * kwok never writes the list (its status patches leave it as it is), so a test that needs one plays
 * that part of the kubelet here; `[]` takes the list away.
 */
export async function reportNodeImages(
  kubeconfigPath: string,
  node: string,
  images: readonly (readonly string[])[],
): Promise<void> {
  const patch = {
    status: {
      images: images.map((names) => ({ names, sizeBytes: 1_000_000 })),
      conditions: [{ type: 'Ready', lastHeartbeatTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
    },
  };
  await runKubectl(kubeconfigPath, [
    'patch',
    'node',
    node,
    '--subresource=status',
    '--type=strategic',
    '-p',
    JSON.stringify(patch),
  ]);
}
