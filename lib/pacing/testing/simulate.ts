// A virtual-clock run of the scheduler as the pacer would drive it: call nextPulls, start what it
// says, and call again when a pull finishes, when nextWakeAt comes, or on a spurious event. Every
// start is checked against the run's own history, not against anything the scheduler computed.

import type { PacingLimits } from '../../policy/limits.ts';
import type { InFlightPull, NodeFailure, PullStart } from '../demand.ts';
import { nextPulls } from '../next-pulls.ts';
import type { PacingCursor } from '../rotation.ts';
import { backoffOf } from './oracle.ts';

export interface SimulatedImage {
  readonly name: string;
  readonly priority: number;
  readonly nodes: readonly string[];
}

export interface Simulation {
  readonly policy: string;
  readonly limits: PacingLimits;
  readonly images: readonly SimulatedImage[];
  /** How long a pull takes alone on its node. */
  readonly pullMs: (start: PullStart, attempt: number) => number;
  /**
   * Pulls on one node share its bandwidth: k of them side by side each go at 1/k of the speed
   * (foreign pulls aside). Off by default: each pull takes its pullMs whatever else runs.
   */
  readonly sharedBandwidth?: boolean;
  /** How many attempts of (image, node) fail before one succeeds; none by default. */
  readonly failingAttempts?: (start: PullStart) => number;
  /** Pulls of other policies, in flight from t=0 until `until`. */
  readonly foreign?: readonly { readonly node: string; readonly until: number }[];
  /** Extra calls, as pings and duplicated events cause. */
  readonly extraCallsAt?: readonly number[];
  readonly maxCalls?: number;
}

export interface SimulatedCall {
  readonly at: number;
  readonly starts: readonly PullStart[];
  /** Images that had pending nodes when the call was made. */
  readonly pendingImages: readonly string[];
}

export interface SimulationResult {
  readonly converged: boolean;
  /** When the last pull finished (ms since the run began). */
  readonly finishedAt: number;
  readonly calls: readonly SimulatedCall[];
  readonly violations: readonly string[];
}

interface Running extends InFlightPull {
  /** What is left of the pull, in ms at full speed. */
  left: number;
  readonly fails: boolean;
}

export function simulate(sim: Simulation): SimulationResult {
  const { policy, limits } = sim;
  const pending = new Map(sim.images.map((i) => [i.name, new Set(i.nodes)]));
  const failures = new Map(sim.images.map((i) => [i.name, new Map<string, NodeFailure>()]));
  const startsOf = new Map<string, number[]>();
  const attempts = new Map<string, number>();
  const calls: SimulatedCall[] = [];
  const violations: string[] = [];
  let running: Running[] = [];
  let cursor: PacingCursor | undefined;
  let now = 0;
  let finishedAt = 0;

  for (let call = 0; call < (sim.maxCalls ?? 100_000); call++) {
    for (const pull of running.filter(isDone)) {
      finishedAt = now;
      const record = failures.get(pull.image)!;
      if (pull.fails) {
        record.set(pull.node, {
          failures: (record.get(pull.node)?.failures ?? 0) + 1,
          lastFailedAt: now,
        });
        pending.get(pull.image)!.add(pull.node);
      } else {
        record.delete(pull.node);
      }
    }
    running = running.filter((p) => !isDone(p));
    const foreign = (sim.foreign ?? [])
      .filter((f) => f.until > now)
      .map((f) => ({ image: 'foreign', node: f.node, policy: 'other', startedAt: 0 }));
    const decision = nextPulls({
      policy,
      limits,
      images: sim.images.map((i) => ({
        name: i.name,
        priority: i.priority,
        pendingNodes: [...pending.get(i.name)!],
        failures: failures.get(i.name)!,
        lastStartAt: startsOf.get(i.name)?.at(-1),
      })),
      inFlight: [...running, ...foreign],
      cursor,
      now,
    });
    calls.push({
      at: now,
      starts: decision.starts,
      pendingImages: sim.images.filter((i) => pending.get(i.name)!.size > 0).map((i) => i.name),
    });
    cursor = decision.cursor;
    for (const start of decision.starts) {
      violations.push(...check(start));
      const key = `${start.image}\n${start.node}`;
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      running.push({
        ...start,
        policy,
        startedAt: now,
        left: sim.pullMs(start, attempt),
        fails: attempt <= (sim.failingAttempts?.(start) ?? 0),
      });
      pending.get(start.image)?.delete(start.node);
      startsOf.set(start.image, [...(startsOf.get(start.image) ?? []), now]);
    }
    const shares = sharesOf(running);
    const next = Math.min(
      ...running.map((p) => now + p.left * (shares.get(p.node) ?? 1)),
      ...(sim.foreign ?? []).map((f) => f.until).filter((t) => t > now),
      ...(sim.extraCallsAt ?? []).filter((t) => t > now),
      decision.nextWakeAt ?? Number.POSITIVE_INFINITY,
    );
    if (next === Number.POSITIVE_INFINITY) break;
    for (const pull of running) pull.left -= (next - now) / (shares.get(pull.node) ?? 1);
    now = next;
  }
  const converged = running.length === 0 && [...pending.values()].every((nodes) => nodes.size === 0);
  return { converged, finishedAt, calls, violations };

  /** How many pulls share each node's speed, where pulls share it. */
  function sharesOf(pulls: readonly Running[]): ReadonlyMap<string, number> {
    const shares = new Map<string, number>();
    if (sim.sharedBandwidth) for (const p of pulls) shares.set(p.node, (shares.get(p.node) ?? 0) + 1);
    return shares;
  }

  /** The four rules, against this run's own record of what is running and what happened. */
  function check(start: PullStart): string[] {
    const found: string[] = [];
    const say = (rule: string) => found.push(`t=${now} ${start.image} on ${start.node}: ${rule}`);
    const onNode = running.filter((p) => p.node === start.node).length;
    const foreignOnNode = (sim.foreign ?? []).filter((f) => f.node === start.node && f.until > now).length;
    if (!pending.get(start.image)?.has(start.node)) say('not pending');
    if (running.some((p) => p.image === start.image && p.node === start.node)) say('already in flight');
    if (onNode + foreignOnNode >= limits.maxConcurrentPullsPerNode) say('per node');
    if (running.filter((p) => p.image === start.image).length >= limits.maxConcurrentNodes)
      say('per image concurrency');
    const last = startsOf.get(start.image)?.at(-1);
    if (last !== undefined && now - last < limits.minDelayBetweenPullsMs) say('min delay');
    const cap = limits.maxConcurrentPulls;
    if (cap !== undefined && running.length >= cap) say('per policy');
    const record = failures.get(start.image)?.get(start.node);
    if (record && now < record.lastFailedAt + backoffOf(record.failures, limits.failureBackoff))
      say('backoff');
    return found;
  }
}

// Shared speed divides a pull's time left by fractions; what remains after it ends is rounding.
function isDone(pull: Running): boolean {
  return pull.left <= 1e-6;
}
