import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { NODE_ENVIRONMENT, NODE_FLAGS, startFlags } from './runtime.ts';

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

describe("the standalone runner's Deployment starts Node with the runner's flags", () => {
  // The chart's template is held equal to config/ by test/integration/chart-render.test.ts.
  const deployment = parse(
    readFileSync(new URL('../../config/standalone/deployment.yaml', import.meta.url), 'utf8'),
  );

  it('is the image ENTRYPOINT with the flags startFlags gives the runner', () => {
    const [container] = deployment.spec.template.spec.containers;
    expect(container.env).toContainEqual({ name: 'FUNCTION', value: 'standalone' });
    expect(container.command).toEqual([
      '/nodejs/bin/node',
      ...startFlags('standalone'),
      '/app/entrypoint.cjs',
    ]);
    expect(startFlags('standalone')).not.toEqual(NODE_FLAGS);
  });

  it('leaves the functions on NODE_FLAGS: their cold start is what they are measured by', () => {
    for (const name of ['discover', 'pace', 'reconcile-image', 'reconcile-set'])
      expect(startFlags(name)).toEqual(NODE_FLAGS);
  });
});
