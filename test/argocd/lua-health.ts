// Argo CD's Lua VM (gopher-lua), built from the Go module proxy into ~/.cache/drop the way the
// control plane is (test/controlplane/build.ts), to run Drop's Argo CD health checks
// (charts/drop/files/argocd/) on real objects: lua-health/main.go says how it mirrors Argo CD.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildOne, type Log } from '../controlplane/build.ts';
import { cacheRoot } from '../controlplane/pins.ts';

const MODULE_DIR = new URL('./lua-health/', import.meta.url).pathname;
/** The health checks Drop ships, one file per argocd-cm key. */
export const CHECKS_DIR = new URL('../../charts/drop/files/argocd/', import.meta.url).pathname;
const NAME = 'drop-lua-health';

export interface Health {
  readonly status: 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';
  readonly message: string;
}

/** The runner's path, built first if the pins or its source changed (a hash names the folder). */
export async function ensureLuaHealth(log: Log = (line) => console.error(line)): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'main.go'])
    hash.update(file).update(readFileSync(join(MODULE_DIR, file)));
  const dir = join(dirname(cacheRoot()), 'tools', hash.digest('hex').slice(0, 16), 'bin');
  const binary = join(dir, NAME);
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  log(`drop: building ${NAME} (github.com/yuin/gopher-lua) into ${dir}`);
  await buildOne(
    { name: NAME, pkg: '.', version: 'gopher-lua', moduleDir: MODULE_DIR, ldflags: '-s -w' },
    dir,
    log,
  );
  return binary;
}

/** Runs the health check of `kind` (charts/drop/files/argocd/drop.corewire.io_<kind>.lua) on an object. */
export function argoHealth(binary: string, kind: string, object: unknown): Promise<Health> {
  return runHealthScript(binary, join(CHECKS_DIR, `drop.corewire.io_${kind}.lua`), object);
}

/** Runs a Lua health check script on an object, as Argo CD would. */
export function runHealthScript(binary: string, script: string, object: unknown): Promise<Health> {
  return new Promise((resolve, reject) => {
    const child = execFile(binary, [script], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${script}: ${stderr.trim() || error.message}`));
      else resolve(JSON.parse(stdout) as Health);
    });
    child.stdin?.end(JSON.stringify(object));
  });
}
