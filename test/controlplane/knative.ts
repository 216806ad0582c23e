// The Knative CRDs that config/ uses (Serving's Service, Eventing's ApiServerSource and
// PingSource), taken from the pinned Go modules so that `kubectl apply --dry-run=server` checks the
// deploy manifests against the real schemas. Only the CRDs: no Knative controller or webhook runs.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { runKubectl } from './kubectl.ts';
import { BUILD_DIR, cacheRoot, KNATIVE_DIR, readPins } from './pins.ts';

export type Log = (line: string) => void;

interface CrdSource {
  readonly module: 'knative.dev/eventing' | 'knative.dev/serving';
  /** The go.mod that pins the module's version. */
  readonly moduleDir: string;
  /** Path inside the module. */
  readonly file: string;
}

// Eventing's config/300-*.yaml in git are symlinks, which module zips do not keep: core/resources
// holds the files themselves.
const SOURCES: readonly CrdSource[] = [
  {
    module: 'knative.dev/eventing',
    moduleDir: BUILD_DIR,
    file: 'config/core/resources/apiserversource.yaml',
  },
  { module: 'knative.dev/eventing', moduleDir: BUILD_DIR, file: 'config/core/resources/pingsource.yaml' },
  { module: 'knative.dev/serving', moduleDir: KNATIVE_DIR, file: 'config/core/300-resources/service.yaml' },
];

/** Bumped when stripCrd changes, so that a cache written by older code is not reused. */
const FORMAT = 1;

interface Crd {
  metadata?: { name?: string };
  spec?: {
    versions?: { name: string; storage?: boolean }[];
    conversion?: unknown;
  };
}

/**
 * A CRD that works without Knative's webhook: only the storage version (PingSource also serves
 * v1beta2, which needs the conversion webhook) and no `spec.conversion` (it names the
 * eventing-webhook Service, which does not exist here, so every read would fail).
 */
export function stripCrd(crd: Crd): Crd {
  const versions = (crd.spec?.versions ?? []).filter((v) => v.storage);
  if (versions.length !== 1) throw new Error(`CRD ${crd.metadata?.name} has no single storage version`);
  const { conversion: _conversion, ...spec } = crd.spec ?? {};
  return { ...crd, spec: { ...spec, versions } };
}

/** Where the stripped CRDs for the current pins live (a change to any pin gives a new directory). */
export function knativeCrdsDir(): string {
  const pins = readPins();
  const hash = createHash('sha256')
    .update(`format ${FORMAT}\neventing ${pins.eventing}\n`)
    .update(readFileSync(join(KNATIVE_DIR, 'go.mod')))
    .update(readFileSync(join(KNATIVE_DIR, 'go.sum')))
    .digest('hex')
    .slice(0, 16);
  return join(cacheRoot(), 'knative-crds', hash);
}

/**
 * Extracts and strips the Knative CRDs from the pinned modules (`go mod download`, so the module
 * proxy and go.sum are the only sources) into the cache, once; returns the directory.
 */
export async function ensureKnativeCrds(log: Log = (line) => console.error(line)): Promise<string> {
  const dir = knativeCrdsDir();
  if (SOURCES.every((s) => existsSync(join(dir, outputName(s))))) return dir;
  const pins = readPins();
  log(
    `drop: extracting the Knative CRDs (eventing ${pins.eventing}, serving ${pins.serving}) from the pinned Go modules into ${dir}`,
  );
  const tmp = `${dir}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  try {
    const moduleDirs = new Map<string, string>();
    for (const source of SOURCES) {
      const key = `${source.moduleDir} ${source.module}`;
      if (!moduleDirs.has(key)) moduleDirs.set(key, await downloadModule(source.module, source.moduleDir));
      const text = readFileSync(join(moduleDirs.get(key) ?? '', source.file), 'utf8');
      writeFileSync(join(tmp, outputName(source)), stripAll(text, source.file));
    }
    // Rename into place: an interrupted extraction never leaves a directory that looks complete.
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, '..'), { recursive: true });
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** Installs the Knative CRDs into the cluster and waits until they are served. */
export async function installKnativeCrds(kubeconfigPath: string, log?: Log): Promise<void> {
  const dir = await ensureKnativeCrds(log);
  await runKubectl(kubeconfigPath, ['apply', '--server-side', '--force-conflicts', '-f', dir]);
  await runKubectl(kubeconfigPath, ['wait', '--for=condition=Established', '--timeout=60s', '-f', dir]);
}

function outputName(source: CrdSource): string {
  return `${source.module.split('/')[1]}-${source.file.split('/').pop()}`;
}

function stripAll(text: string, file: string): string {
  const docs = parseAllDocuments(text).filter((d) => d.contents !== null);
  if (docs.length === 0) throw new Error(`${file} holds no CRD`);
  const header = `# ${file}, stripped by test/controlplane/knative.ts (storage version only, no conversion webhook)\n`;
  return header + docs.map((d) => stringify(stripCrd(d.toJS() as Crd), { lineWidth: 0 })).join('---\n');
}

/** `go mod download -json <module>` in moduleDir: the version its go.mod requires, checked against its go.sum. */
export function downloadModule(module: string, moduleDir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'go',
      ['mod', 'download', '-json', module],
      { cwd: moduleDir, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        let info: { Dir?: string; Error?: string } = {};
        try {
          info = JSON.parse(stdout) as typeof info;
        } catch {
          // No JSON: go itself failed; the error below says why.
        }
        if (info.Dir && !info.Error) return resolve(info.Dir);
        reject(
          new Error(
            `go mod download ${module} in ${moduleDir} failed: ${info.Error ?? (stderr.trim() || error?.message)}`,
          ),
        );
      },
    );
  });
}
