import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { constants, Script } from 'node:vm';

/** Whether V8 compiled the bundle from its code cache: `rejected` means another Node build or flags wrote it. */
export type CacheUse = 'accepted' | 'rejected' | 'absent';

export interface RunningBundle {
  readonly script: Script;
  readonly cache: CacheUse;
}

/**
 * Runs a CommonJS bundle as require() would, but compiled from the V8 code cache beside it when
 * that matches. Node 20 keeps no compile cache of its own (module.enableCompileCache is Node 22),
 * and parsing and compiling the ~1 MB bundle is the largest part of a cold start; with the cache
 * V8 skips both, also for the functions the build's training run called (see train.ts).
 */
export function runBundle(path: string, cachePath: string | undefined): RunningBundle {
  const cachedData = cachePath && existsSync(cachePath) ? readFileSync(cachePath) : undefined;
  const script = new Script(Module.wrap(readFileSync(path, 'utf8')), {
    filename: path,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const cache: CacheUse = !cachedData ? 'absent' : script.cachedDataRejected ? 'rejected' : 'accepted';
  const module = { exports: {} };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(module.exports, module.exports, createRequire(path), module, path, dirname(path));
  return { script, cache };
}

/** Writes the code V8 has compiled for the script so far (atomically: a reader never sees half a cache). */
export function saveCodeCache(script: Script, cachePath: string): number {
  const data = script.createCachedData();
  writeFileSync(`${cachePath}.tmp`, data);
  renameSync(`${cachePath}.tmp`, cachePath);
  return data.length;
}
