import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type BinaryName, type BinaryTarget, binaryTargets, binDir } from './pins.ts';

export type Log = (line: string) => void;

/** The pinned binaries (all, or the ones named) that are not in the cache yet. */
export function missingBinaries(names?: readonly BinaryName[]): readonly BinaryTarget[] {
  const dir = binDir();
  return binaryTargets().filter((t) => (!names || names.includes(t.name)) && !existsSync(join(dir, t.name)));
}

/**
 * Builds every pinned binary (or only the ones named) that is missing from the cache and returns
 * the cache's bin directory. Binaries that are already there are reused as they are: the directory
 * name is a hash of the pins.
 */
export async function ensureBinaries(
  log: Log = (line) => console.error(line),
  names?: readonly BinaryName[],
): Promise<string> {
  const dir = binDir();
  const missing = missingBinaries(names);
  if (missing.length === 0) return dir;
  mkdirSync(dir, { recursive: true });
  log(
    `drop: building ${missing.map((t) => t.name).join(', ')} from pinned Go modules into ${dir}\n` +
      'drop: this is a one-time step (about 5 minutes on 2 cores with a cold Go cache); later runs reuse the binaries',
  );
  const started = Date.now();
  for (const [index, target] of missing.entries()) {
    log(`drop: [${index + 1}/${missing.length}] ${target.name} (${target.pkg} ${target.version})`);
    await buildOne(target, dir, log);
  }
  log(`drop: built ${missing.length} binaries in ${seconds(Date.now() - started)}`);
  return dir;
}

/** A Go binary to build from a pinned module: the control plane's, or a test tool's (test/argocd/). */
export type GoBinary = Omit<BinaryTarget, 'name'> & { readonly name: string };

// Build to a temporary name, then rename: a build that is interrupted never leaves a binary that
// looks complete, and two builders racing (a user's cluster:up and the test suite) both end well.
export async function buildOne(target: GoBinary, dir: string, log: Log): Promise<void> {
  const out = join(dir, target.name);
  const tmp = `${out}.tmp-${process.pid}`;
  const args = ['build', '-v', '-trimpath', '-ldflags', target.ldflags, '-o', tmp, target.pkg];
  const started = Date.now();
  const child = spawn('go', args, { cwd: target.moduleDir, stdio: ['ignore', 'ignore', 'pipe'] });
  const tail: string[] = [];
  let packages = 0;
  const ticker = setInterval(() => {
    log(`drop:       ${target.name}: ${packages} packages compiled, ${seconds(Date.now() - started)}`);
  }, 15_000);
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) {
      packages += 1;
      tail.push(line);
      if (tail.length > 40) tail.shift();
    }
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', (error) =>
      reject(new Error(`could not run go (Go >= 1.26 must be on PATH): ${error.message}`)),
    );
    child.on('close', resolve);
  }).finally(() => clearInterval(ticker));
  if (code !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`go build ${target.pkg} failed (exit ${code}):\n${tail.join('\n')}`);
  }
  renameSync(tmp, out);
  log(`drop:       ${target.name} done in ${seconds(Date.now() - started)}`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
