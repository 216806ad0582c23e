// The container's entrypoint: `FUNCTION=pace node entrypoint.cjs` (or `node entrypoint.cjs pace`)
// runs dist/functions/pace.cjs; `node entrypoint.cjs --write-code-cache` writes every bundle's
// V8 code cache (the build does this, and the runtime image again with its own Node).
import { dirname, resolve } from 'node:path';
import { createLogger } from '../log.ts';
import { runBundle } from './code-cache.ts';
import { bundledFunctions, bundleOf, selectFunction } from './functions.ts';
import { NODE_FLAGS, startFlags, TRAINING_ENV } from './runtime.ts';

const log = createLogger({ component: 'entrypoint' });

async function main(): Promise<void> {
  const entrypoint = resolve(process.argv[1] ?? '.');
  const dir = dirname(entrypoint);
  const args = process.argv.slice(2);
  // Training is loaded only to train: its child_process cost every cold start 4 ms of CPU.
  if (args.includes('--write-code-cache')) {
    const { writeCodeCaches } = await import('./train.ts');
    await writeCodeCaches(
      entrypoint,
      bundledFunctions(dir).map((name) => bundleOf(dir, name)),
    );
    return;
  }
  const selected = selectFunction(process.env, args, bundledFunctions(dir));
  if (!selected.ok) {
    log.error('no function to run', { detail: selected.message });
    process.exit(2);
  }
  const bundle = bundleOf(dir, selected.name);
  if (process.env[TRAINING_ENV]) return (await import('./train.ts')).trainAndSave(bundle);
  const { cache } = runBundle(bundle.path, bundle.cachePath);
  // Still correct without it, only slower to start: say so once instead of failing.
  if (cache !== 'accepted')
    log.warn('starting without the V8 code cache', {
      function: selected.name,
      cache,
      detail: `the cache is written by this Node (${['node', ...NODE_FLAGS, 'entrypoint.cjs', '--write-code-cache'].join(' ')}) for a start as: ${['node', ...startFlags(selected.name), 'entrypoint.cjs'].join(' ')}`,
    });
}

main().catch((error: unknown) => {
  const training = process.argv.includes('--write-code-cache');
  log.error(training ? 'writing the code caches failed' : 'function failed to start', {
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  process.exit(1);
});
