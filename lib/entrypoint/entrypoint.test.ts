import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBundle } from './code-cache.ts';
import { bundledFunctions, bundleOf, selectFunction } from './functions.ts';
import { NODE_FLAGS, SERVING_NODE_FLAGS, TRAINING_ENV } from './runtime.ts';

describe('selectFunction', () => {
  const available = ['pace', 'reconcile-image'];

  it('runs the function named by $FUNCTION, before any argument', () => {
    expect(selectFunction({ FUNCTION: 'pace' }, ['reconcile-image'], available)).toEqual({
      ok: true,
      name: 'pace',
    });
  });

  it('takes the first argument when $FUNCTION is unset', () => {
    expect(selectFunction({}, ['reconcile-image'], available)).toEqual({ ok: true, name: 'reconcile-image' });
  });

  it('names the bundled functions when the name is unknown or missing', () => {
    expect(selectFunction({ FUNCTION: 'paec' }, [], available)).toEqual({
      ok: false,
      message: 'unknown function "paec"; bundled: pace, reconcile-image',
    });
    expect(selectFunction({}, [], available)).toEqual({
      ok: false,
      message: 'set FUNCTION (or pass an argument) to one of: pace, reconcile-image',
    });
  });
});

describe('bundles and their code cache', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'drop-entrypoint-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const writeBundle = (name: string) => {
    const bundle = bundleOf(dir, name);
    // A CommonJS bundle: require, module and __filename come from the wrapper, as with require().
    writeFileSync(
      bundle.path,
      `const { basename } = require('node:path');
       module.exports.name = basename(__filename);
       globalThis.dropEntrypointTest = (globalThis.dropEntrypointTest ?? 0) + 1;`,
    );
    return bundle;
  };
  const runs = () => (globalThis as { dropEntrypointTest?: number }).dropEntrypointTest ?? 0;

  it('lists every bundle beside the entrypoint except the entrypoint itself', () => {
    for (const name of ['pace', 'entrypoint', 'discover']) writeBundle(name);
    writeFileSync(join(dir, 'pace.cjs.v8cache'), '');
    expect(bundledFunctions(dir)).toEqual(['discover', 'pace']);
  });

  it('runs a bundle compiled from the cache an earlier process wrote', () => {
    const bundle = writeBundle('pace');
    // In one process V8 reuses its own compilation of the same source and never reads the cache,
    // so the cache is written and read by two separate runs, as in the image.
    expect(runInChild(bundle.path, bundle.cachePath, 'write')).toBe('absent');
    expect(runInChild(bundle.path, bundle.cachePath, 'read')).toBe('accepted');
  });

  it("accepts a cache only under the flags it was written with (why the image writes it with Drop's)", () => {
    const bundle = writeBundle('pace');
    expect(runInChild(bundle.path, bundle.cachePath, 'write', NODE_FLAGS)).toBe('absent');
    expect(runInChild(bundle.path, bundle.cachePath, 'read', NODE_FLAGS)).toBe('accepted');
    expect(runInChild(bundle.path, bundle.cachePath, 'read', [...NODE_FLAGS, ...SERVING_NODE_FLAGS])).toBe(
      'rejected',
    );
  });

  it('keeps the serving flags out of a training run, whose cache a function starts with', () => {
    const bundle = writeBundle('pace');
    runInChild(bundle.path, bundle.cachePath, 'write', NODE_FLAGS, { [TRAINING_ENV]: '1' });
    expect(runInChild(bundle.path, bundle.cachePath, 'read', NODE_FLAGS)).toBe('accepted');
    // Set once serving, the flags change the hash a cache written afterwards carries.
    runInChild(bundle.path, bundle.cachePath, 'write', NODE_FLAGS, {});
    expect(runInChild(bundle.path, bundle.cachePath, 'read', NODE_FLAGS)).toBe('rejected');
  });

  it('runs a bundle without a cache that does not match it, and says so', () => {
    const bundle = writeBundle('pace');
    writeFileSync(bundle.cachePath, 'not a V8 code cache');
    const before = runs();
    expect(runBundle(bundle.path, bundle.cachePath).cache).toBe('rejected');
    expect(runs() - before).toBe(1);
  });
});

/**
 * Runs the bundle through runBundle in a fresh Node process; returns how its cache was used. With
 * `serving`, the process applies the serving flags under that environment before writing, as a
 * function that has answered a request would.
 */
function runInChild(
  path: string,
  cachePath: string,
  mode: 'write' | 'read',
  flags: readonly string[] = [],
  serving?: Record<string, string>,
): string {
  const codeCache = new URL('./code-cache.ts', import.meta.url).href;
  const runtime = new URL('./runtime.ts', import.meta.url).href;
  const script = `
    import { runBundle, saveCodeCache } from ${JSON.stringify(codeCache)};
    import { servingFlags } from ${JSON.stringify(runtime)};
    const run = runBundle(${JSON.stringify(path)}, ${JSON.stringify(cachePath)});
    if (${JSON.stringify(serving !== undefined)}) servingFlags(${JSON.stringify(serving ?? {})});
    if (${JSON.stringify(mode)} === 'write') saveCodeCache(run.script, ${JSON.stringify(cachePath)});
    process.stdout.write(run.cache);`;
  const child = spawnSync(
    process.execPath,
    [...flags, '--import', 'tsx', '--input-type=module', '-e', script],
    {
      encoding: 'utf8',
    },
  );
  if (child.status !== 0) throw new Error(child.stderr);
  return child.stdout;
}
