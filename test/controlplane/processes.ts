import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface SpawnOptions {
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Outlive this Node process (cluster:up returns while the cluster keeps running). Otherwise the
   * child stays in our process group, so Ctrl-C on a test run stops it too.
   */
  readonly detached: boolean;
}

/** Starts a binary with stdout and stderr appended to logFile and returns its pid. */
export function startProcess(command: string, args: readonly string[], options: SpawnOptions): number {
  const log = openSync(options.logFile, 'a');
  try {
    const child = spawn(command, args, {
      stdio: ['ignore', log, log],
      detached: options.detached,
      env: options.env ?? process.env,
    });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    child.on('error', () => {});
    child.unref();
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** Whether a process with this pid is alive. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

// A detached child whose parent (cluster:up) has exited is re-parented to PID 1, and in a container
// PID 1 may never reap it: a dead process would then look alive to kill(pid, 0) for ever.
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
export async function stopProcess(pid: number, graceMs = 5_000): Promise<void> {
  if (!signal(pid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (isRunning(pid) && Date.now() < deadline) await sleep(50);
  if (!isRunning(pid)) return;
  signal(pid, 'SIGKILL');
  while (isRunning(pid)) await sleep(20);
}

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

/** Kills the processes synchronously: for process 'exit' handlers, where nothing async runs. */
export function killNow(pids: readonly number[]): void {
  for (const pid of pids) signal(pid, 'SIGKILL');
}

/** TCP ports on 127.0.0.1 that were free a moment ago; all held open together, so all distinct. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolve, reject) => {
            server.on('error', reject);
            server.listen(0, '127.0.0.1', () => {
              const address = server.address();
              resolve(typeof address === 'object' && address ? address.port : 0);
            });
          }),
      ),
    );
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** The command line of a running process, to tell our process from one that reused its pid. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls check until it returns a value, or throws describe()'s text after timeoutMs. */
export async function poll<T>(
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; describe: () => string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(options.describe());
    await sleep(options.intervalMs ?? 100);
  }
}
