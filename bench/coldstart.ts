import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HttpEvent, pingEvent } from '../lib/controller/source-events.ts';
import { NODE_ENVIRONMENT, NODE_FLAGS } from '../lib/entrypoint/runtime.ts';
import { freePort, refusingKubeconfig } from '../lib/entrypoint/train.ts';
import { bundleFunctions, ENTRYPOINT, functionNames, writeCodeCaches } from '../scripts/build-functions.ts';
import { missingBinaries, startControlPlane } from '../test/controlplane/index.ts';

/** docs/design.md §Bars: a function answers its first request within 250 ms of process start, peak RSS ≤ 100 MB. */
export const BAR = { ms: 250, mb: 100 } as const;
/** Bare Node + Hono starts in ~90 ms on an idle machine of ours. */
const IDLE_HELLO_MS = 90;
const HELLO = new URL('./hello.mjs', import.meta.url).pathname;

export interface Sample {
  readonly ms: number;
  readonly mb: number;
  readonly status: number;
}

export interface ColdStartResult {
  readonly name: string;
  readonly samples: readonly Sample[];
  readonly medianMs: number;
  readonly maxMs: number;
  readonly medianMb: number;
  readonly maxMb: number;
}

export interface ColdStartReport {
  /** What the functions' first request met: a real kube-apiserver, or one that refuses connections. */
  readonly api: 'real' | 'unreachable';
  readonly baseline: ColdStartResult;
  readonly functions: readonly ColdStartResult[];
}

interface Target {
  readonly name: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** The first request: a CloudEvent to POST, or undefined for GET /. */
  readonly first: (() => HttpEvent) | undefined;
}

/** The `coldstart` benchmark: one line per function; false when one misses the bar at the median. */
export async function coldstart(log: (line: string) => void): Promise<boolean> {
  const runs = Number(process.env.BENCH_RUNS) || 7;
  const report = await benchColdStart(runs, log);
  log(
    `coldstart: ${runs} runs each, interleaved, after one discarded round; first request: ${
      report.api === 'real'
        ? 'a PingSource CloudEvent, answered after listing from a real kube-apiserver'
        : 'a PingSource CloudEvent, answered 503 because the API server refuses connections'
    }`,
  );
  // The bar is in milliseconds on an otherwise idle machine; the ratio to hello is what survives a busy one.
  log(
    `coldstart: load average ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} CPUs while measuring`,
  );
  const hello = report.baseline;
  if (hello.medianMs > 1.5 * IDLE_HELLO_MS)
    log(
      `coldstart: hello took ${hello.medianMs.toFixed(0)} ms, ~${IDLE_HELLO_MS} ms on an idle machine: this one is busy, so read the ratios`,
    );
  console.log(`${row(hello, hello)}  GET /    (baseline: bare Node + Hono, bench/hello.mjs)`);
  let ok = true;
  for (const r of report.functions) {
    const expected = report.api === 'real' ? 200 : 503;
    const misses = [
      ...(r.medianMs > BAR.ms ? [`${BAR.ms} ms`] : []),
      ...(r.medianMb > BAR.mb ? [`${BAR.mb} MB`] : []),
      ...(r.samples.every((s) => s.status === expected) ? [] : [`a ${expected} every time`]),
    ];
    ok &&= misses.length === 0;
    console.log(`${row(r, hello)}  ping     ${misses.length === 0 ? 'ok' : `MISSES ${misses.join(', ')}`}`);
  }
  return ok;
}

function row(r: ColdStartResult, hello: ColdStartResult): string {
  const statuses = [...new Set(r.samples.map((s) => s.status))].join('/');
  return [
    `coldstart.${r.name}`.padEnd(26),
    `${(r.medianMs / hello.medianMs).toFixed(2)} x time`,
    `${(r.medianMb / hello.medianMb).toFixed(2)} x rss`,
    `${r.medianMs.toFixed(0).padStart(4)} ms (max ${r.maxMs.toFixed(0).padStart(4)})`,
    `${r.medianMb.toFixed(0).padStart(3)} MB (max ${r.maxMb.toFixed(0).padStart(3)})`,
    `-> ${statuses}`,
  ].join('   ');
}

/**
 * Builds the functions as the image does, then for each production entrypoint measures process
 * spawn → first answer to a PingSource CloudEvent (which lists objects from the API server) and
 * peak RSS, interleaved run by run with a bare Node + Hono hello-world on the same machine.
 */
export async function benchColdStart(runs: number, log: (line: string) => void): Promise<ColdStartReport> {
  const names = functionNames();
  await bundleFunctions(names);
  writeCodeCaches();
  const api = await apiServer(log);
  try {
    const targets: Target[] = [
      { name: 'hello', args: [HELLO], env: {}, first: undefined },
      ...names.map((name) => ({
        name,
        args: [...NODE_FLAGS, ENTRYPOINT],
        env: { ...NODE_ENVIRONMENT, FUNCTION: name, KUBECONFIG: api.kubeconfig, DROP_LOG_LEVEL: 'warn' },
        first: () => pingEvent('drop-system', 'bench-coldstart', {}),
      })),
    ];
    const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
    // Round 0 only warms the page cache (node, the bundles, the API server's own caches).
    for (let run = 0; run <= runs; run++) {
      for (const target of targets) {
        const sample = await coldStart(target);
        if (run > 0) samples.get(target.name)?.push(sample);
      }
    }
    const results = targets.map((t) => summarize(t.name, samples.get(t.name) ?? []));
    return { api: api.kind, baseline: results[0]!, functions: results.slice(1) };
  } finally {
    await api.stop();
  }
}

async function apiServer(log: (line: string) => void) {
  if (process.env.BENCH_KUBECONFIG)
    return { kind: 'real' as const, kubeconfig: process.env.BENCH_KUBECONFIG, stop: async () => {} };
  if (missingBinaries().length === 0) {
    const stateDir = mkdtempSync(join(tmpdir(), 'drop-bench-coldstart-'));
    const plane = await startControlPlane({ stateDir, log, nodes: 3 });
    return {
      kind: 'real' as const,
      kubeconfig: plane.kubeconfigPath,
      stop: async () => {
        await plane.stop();
        rmSync(stateDir, { recursive: true, force: true });
      },
    };
  }
  log('coldstart: control-plane binaries not built (npm run controlplane:build); the API server refuses');
  log('coldstart: connections, so each function answers its first event with 503 after trying it');
  const dir = mkdtempSync(join(tmpdir(), 'drop-bench-coldstart-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, refusingKubeconfig(await freePort()));
  return {
    kind: 'unreachable' as const,
    kubeconfig,
    stop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** One cold start: spawn, send the first request until something answers, read the peak RSS. */
async function coldStart(target: Target): Promise<Sample> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, target.args, {
    env: { ...process.env, ...target.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const event = target.first?.();
    let status: number | undefined;
    while (status === undefined) {
      if (child.exitCode !== null) throw new Error(`${target.name} exited with ${child.exitCode}`);
      if (performance.now() - started > 30_000) throw new Error(`${target.name} did not answer within 30 s`);
      status = await send(port, event);
      if (status === undefined) await new Promise((r) => setTimeout(r, 2));
    }
    const ms = performance.now() - started;
    return { ms, mb: peakRssMb(child.pid ?? 0), status };
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

/** The answer's status, or undefined while nothing listens yet (GET / when there is no event). */
export function send(port: number, event: HttpEvent | undefined, agent?: Agent): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, method: event ? 'POST' : 'GET', path: '/', headers: event?.headers, agent },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode));
      },
    );
    req.once('error', () => resolve(undefined));
    req.end(event?.body);
  });
}

/** VmHWM: the process's peak resident set so far, which is what a memory limit is checked against. */
function peakRssMb(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

function summarize(name: string, samples: readonly Sample[]): ColdStartResult {
  const ms = samples.map((s) => s.ms);
  const mb = samples.map((s) => s.mb);
  return {
    name,
    samples,
    medianMs: median(ms),
    maxMs: Math.max(...ms),
    medianMb: median(mb),
    maxMb: Math.max(...mb),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
