// A real server binary for the discovery tests: started on loopback with its log in a file,
// awaited until it answers, stopped (and never left behind) when the tests end.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isRunning, killNow, poll, startProcess, stopProcess } from '../controlplane/processes.ts';

export interface RunningServer {
  readonly pid: number;
  /** SIGSTOP: the kernel still accepts connections, nothing answers (a hung server). */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

const started = new Set<number>();
// A test run that dies between start and stop must not leave servers behind.
process.once('exit', () => killNow([...started]));

/** Starts the binary and waits until `ready()` is true; fails with its log tail otherwise. */
export async function startServer(
  command: string,
  args: readonly string[],
  options: { readonly logFile: string; readonly ready: () => Promise<boolean>; readonly timeoutMs?: number },
): Promise<RunningServer> {
  const pid = startProcess(command, args, { logFile: options.logFile, detached: false });
  started.add(pid);
  const server: RunningServer = {
    pid,
    pause: () => process.kill(pid, 'SIGSTOP'),
    resume: () => process.kill(pid, 'SIGCONT'),
    async stop() {
      if (isRunning(pid)) process.kill(pid, 'SIGCONT');
      await stopProcess(pid);
      started.delete(pid);
    },
  };
  try {
    await poll(async () => ((await options.ready()) ? true : undefined), {
      timeoutMs: options.timeoutMs ?? 30_000,
      describe: () =>
        `${command} did not become ready${isRunning(pid) ? '' : ' (it exited)'}; log tail:\n${logTail(options.logFile)}`,
    });
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

export function logTail(file: string, lines = 20): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

const INSTALL = fileURLToPath(new URL('./install.sh', import.meta.url));
let installed = false;

/**
 * Installs Prometheus, the registry, htpasswd and openssl if missing (test/discovery/install.sh).
 * Throws with the script's words when it cannot: the discovery tests fail, they never skip.
 */
export function ensureDiscoveryServers(): void {
  if (installed) return;
  try {
    execFileSync(INSTALL, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`the discovery test servers are not installed: ${stderr || String(error)}`);
  }
  installed = true;
}

/** A bcrypt hash, as the registry's htpasswd auth and Prometheus' basic_auth_users require. */
export function bcrypt(password: string): string {
  const line = execFileSync('htpasswd', ['-nbBC', '10', 'x', password], { encoding: 'utf8' });
  return line.trim().slice('x:'.length);
}
