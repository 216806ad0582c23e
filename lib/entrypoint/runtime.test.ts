import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  NODE_ENVIRONMENT,
  NODE_FLAGS,
  RUNNER_SERVING_NODE_FLAGS,
  SERVING_NODE_FLAGS,
  startFlags,
} from './runtime.ts';

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

describe('the serving flags, set once a function has answered', () => {
  /** servingFlags under `env` in a fresh Node process, which then allocates through many collections. */
  function serveIn(
    env: Record<string, string>,
    runner?: { readonly startFlags: readonly string[]; readonly defaults: readonly string[] },
  ): { status: number | null; stdout: string; stderr: string } {
    const runtime = new URL('./runtime.ts', import.meta.url).href;
    const script = `
      import { servingFlags } from ${JSON.stringify(runtime)};
      const result = servingFlags(${JSON.stringify(env)}${runner ? `, ${JSON.stringify(runner.defaults)}` : ''});
      let kept = [];
      for (let i = 0; i < 3e6; i++) {
        kept.push({ i, text: 'x' + i });
        if (kept.length > 200000) kept = kept.slice(100000);
      }
      process.stdout.write(JSON.stringify(result));`;
    const flags = runner?.startFlags ?? [];
    const child = spawnSync(
      process.execPath,
      [...flags, '--import', 'tsx', '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
      },
    );
    return { status: child.status, stdout: child.stdout, stderr: child.stderr };
  }

  it('are the defaults unless DROP_SERVING_NODE_FLAGS says otherwise', () => {
    const run = serveIn({});
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ applied: SERVING_NODE_FLAGS, refused: [] });
  });

  it("refuse the collector's thread flags, which V8 takes only at start (set later, it aborts)", () => {
    const run = serveIn({
      DROP_SERVING_NODE_FLAGS: '--single-threaded-gc --heap-growing-percent=20 --no-concurrent-marking',
    });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      applied: ['--heap-growing-percent=20'],
      refused: ['--single-threaded-gc', '--no-concurrent-marking'],
    });
  });

  it("turn the runner's --optimize-for-size off once it serves, unless DROP_SERVING_NODE_FLAGS says otherwise", () => {
    const runner = { startFlags: startFlags('standalone'), defaults: RUNNER_SERVING_NODE_FLAGS };
    expect(runner.startFlags).toContain('--optimize-for-size');
    const shipped = serveIn({}, runner);
    expect(shipped.status, shipped.stderr).toBe(0);
    expect(JSON.parse(shipped.stdout)).toEqual({
      applied: ['--no-optimize-for-size', ...SERVING_NODE_FLAGS],
      refused: [],
    });
    const none = serveIn({ DROP_SERVING_NODE_FLAGS: 'none' }, runner);
    expect(none.status, none.stderr).toBe(0);
    expect(JSON.parse(none.stdout)).toEqual({ applied: [], refused: [] });
  });
});
