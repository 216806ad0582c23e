// `npm start` as a new user runs it: the real npm, the real script, its own control plane in a
// state folder of its own. It prints where it is, keeps what you made for the next run (--fresh
// starts empty), and a signal to npm — SIGINT, SIGTERM or SIGHUP — stops every process it started.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execKubectl } from '../controlplane/index.ts';
import { commandLine, isRunning } from '../controlplane/processes.ts';
import { waitFor } from './harness.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const stateDir = mkdtempSync(join(tmpdir(), 'drop-npm-start-'));
const kubeconfig = join(stateDir, 'kubeconfig');

interface Run {
  readonly npm: ChildProcess;
  output(): string;
  readonly exited: Promise<void>;
}

const runs: Run[] = [];

function npmStart(args: readonly string[]): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, DROP_STATE_DIR: stateDir, DROP_LOG_LEVEL: 'warn' };
  delete env.KUBECONFIG;
  const npm = spawn('npm', ['start', '--', '--nodes', '2', ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  npm.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  npm.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
  const run = { npm, output: () => text, exited };
  runs.push(run);
  return run;
}

/** Every process under `pid`, from /proc: npm's shell, tsx, Drop's node, etcd, kube-apiserver, kwok. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // Gone between the listing and the read.
    }
  }
  const all: number[] = [];
  const visit = (p: number) => {
    for (const child of children.get(p) ?? []) {
      all.push(child);
      visit(child);
    }
  };
  visit(pid);
  return all;
}

/** Processes whose command line names this test's state folder (etcd's data dir, kwok's kubeconfig…). */
function processesOfStateDir(): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => pid !== process.pid && isRunning(pid) && commandLine(pid).includes(stateDir));
}

async function untilOutput(run: Run, pattern: RegExp, timeoutMs = 240_000): Promise<void> {
  const done = await waitFor(() => pattern.test(run.output()) || run.npm.exitCode !== null, {
    timeoutMs,
    intervalMs: 250,
  }).catch(() => false);
  if (!done || !pattern.test(run.output()))
    throw new Error(`npm start did not print ${pattern}${done ? ' before it exited' : ''}:\n${run.output()}`);
}

/** Sends `signal` to npm alone and waits until npm and every process it started are gone. */
async function stopWith(run: Run, signal: NodeJS.Signals): Promise<readonly number[]> {
  const started = descendants(run.npm.pid ?? 0);
  expect(started.length).toBeGreaterThanOrEqual(5);
  expect(processesOfStateDir().length).toBeGreaterThanOrEqual(3);
  run.npm.kill(signal);
  await run.exited;
  return waitFor(
    () => {
      const left = [...started.filter(isRunning), ...processesOfStateDir()];
      return left.length === 0 ? left : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, message: `every process of npm start gone after ${signal}` },
  );
}

function kubectl(args: readonly string[]) {
  return execKubectl(kubeconfig, args);
}

afterAll(async () => {
  // A failed test must not leave a control plane behind.
  const left = [...runs.flatMap((run) => descendants(run.npm.pid ?? 0)), ...processesOfStateDir()];
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  rmSync(stateDir, { recursive: true, force: true });
});

// Each run starts its own control plane: minutes on a loaded machine.
const RUN_TIMEOUT_MS = 300_000;

describe('npm start', () => {
  it(
    'prints its progress and a live line, and SIGINT to npm stops everything it started',
    async () => {
      const run = npmStart([]);
      await untilOutput(run, /\[3\/3\] Drop is ready/);
      expect(run.output()).toMatch(
        /\[1\/3\] control plane: etcd, kube-apiserver, kube-controller-manager and kwok in /,
      );
      expect(run.output()).toMatch(/\[2\/3\] CRDs installed, 2 fake nodes ready/);
      await untilOutput(run, /no CachedImages yet/);
      const applied = await kubectl(['apply', '-f', join(ROOT, 'examples/cachedimage-nginx.yaml')]);
      expect(applied.code).toBe(0);
      await untilOutput(run, /drop: 1\/1 image cached · 0 pulls in flight/, 120_000);
      expect(await stopWith(run, 'SIGINT')).toEqual([]);
      expect(run.output()).toMatch(/SIGINT|npm start ended/);
      expect(run.output()).toMatch(/drop: stopped/);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'keeps the sandbox for the next run, and SIGTERM to npm stops everything it started',
    async () => {
      const run = npmStart([]);
      await untilOutput(run, /\[3\/3\] Drop is ready/);
      expect(run.output()).toMatch(/keeping the objects of the last run/);
      const kept = await kubectl(['get', 'cachedimage', 'nginx', '-o', 'name']);
      expect(kept.stdout.trim()).toBe('cachedimage.drop.corewire.io/nginx');
      expect(await stopWith(run, 'SIGTERM')).toEqual([]);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    '--fresh starts empty, and SIGHUP to npm (which npm does not pass on) stops everything it started',
    async () => {
      const run = npmStart(['--fresh']);
      await untilOutput(run, /\[3\/3\] Drop is ready/);
      expect(run.output()).not.toMatch(/keeping the objects of the last run/);
      const gone = await kubectl(['get', 'cachedimage', 'nginx', '-o', 'name']);
      expect(gone.stderr).toMatch(/NotFound/);
      expect(await stopWith(run, 'SIGHUP')).toEqual([]);
      expect(run.output()).toMatch(/npm start ended/);
    },
    RUN_TIMEOUT_MS,
  );
});
