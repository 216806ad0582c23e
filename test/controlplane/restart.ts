// Faults on the control plane's own processes, for the chaos suite: kill -9 and start again with
// the same command line (ports, data and credentials unchanged), and freeze and thaw (SIGSTOP /
// SIGCONT). state.json follows the new pid, so `stop()` and `down` still stop everything.
import { readFileSync } from 'node:fs';
import { isRunning, sleep, startProcess } from './processes.ts';
import { type CoreComponentName, readState, writeState } from './state.ts';

function component(stateDir: string, name: CoreComponentName) {
  const state = readState(stateDir);
  const found = state?.components.find((c) => c.name === name);
  if (!state || !found) throw new Error(`no ${name} in ${stateDir}/state.json`);
  return { state, found };
}

/** kill -9 of a component, then the same command again once it is gone; returns the new pid. */
export async function restartComponent(stateDir: string, name: CoreComponentName): Promise<number> {
  const { state, found } = component(stateDir, name);
  const argv = readFileSync(`/proc/${found.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  process.kill(found.pid, 'SIGKILL');
  while (isRunning(found.pid)) await sleep(50);
  const pid = startProcess(found.binary, argv.slice(1), { logFile: found.log, detached: false });
  writeState(stateDir, {
    ...state,
    components: state.components.map((c) => (c.name === name ? { ...c, pid } : c)),
  });
  return pid;
}

/** SIGSTOP (frozen: connections stay open, nothing answers) or SIGCONT. */
export function freezeComponent(stateDir: string, name: CoreComponentName, frozen: boolean): void {
  process.kill(component(stateDir, name).found.pid, frozen ? 'SIGSTOP' : 'SIGCONT');
}
