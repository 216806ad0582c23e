import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ports } from './components.ts';
import { commandLine, isRunning, stopProcess } from './processes.ts';

/** `.drop/` in the repository: git-ignored, home of the cluster that `npm run cluster:up` starts. */
export const DEFAULT_STATE_DIR = new URL('../../.drop/', import.meta.url).pathname.replace(/\/$/, '');

/** What every control plane runs; the bandwidth model is optional (`up --bandwidth`). */
export const CORE_COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kwok'] as const;
export type CoreComponentName = (typeof CORE_COMPONENTS)[number];
export type ComponentName = CoreComponentName | 'bandwidth-model';

export interface RunningComponent {
  readonly name: ComponentName;
  readonly pid: number;
  readonly binary: string;
  /** The script the binary runs, when it is node (the bandwidth model). */
  readonly entry?: string;
  readonly log: string;
}

/** What `up` leaves behind for `down` and `status`, in <stateDir>/state.json. */
export interface ControlPlaneState {
  readonly kubeconfigPath: string;
  readonly server: string;
  readonly ports: Ports;
  readonly components: readonly RunningComponent[];
  readonly startedAt: string;
}

export function statePath(stateDir: string): string {
  return join(stateDir, 'state.json');
}

export function readState(stateDir: string): ControlPlaneState | undefined {
  const path = statePath(stateDir);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as ControlPlaneState;
}

export function writeState(stateDir: string, state: ControlPlaneState): void {
  writeFileSync(statePath(stateDir), `${JSON.stringify(state, null, 2)}\n`);
}

/** Whether the pid still runs the binary we started (pids are reused after a reboot). */
export function isComponentRunning(component: RunningComponent): boolean {
  if (!isRunning(component.pid)) return false;
  const command = commandLine(component.pid);
  return command.startsWith(component.binary) && (!component.entry || command.includes(component.entry));
}

/**
 * Stops the components in reverse start order (the bandwidth model, kwok, the controller manager and
 * the API server before etcd) and forgets them.
 */
export async function stopComponents(stateDir: string): Promise<readonly RunningComponent[]> {
  const state = readState(stateDir);
  if (!state) return [];
  const running = state.components.filter(isComponentRunning);
  for (const component of [...running].reverse()) await stopProcess(component.pid);
  rmSync(statePath(stateDir), { force: true });
  return running;
}
