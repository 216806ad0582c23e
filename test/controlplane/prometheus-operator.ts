// The ServiceMonitor CRD of prometheus-operator, taken from the pinned Go module (build/prometheus-
// operator/go.mod) the way the Knative CRDs are (knative.ts), so that `kubectl apply --dry-run=server`
// checks charts/drop's ServiceMonitor against the real schema. Only the CRD: no operator runs.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { downloadModule, type Log } from './knative.ts';
import { runKubectl } from './kubectl.ts';
import { BUILD_DIR, cacheRoot } from './pins.ts';

const MODULE = 'github.com/prometheus-operator/prometheus-operator';
const MODULE_DIR = join(BUILD_DIR, 'prometheus-operator');
const FILE = 'example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml';
const OUTPUT = 'servicemonitors.yaml';

/** Where the CRD for the current pin lives (a change of the pin gives a new directory). */
export function serviceMonitorCrdDir(): string {
  const hash = createHash('sha256')
    .update(readFileSync(join(MODULE_DIR, 'go.mod')))
    .update(readFileSync(join(MODULE_DIR, 'go.sum')))
    .digest('hex')
    .slice(0, 16);
  return join(cacheRoot(), 'prometheus-operator-crds', hash);
}

/** Copies the CRD out of the pinned module (module proxy and go.sum only) into the cache, once. */
export async function ensureServiceMonitorCrd(log: Log = (line) => console.error(line)): Promise<string> {
  const dir = serviceMonitorCrdDir();
  if (existsSync(join(dir, OUTPUT))) return join(dir, OUTPUT);
  log(`drop: extracting the ServiceMonitor CRD from the pinned ${MODULE} into ${dir}`);
  const tmp = `${dir}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  mkdirSync(join(dir, '..'), { recursive: true });
  try {
    copyFileSync(join(await downloadModule(MODULE, MODULE_DIR), FILE), join(tmp, OUTPUT));
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return join(dir, OUTPUT);
}

/** Installs the ServiceMonitor CRD into the cluster and waits until it is served. */
export async function installServiceMonitorCrd(kubeconfigPath: string, log?: Log): Promise<void> {
  const file = await ensureServiceMonitorCrd(log);
  await runKubectl(kubeconfigPath, ['apply', '--server-side', '--force-conflicts', '-f', file]);
  await runKubectl(kubeconfigPath, ['wait', '--for=condition=Established', '--timeout=60s', '-f', file]);
}
