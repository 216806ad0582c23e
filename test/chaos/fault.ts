// What a fault is, and the waits faults share.

import type { FleetShape } from './drop-fleet.ts';
import type { ChaosEnv } from './env.ts';
import { observedPull } from './watcher.ts';

export interface Fault {
  /** What `npm run chaos -- <name>` names. */
  readonly name: string;
  /** The row's first column. */
  readonly title: string;
  /** How Drop runs during it. */
  readonly shape: FleetShape;
  /** The stated time the workload has to converge once the fault is over. */
  readonly convergeWithinMs: number;
  /** Injects the fault and lifts it; returns what Drop did, in words. */
  run(env: ChaosEnv): Promise<string>;
}

/** Waits until at least `count` pulls are in flight; returns how many. */
export async function untilPulling(env: ChaosEnv, count: number, withinMs = 120_000): Promise<number> {
  return until(
    () => {
      const n = pulling(env).length;
      return n >= count ? n : undefined;
    },
    withinMs,
    `${count} pulls in flight`,
  );
}

/** The pulls in flight now, as the watcher sees them. */
export function pulling(env: ChaosEnv) {
  return env.watcher.pods
    .list()
    .map(observedPull)
    .filter((p) => p.state === 'pulling' && !p.deleting);
}

/** Calls `check` every 250 ms until it returns a value; rejects after `withinMs`. */
export async function until<T>(
  check: () => T | undefined | Promise<T | undefined>,
  withinMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await Promise.resolve(check()).catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${Math.round(withinMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
