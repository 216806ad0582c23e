// Drop as it ships, as child processes: the bundled standalone runner, or the four bundled
// functions each fed by the real ApiServerSource adapter. The scale bench and the chaos suite
// (test/chaos/) both launch Drop through here.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { NODE_ENVIRONMENT, startFlags } from '../lib/entrypoint/runtime.ts';
import { OUT_DIR } from '../scripts/build-functions.ts';
import { readSources } from '../standalone/config-files.ts';
import { optionsOfSource, startApiServerSource } from '../test/controlplane/index.ts';
import { freePorts } from '../test/controlplane/processes.ts';

export type DropShape = 'standalone' | 'functions';

export const NAMESPACE = 'drop-system';
export const CONFIG_DIR = new URL('../config/', import.meta.url).pathname;

/** A Drop process (and the adapter that feeds it). */
export interface Running {
  readonly name: string;
  readonly child: ChildProcess;
  readonly port: number;
  stop(): Promise<void>;
  /** kill -9 of the function's adapter, then a new one (what a restarted adapter Pod is). */
  restartAdapter?(options?: { readonly pauseFor?: Promise<unknown> }): Promise<void>;
  /** The process id of the function's adapter now (Knative's, not Drop's: measured apart). */
  adapterPid?(): number;
}

export interface LaunchOptions {
  /** The kubeconfig Drop's processes use. */
  readonly kubeconfigPath: string;
  /** The adapters' kubeconfig (default kubeconfigPath): the chaos suite keeps them off its API proxy. */
  readonly adapterKubeconfigPath?: string;
  /** Where a function's adapter sends its events (default the function itself): a proxy may sit between. */
  readonly sinkFor?: (fn: string, functionUrl: string) => Promise<string>;
  /** Extra environment (DROP_LOG_LEVEL defaults to warn). */
  readonly env?: Readonly<Record<string, string>>;
  /** Every line the process writes, instead of inheriting stdout and stderr. */
  readonly onLine?: (process: string, line: string) => void;
}

/** Starts Drop in the given shape; with `functions`, one adapter per function that has event sources. */
export async function startShape(shape: DropShape, options: LaunchOptions): Promise<Running[]> {
  if (shape === 'standalone') return [await startBundle('standalone', options)];
  const sources = readSources(CONFIG_DIR, NAMESPACE).eventSources;
  const functions = ['reconcile-image', 'reconcile-set', 'pace', 'discover'];
  const started: Running[] = [];
  for (const fn of functions) {
    const process = await startBundle(fn, options);
    const source = sources.find((s) => s.function === fn);
    const url = `http://127.0.0.1:${process.port}/`;
    const adapterOptions = source
      ? optionsOfSource(
          source,
          options.adapterKubeconfigPath ?? options.kubeconfigPath,
          options.sinkFor ? await options.sinkFor(fn, url) : url,
        )
      : undefined;
    let adapter = adapterOptions ? await startApiServerSource(adapterOptions) : undefined;
    started.push({
      ...process,
      async stop() {
        await adapter?.stop();
        await process.stop();
      },
      ...(adapterOptions
        ? {
            async restartAdapter(restart = {}) {
              if (adapter) globalThis.process.kill(adapter.pid, 'SIGKILL');
              await adapter?.stop();
              await restart.pauseFor;
              adapter = await startApiServerSource(adapterOptions);
            },
            adapterPid: () => adapter?.pid ?? 0,
          }
        : {}),
    });
  }
  return started;
}

/** Starts one bundle of dist/functions (`standalone` or a function) and waits until it answers /healthz. */
export async function startBundle(name: string, options: LaunchOptions): Promise<Running> {
  const [port] = await freePorts(1);
  // BENCH_PROFILE_DIR=<dir>: each Drop process writes a V8 CPU profile there when it stops.
  const profile = process.env.BENCH_PROFILE_DIR
    ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];
  // As the image starts them (lib/entrypoint/runtime.ts); BENCH_NODE_FLAGS replaces the flags
  // (BENCH_NODE_FLAGS=none: Node's defaults).
  const flags =
    process.env.BENCH_NODE_FLAGS === undefined
      ? startFlags(name)
      : process.env.BENCH_NODE_FLAGS.split(' ').filter((flag) => flag && flag !== 'none');
  const child = spawn(process.execPath, [...flags, ...profile, `${OUT_DIR}/${name}.cjs`], {
    // The image's environment, unless the bench's own sets the same variable (MALLOC_ARENA_MAX=1
    // npm run bench … measures another setting).
    env: {
      ...NODE_ENVIRONMENT,
      ...process.env,
      KUBECONFIG: options.kubeconfigPath,
      DROP_NAMESPACE: NAMESPACE,
      DROP_CONFIG_DIR: CONFIG_DIR,
      PORT: String(port),
      HOST: '127.0.0.1',
      DROP_LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', options.onLine ? 'pipe' : 'inherit', options.onLine ? 'pipe' : 'inherit'],
  });
  const onLine = options.onLine;
  if (onLine) {
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => onLine(name, line));
    }
  }
  await untilAnswers(`http://127.0.0.1:${port}/healthz`, child);
  return {
    name,
    child,
    port: port!,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function untilAnswers(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited (${child.exitCode})`);
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within 60 s`);
}
