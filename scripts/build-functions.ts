// Bundles every functions/<name>/main.ts into dist/functions/<name>.cjs, plus the container's
// entrypoint, then writes each bundle's V8 code cache (see lib/entrypoint/). Run: npm run build:functions
// (`-- --no-code-cache` skips the cache, for a build stage whose Node differs from the runtime's).
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { NODE_ENVIRONMENT, NODE_FLAGS } from '../lib/entrypoint/runtime.ts';

const ROOT = new URL('../', import.meta.url).pathname;
export const OUT_DIR = join(ROOT, 'dist', 'functions');
export const ENTRYPOINT = join(OUT_DIR, 'entrypoint.cjs');
export const STANDALONE = 'standalone';

/** Every function: a folder under functions/ with a main.ts, so a new one is bundled without edits. */
export function functionNames(root = ROOT): string[] {
  const dir = join(root, 'functions');
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, 'main.ts')))
    .sort();
}

/**
 * Marks the modules that `pure` names side-effect free, whatever their package says, when a file
 * `imports` names imports them by a relative path: esbuild then leaves out such a module when a
 * bundle uses none of its exports. Only those imports are resolved twice (once here, to learn the
 * path); the rest are left to esbuild.
 */
function sideEffectFree(
  name: string,
  imports: (importer: string) => boolean,
  pure: (path: string) => boolean,
): Plugin {
  return {
    name,
    setup(b) {
      b.onResolve({ filter: /^\./ }, async (args) => {
        if (args.pluginData?.resolving || !imports(args.importer)) return;
        const resolved = await b.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: { resolving: true },
        });
        return pure(resolved.path) ? { ...resolved, sideEffects: false } : undefined;
      });
    },
  };
}

/**
 * client-node's generated OpenAPI code (every API client and model) only declares classes and
 * sets their own static fields, but its package.json does not say so, so esbuild keeps all of it
 * (~550 KB) because config.js imports two helpers from gen/index.js. Marking it side-effect free
 * lets esbuild drop what KubeConfig never references.
 */
const generatedCodeIsPure = sideEffectFree(
  'client-node-generated-code-is-pure',
  (importer) => importer.includes('@kubernetes/client-node/dist/'),
  (path) => path.includes('@kubernetes/client-node/dist/gen/'),
);

const API_DIR = join(ROOT, 'lib', 'api') + sep;
const NODE_MODULES = `${sep}node_modules${sep}`;

/**
 * Drop's own kinds (lib/api) only declare schemas and constants, but a schema is built by calls
 * (zod), which esbuild must assume have effects: every bundle built every kind's schemas at each
 * cold start, DiscoveryPolicy's largest of all in reconcile-image. Said to be side-effect free, a
 * module none of whose exports a bundle uses is left out (parseSpec takes the schema of the kind the
 * caller reads, lib/api/parse.ts).
 */
const dropKindsArePure = sideEffectFree(
  'drop-kinds-are-pure',
  (importer) => importer.startsWith(ROOT) && !importer.includes(NODE_MODULES),
  (path) => path.startsWith(API_DIR),
);

/**
 * Two dependencies of dependencies that a function loads on every cold start and never calls
 * (a third of each bundle: V8 reads and runs all of it before the first answer):
 * - zod's 40 translations of its error messages (~290 KB): zod re-exports them as one namespace,
 *   so esbuild keeps every one; Drop's messages are zod's English default (which stays).
 * - node-fetch 2 with whatwg-url and tr46's Unicode tables (~315 KB), which client-node's
 *   KubeConfig imports for `Headers` in `applyToFetchOptions`: Drop calls `applyToHTTPSOptions`
 *   only. Node 20's own fetch classes take its place, so the method would still work.
 */
const unusedDependencies: Plugin = {
  name: 'unused-dependencies',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[/\\]zod[/\\]v4[/\\]/.test(args.importer)
        ? { path: join(dirname(args.importer), '..', 'locales', 'index.js'), namespace: 'zod-english' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-english' }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
    b.onResolve({ filter: /^node-fetch$/ }, (args) =>
      args.importer.includes('@kubernetes/client-node')
        ? { path: 'node-fetch', namespace: 'node-fetch-builtin' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'node-fetch-builtin' }, () => ({
      contents:
        'module.exports = globalThis.fetch; module.exports.default = globalThis.fetch; module.exports.Headers = globalThis.Headers; module.exports.Request = globalThis.Request; module.exports.Response = globalThis.Response;',
      loader: 'js',
    }));
  },
};

/**
 * Modules a function bundles but seldom runs, loaded on first use instead of at every cold start
 * (each ran before the first answer; CPU of reconcile-image's start, `--cpu-prof`):
 * - socks-proxy-agent, with socks and debug, which client-node's KubeConfig imports for a cluster
 *   whose kubeconfig names a `socks5://` proxy-url (6 ms);
 * - the CloudEvents SDK: Drop reads binary mode itself and gives the SDK structured mode only (2 ms).
 * (Node's http2, which @hono/node-server imports, is not worth it: undici, which Node loads for
 * the web Request that Hono extends, loads http2 too.)
 */
const LAZY_MODULES: readonly {
  readonly module: string;
  readonly importer: RegExp;
  readonly names: readonly string[];
}[] = [
  {
    module: 'socks-proxy-agent',
    importer: /[/\\]@kubernetes[/\\]client-node[/\\]/,
    names: ['SocksProxyAgent'],
  },
  { module: 'cloudevents', importer: /[/\\]lib[/\\]controller[/\\]event\.ts$/, names: ['HTTP'] },
];

/** A CommonJS module whose `names` are getters that load `module` the first time one is read. */
function lazyExports(module: string, names: readonly string[]): string {
  return `let loaded;
const load = () => (loaded ??= require(${JSON.stringify(module)}));
for (const name of ${JSON.stringify(names)})
  Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });`;
}

const lazyModules: Plugin = {
  name: 'lazy-modules',
  setup(b) {
    for (const lazy of LAZY_MODULES) {
      const filter = new RegExp(`^${lazy.module.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
      b.onResolve({ filter }, (args) =>
        lazy.importer.test(args.importer) ? { path: lazy.module, namespace: 'lazy-module' } : undefined,
      );
    }
    b.onLoad({ filter: /.*/, namespace: 'lazy-module' }, (args) => ({
      contents: lazyExports(args.path, LAZY_MODULES.find((lazy) => lazy.module === args.path)?.names ?? []),
      resolveDir: ROOT,
      loader: 'js',
    }));
  },
};

/** How every bundle is built (a test bundles its own entry with them). */
export const BUNDLE_OPTIONS = {
  bundle: true,
  // CommonJS, not ESM: Node 20 can load a script from a V8 code cache (vm.Script) but not a module.
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // Whitespace and syntax only: identifiers stay, so a logged stack trace still names the
  // functions (Node applies no source map to a vm.Script). Mangling them too saves ~3%.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [generatedCodeIsPure, dropKindsArePure, unusedDependencies, lazyModules],
} satisfies BuildOptions;

/**
 * Where a bundle leaves ASCII, or undefined. V8 holds a script's source for as long as the script
 * lives, one byte a character while every character is Latin-1 and two bytes for all of it as soon
 * as one is not: a single μ in a regular expression literal (esbuild escapes non-ASCII in strings
 * and names, not there) kept each bundle's 1–1.3 MB of source twice over in every process.
 */
export function outsideAscii(text: string): string | undefined {
  const at = text.search(/[\u0080-\uffff]/);
  if (at < 0) return undefined;
  return `a character outside ASCII at offset ${at} (…${text.slice(Math.max(0, at - 40), at + 10)}…): write it as a \\u escape in the source`;
}

/**
 * Bundles the functions and the entrypoint; returns the bundle paths. Each bundle is written beside
 * its place and renamed into it, so a process that starts while another run rebuilds (two chaos or
 * bench runs in one checkout) loads the old bundle or the new one, never a missing file.
 */
export async function bundleFunctions(names = functionNames()): Promise<string[]> {
  mkdirSync(OUT_DIR, { recursive: true });
  const staging = mkdtempSync(join(OUT_DIR, '.build-'));
  const entries = [
    ...names.map((name) => ({ in: join(ROOT, 'functions', name, 'main.ts'), out: name })),
    // The standalone runner (config/standalone/): every function in one process, FUNCTION=standalone.
    { in: join(ROOT, 'standalone', 'main.ts'), out: STANDALONE },
    { in: join(ROOT, 'lib', 'entrypoint', 'main.ts'), out: 'entrypoint' },
  ];
  const result = await build({
    ...BUNDLE_OPTIONS,
    entryPoints: entries,
    outdir: staging,
    outExtension: { '.js': '.cjs' },
  });
  // A warning here is usually a real fault in CommonJS output (import.meta is {}, a require that
  // cannot be resolved), so it fails the build rather than the function at run time.
  try {
    if (result.warnings.length > 0) throw new Error(`esbuild reported ${result.warnings.length} warning(s)`);
    for (const e of entries) {
      const outside = outsideAscii(readFileSync(join(staging, `${e.out}.cjs`), 'utf8'));
      if (outside) throw new Error(`${e.out}.cjs: ${outside}`);
    }
    // A code cache written for the old bundle is of no use to the new one (writeCodeCaches writes anew).
    for (const file of readdirSync(OUT_DIR)) if (file.endsWith('.cjs.v8cache')) rmSync(join(OUT_DIR, file));
    for (const e of entries) renameSync(join(staging, `${e.out}.cjs`), join(OUT_DIR, `${e.out}.cjs`));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return entries.map((e) => join(OUT_DIR, `${e.out}.cjs`));
}

/**
 * Runs the entrypoint's training mode, which writes <name>.cjs.v8cache beside each bundle, with the
 * flags the functions run with (one of them is part of the cache's flag hash).
 */
export function writeCodeCaches(): void {
  const run = spawnSync(process.execPath, [...NODE_FLAGS, ENTRYPOINT, '--write-code-cache'], {
    stdio: 'inherit',
    env: { ...process.env, ...NODE_ENVIRONMENT },
  });
  if (run.status !== 0) throw new Error(`writing the code caches failed (exit ${run.status})`);
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const started = performance.now();
  const bundles = await bundleFunctions();
  if (!process.argv.includes('--no-code-cache')) writeCodeCaches();
  for (const path of bundles) {
    const kb = (statSync(path).size / 1024).toFixed(0);
    console.error(`built ${path.slice(ROOT.length)} (${kb} KB)`);
  }
  console.error(`build:functions done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
