import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE_OPTIONS, outsideAscii } from './build-functions.ts';

const dir = mkdtempSync(join(tmpdir(), 'drop-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bundles `source` (TypeScript, beside this repository's lib/) as the functions are bundled. */
async function bundle(source: string) {
  const result = await build({
    ...BUNDLE_OPTIONS,
    stdin: { contents: source, resolveDir: new URL('..', import.meta.url).pathname, loader: 'ts' },
    outfile: join(dir, 'out.cjs'),
    metafile: true,
  });
  return {
    path: join(dir, 'out.cjs'),
    inputs: Object.keys(result.metafile.inputs),
    warnings: result.warnings,
  };
}

describe('the function bundles', () => {
  it('are ASCII, so V8 holds their source one byte a character', async () => {
    // Drop's own regular expressions with µ and μ, which esbuild leaves as they are written.
    const built = await bundle(`
      import { parseDuration } from './lib/duration.ts';
      import { readPullMessage } from './lib/discovery/pull-events.ts';
      const pulled = 'Successfully pulled image "x:1" in 800\\u00b5s (800\\u00b5s including waiting)';
      console.log(JSON.stringify([parseDuration('300\\u00b5s'), parseDuration('300\\u03bcs'), readPullMessage('Pulled', pulled)]));
    `);
    expect(outsideAscii(readFileSync(built.path, 'utf8'))).toBeUndefined();
    const run = spawnSync(process.execPath, [built.path], { encoding: 'utf8' });
    expect(JSON.parse(run.stdout)).toEqual([0.3, 0.3, { kind: 'pulled', image: 'x:1', seconds: 0.0008 }]);
    const literal = await bundle('console.log(/(ms|\\u03bcs)/.test("1μs"), /μs/.source);');
    expect(outsideAscii(readFileSync(literal.path, 'utf8'))).toMatch(/outside ASCII at offset \d+ .*μs/);
  });

  it("leave out zod's translations and node-fetch, and KubeConfig still applies fetch options", async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443', insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: secret-token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
    );
    const built = await bundle(`
      import { z } from 'zod';
      import { loadKubeConfig } from './lib/kube/config.ts';
      void loadKubeConfig(${JSON.stringify(kubeconfig)}).applyToFetchOptions({}).then((opts) => {
        const parsed = z.object({ name: z.string() }).safeParse({ name: 1 });
        const auth = opts.headers.get('authorization');
        console.log(JSON.stringify({ auth, error: parsed.error.issues[0].message }));
      });
    `);
    expect(built.warnings).toEqual([]);
    expect(
      built.inputs.filter((i) =>
        /^node_modules\/(zod\/v4\/locales\/(?!en\.js)|node-fetch|tr46|whatwg-url)/.test(i),
      ),
    ).toEqual([]);
    const run = spawnSync(process.execPath, [built.path], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      auth: 'Bearer secret-token',
      error: 'Invalid input: expected string, received number',
    });
  });

  it('run socks-proxy-agent and the CloudEvents SDK only when they are used', async () => {
    const config = (name: string, cluster: string) => {
      const path = join(dir, name);
      writeFileSync(
        path,
        `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443', insecure-skip-tls-verify: true${cluster}}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
      );
      return path;
    };
    const direct = config('direct', '');
    const socks = config('socks', ', proxy-url: socks5://127.0.0.1:1080');
    const built = await bundle(`
      import { parseEvent } from './lib/controller/event.ts';
      import { pingEvent } from './lib/controller/source-events.ts';
      import { loadKubeConfig } from './lib/kube/config.ts';
      const use = process.argv[2] === 'use';
      void (async () => {
        const options: { agent?: object } = {};
        await loadKubeConfig(use ? ${JSON.stringify(socks)} : ${JSON.stringify(direct)}).applyToHTTPSOptions(options);
        const ping = pingEvent('ns', 'p', {});
        const parsed = use
          ? parseEvent(
              { 'content-type': 'application/cloudevents+json' },
              JSON.stringify({ specversion: '1.0', id: '1', source: '/s', type: 'dev.knative.sources.ping', data: {} }),
            )
          : parseEvent(ping.headers, ping.body);
        console.log(JSON.stringify({ agent: options.agent?.constructor.name, event: parsed.ok && parsed.event.type }));
      })();
    `);
    expect(built.warnings).toEqual([]);
    // Whether each module's body ran, from V8's own coverage of the bundle: esbuild wraps a
    // CommonJS module in a function named after its path.
    const run = (...args: string[]) => {
      const coverage = mkdtempSync(join(dir, 'coverage-'));
      const child = spawnSync(process.execPath, [built.path, ...args], {
        encoding: 'utf8',
        env: { ...process.env, NODE_V8_COVERAGE: coverage },
      });
      expect(child.stderr).toBe('');
      const scripts = readdirSync(coverage).flatMap(
        (file) => JSON.parse(readFileSync(join(coverage, file), 'utf8')).result as V8ScriptCoverage[],
      );
      const ran = (path: string) =>
        scripts
          .filter((script) => script.url.endsWith('/out.cjs'))
          .flatMap((script) => script.functions)
          .some((f) => f.functionName === path && (f.ranges[0]?.count ?? 0) > 0);
      return {
        output: JSON.parse(child.stdout),
        socks: ran('node_modules/socks-proxy-agent/dist/index.js'),
        sdk: ran('node_modules/cloudevents/dist/index.js'),
      };
    };
    expect(run()).toEqual({ output: { agent: 'Agent', event: 'ping' }, socks: false, sdk: false });
    expect(run('use')).toEqual({
      output: { agent: expect.stringMatching(/^SocksProxyAgent/), event: 'ping' },
      socks: true,
      sdk: true,
    });
  });
});

interface V8ScriptCoverage {
  readonly url: string;
  readonly functions: readonly {
    readonly functionName: string;
    readonly ranges: readonly { readonly count: number }[];
  }[];
}
