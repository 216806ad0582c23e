// What one event costs a function as a whole request: reconcile-image's bundle, started as the
// image starts it, is sent a pull pod's "marked deleted" update (Resource mode, binary mode, as the
// ApiServerSource adapter sends it; a third of what reconcile-image is sent at 1,000 × 20, and
// skipped without a request) over keep-alive connections, four at a time. The CPU is the server
// process's own, from /proc, beside that of bare node:http reading and parsing the same requests
// (bench/bare-events.mjs): the floor no function can go under. Interleaved, best of three rounds.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiServerEvent, type HttpEvent } from '../lib/controller/source-events.ts';
import { NODE_ENVIRONMENT, startFlags } from '../lib/entrypoint/runtime.ts';
import { freePort, refusingKubeconfig } from '../lib/entrypoint/train.ts';
import type { Pod } from '../lib/kube/index.ts';
import { bundleFunctions, OUT_DIR } from '../scripts/build-functions.ts';
import { send } from './coldstart.ts';
import { processUsage } from './usage.ts';

const EVENTS = 20_000;
const WARM_UP = 2_000;
const IN_FLIGHT = 4;
const ROUNDS = 3;
const FUNCTION = 'reconcile-image';
const BARE = new URL('./bare-events.mjs', import.meta.url).pathname;
/** A pull pod as the API server sent it when it was marked deleted (captured from the local control plane, kwok's status). */
const POD = new URL('./fixtures/pull-pod-marked-deleted.json', import.meta.url).pathname;

export interface EventRequestResult {
  /** CPU µs per event of reconcile-image's process. */
  readonly functionUs: number;
  /** CPU µs per event of bare node:http reading and parsing the same request. */
  readonly bareUs: number;
  /** The event's body, in bytes. */
  readonly bodyBytes: number;
}

export async function benchEventRequest(): Promise<EventRequestResult> {
  await bundleFunctions([FUNCTION]);
  const pod = JSON.parse(readFileSync(POD, 'utf8')) as Pod;
  const event = () => apiServerEvent('https://10.96.0.1:443', 'update', pod, 'pods', 'Resource');
  // The skipped update needs no API server: one that refuses connections keeps the bench self-contained.
  const dir = mkdtempSync(join(tmpdir(), 'drop-bench-events-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, refusingKubeconfig(await freePort()));
  const servers = {
    function: {
      args: [...startFlags(FUNCTION), join(OUT_DIR, `${FUNCTION}.cjs`)],
      env: {
        ...NODE_ENVIRONMENT,
        KUBECONFIG: kubeconfig,
        DROP_NAMESPACE: 'drop-system',
        DROP_LOG_LEVEL: 'warn',
      },
    },
    bare: { args: [BARE], env: {} },
  };
  const best = { function: Number.POSITIVE_INFINITY, bare: Number.POSITIVE_INFINITY };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of ['bare', 'function'] as const) {
        const us = await cpuPerEvent(servers[name].args, servers[name].env, event);
        best[name] = Math.min(best[name], us);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { functionUs: best.function, bareUs: best.bare, bodyBytes: Buffer.byteLength(String(event().body)) };
}

/** Starts a server, sends it WARM_UP then EVENTS events, and returns its CPU µs per event. */
async function cpuPerEvent(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  event: () => HttpEvent,
): Promise<number> {
  const port = await freePort();
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  try {
    const deadline = Date.now() + 30_000;
    while ((await send(port, event(), agent)) === undefined) {
      if (child.exitCode !== null) throw new Error(`${args.at(-1)} exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`${args.at(-1)} did not answer within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await sendMany(agent, port, event, WARM_UP);
    const before = cpuSeconds(child);
    await sendMany(agent, port, event, EVENTS);
    return ((cpuSeconds(child) - before) * 1e6) / EVENTS;
  } finally {
    agent.destroy();
    child.kill('SIGKILL');
  }
}

async function sendMany(agent: Agent, port: number, event: () => HttpEvent, count: number): Promise<void> {
  for (let sent = 0; sent < count; sent += IN_FLIGHT) {
    const statuses = await Promise.all(Array.from({ length: IN_FLIGHT }, () => send(port, event(), agent)));
    const bad = statuses.find((status) => status !== 200);
    if (bad !== undefined) throw new Error(`an event was answered ${bad ?? 'with nothing'}, not 200`);
  }
}

function cpuSeconds(child: ChildProcess): number {
  return processUsage(child.pid ?? 0).cpuSeconds;
}
