import { readFileSync } from 'node:fs';
import { isRunning } from '../../test/controlplane/processes.ts';

// `npm start` runs us under `sh -c` under npm (under tsx too). npm passes SIGINT and SIGTERM on to
// the shell but not SIGHUP, and the shell passes nothing on: a signal sent to npm alone would leave
// us running with etcd, kube-apiserver and kwok. So we watch our ancestors up to npm itself, and
// stop when one of them is gone.

const POLL_MS = 500;

/** The pid of a process's parent, from /proc (Linux); undefined when it cannot be read. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Our ancestors up to and including the npm that runs us; empty when npm does not run us. */
export function ancestorsUpToNpm(env: NodeJS.ProcessEnv = process.env): number[] {
  if (!env.npm_lifecycle_event) return [];
  const chain: number[] = [];
  for (let pid = process.ppid; pid > 1 && chain.length < 8; pid = parentOf(pid) ?? 0) {
    chain.push(pid);
    // npm names its process after the command: `npm start`, or node running npm-cli.js.
    if (/(^|\/)npm(-cli\.js)?( |$)/.test(commandOf(pid))) return chain;
  }
  return [];
}

/** Calls `onGone` once, when npm or a process between it and us has exited. */
export function watchAncestors(onGone: (pid: number) => void): { stop(): void } {
  const ancestors = ancestorsUpToNpm();
  const timer = setInterval(() => {
    // isRunning counts a zombie as gone: in a container nobody may reap an orphaned shell.
    const gone = ancestors.find((pid) => !isRunning(pid));
    if (gone === undefined) return;
    clearInterval(timer);
    onGone(gone);
  }, POLL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
