import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NODE_ENVIRONMENT, NODE_FLAGS } from './runtime.ts';

const containerfile = readFileSync(new URL('../../Containerfile', import.meta.url), 'utf8');

/** The exec-form arrays of the Containerfile's instructions named `instruction`. */
function execForms(instruction: 'RUN' | 'ENTRYPOINT'): string[][] {
  return [...containerfile.matchAll(new RegExp(`^${instruction} (\\[.*\\])$`, 'gm'))].map(
    (match) => JSON.parse(match[1]!) as string[],
  );
}

describe('the image starts Node as lib/entrypoint/runtime.ts says', () => {
  it('runs every function with the flags', () => {
    expect(execForms('ENTRYPOINT')).toEqual([['/nodejs/bin/node', ...NODE_FLAGS, '/app/entrypoint.cjs']]);
  });

  it('writes the code cache with the same flags, so V8 accepts it at run time', () => {
    const cacheRuns = execForms('RUN').filter((args) => args.includes('--write-code-cache'));
    expect(cacheRuns).toEqual([
      ['/nodejs/bin/node', ...NODE_FLAGS, '/app/entrypoint.cjs', '--write-code-cache'],
    ]);
  });

  it('sets the environment', () => {
    for (const [name, value] of Object.entries(NODE_ENVIRONMENT))
      expect(containerfile).toMatch(new RegExp(`^ENV ${name}=${value}$`, 'm'));
  });
});
