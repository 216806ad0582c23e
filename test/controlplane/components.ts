import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Credentials } from './credentials.ts';

/** Our kwok Stage files: node lifecycle and the pull-pod outcomes (see README.md, "Pull outcomes"). */
export const STAGES_DIR = new URL('./stages/', import.meta.url).pathname;
/** kwok's own options (its stages are in STAGES_DIR). */
export const KWOK_CONFIGURATION = new URL('./kwok.yaml', import.meta.url).pathname;

/** The annotation kwok selects the nodes it manages by. */
export const FAKE_NODE_ANNOTATION = { key: 'kwok.x-k8s.io/node', value: 'fake' } as const;

export interface Ports {
  readonly etcdClient: number;
  readonly etcdPeer: number;
  readonly apiserver: number;
  /** kube-controller-manager's /healthz (HTTPS, self-signed). */
  readonly controllerManager: number;
}

/**

 * The controllers a cloud provider implements: with no cloud they have nothing to do. node-ipam
 * would hand out pod CIDRs, which kwok already sets on each fake node (--cidr).
 */
export const CONTROLLERS_LEFT_OUT = [
  'cloud-node-lifecycle-controller',
  'node-route-controller',
  'service-lb-controller',
  'node-ipam-controller',
] as const;

/**
 * A single-member etcd on loopback. fsync is off: the tests throw the data away, and npm start's
 * sandbox (kept between runs) survives a clean stop, only a machine crash.
 */
export function etcdArgs(dataDir: string, ports: Ports): string[] {
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    '--name=drop',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=drop=${peer}`,
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ];
}

/**
 * kube-apiserver on 127.0.0.1 with RBAC, Pod Security and ServiceAccount admission on (all in the
 * default plugin set; named here so nobody drops them by accident).
 */
export function apiserverArgs(credentials: Credentials, ports: Ports, audit?: AuditFiles): string[] {
  const issuer = `https://127.0.0.1:${ports.apiserver}`;
  return [
    ...(audit ? auditArgs(audit) : []),
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    '--bind-address=127.0.0.1',
    // The self-signed serving cert is issued for the advertise address: 127.0.0.1 makes it valid
    // for the URL in the kubeconfig. A loopback advertise address is not allowed in the
    // `kubernetes` Endpoints, hence no endpoint reconciler (kwokctl does the same).
    '--advertise-address=127.0.0.1',
    '--endpoint-reconciler-type=none',
    `--secure-port=${ports.apiserver}`,
    `--cert-dir=${credentials.certDir}`,
    `--token-auth-file=${credentials.tokenFile}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NamespaceLifecycle,ServiceAccount,PodSecurity,NodeRestriction',
    // TaintNodesByCondition taints every new node node.kubernetes.io/not-ready:NoSchedule and leaves
    // removing it to kube-controller-manager's node lifecycle controller, which does not run here:
    // every fake node would stay tainted, and Drop skips nodes with untolerated NoSchedule taints.
    '--disable-admission-plugins=TaintNodesByCondition',
    // Privileged pods pass validation so that Pod Security admission is what rejects them.
    '--allow-privileged=true',
    `--service-account-issuer=${issuer}`,
    `--service-account-key-file=${credentials.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${credentials.serviceAccountKey}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    '--profiling=false',
    '--v=1',
  ];
}

/**
 * kube-controller-manager with every on-by-default controller but the cloud ones: the garbage
 * collector (ownerReferences, foreground deletion), namespace deletion, node lifecycle (NotReady,
 * `unreachable` taints, eviction), ServiceAccounts and their tokens, pod GC, and the workload
 * controllers. Each controller acts as its own ServiceAccount in kube-system, as kubeadm runs it.
 * One instance, so no leader election: a restart would otherwise wait out the old lease (15 s).
 */
export function controllerManagerArgs(
  kubeconfigPath: string,
  credentials: Credentials,
  caFile: string,
  ports: Ports,
  stateDir: string,
): string[] {
  return [
    `--kubeconfig=${kubeconfigPath}`,
    `--controllers=*,${CONTROLLERS_LEFT_OUT.map((name) => `-${name}`).join(',')}`,
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${credentials.serviceAccountKey}`,
    `--root-ca-file=${caFile}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${ports.controllerManager}`,
    // Its default is under /usr/libexec, which it would create on this machine.
    `--flex-volume-plugin-dir=${join(stateDir, 'flexvolume')}`,
    '--profiling=false',
    '--v=1',
  ];
}

/** Where the API server's audit policy and log go (benchmarks count requests there). */
export interface AuditFiles {
  readonly policy: string;
  readonly log: string;
}

/**
 * One JSON line per request, written when it completes (a watch when it ends): every request is
 * counted once, at the Metadata level (who, what, answer code; no bodies). Left out: what only
 * the fake kubelets send — node Lease renewals (a thousand nodes renew 100 a second) and pod
 * status — which Drop never writes, so that the log costs the API server less and fills slower.
 */
export const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
  - level: None
    namespaces: [kube-node-lease]
    resources: [{group: coordination.k8s.io, resources: [leases]}]
  - level: None
    resources: [{group: "", resources: [pods/status, nodes/status]}]
  - level: Metadata
`;

function auditArgs(audit: AuditFiles): string[] {
  return [
    `--audit-policy-file=${audit.policy}`,
    `--audit-log-path=${audit.log}`,
    '--audit-log-format=json',
    // One file for a whole benchmark run, however long: a rotated-away part would be uncounted.
    // 0 is not "never": the log rotates at its default 100 MB, which a 1,000-node run passes in
    // minutes. A terabyte is never.
    '--audit-log-maxsize=1048576',
    '--audit-log-mode=batch',
    '--audit-log-batch-max-wait=1s',
    // A full buffer drops events: at a thousand nodes kwok alone sends hundreds a second.
    '--audit-log-batch-buffer-size=1000000',
    '--audit-log-batch-max-size=5000',
  ];
}

/** kwok out of cluster, managing only nodes annotated as fake, driven by our Stage files. */
export function kwokArgs(kubeconfigPath: string): string[] {
  const stages = readdirSync(STAGES_DIR)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => `--config=${join(STAGES_DIR, file)}`);
  return [
    `--kubeconfig=${kubeconfigPath}`,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${FAKE_NODE_ANNOTATION.key}=${FAKE_NODE_ANNOTATION.value}`,
    '--cidr=10.244.0.0/16',
    '--node-ip=10.0.0.1',
    '--node-lease-duration-seconds=40',
    `--config=${KWOK_CONFIGURATION}`,
    ...(process.env.KWOK_SERVER_ADDRESS ? [`--server-address=${process.env.KWOK_SERVER_ADDRESS}`] : []),
    ...stages,
  ];
}

/**
 * `cli.ts bandwidth` as one node process (not the `tsx` wrapper, which would fork a second one that
 * outlives a SIGKILL of the first): the bandwidth model, for `up --bandwidth`.
 */
export function bandwidthModelCommand(kubeconfigPath: string): {
  readonly binary: string;
  readonly entry: string;
  readonly args: string[];
} {
  const entry = new URL('./cli.ts', import.meta.url).pathname;
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return {
    binary: process.execPath,
    entry,
    args: ['--import', loader, entry, 'bandwidth', `--kubeconfig=${kubeconfigPath}`],
  };
}
