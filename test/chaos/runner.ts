// Runs faults one at a time against one environment: each fault is injected on top of the steady
// workload, lifted, then the workload must converge within the fault's stated time, with no
// invariant violated from the fault's start to convergence.
import { loadavg } from 'node:os';
import { type ChaosEnv, startChaosEnv, startWorkload, untilConverged } from './env.ts';
import type { Fault } from './fault.ts';
import { ALL_FAULTS } from './faults/index.ts';
import { formatReport, passed, type Row } from './report.ts';
import type { Checked } from './watcher.ts';

export interface ChaosResult {
  readonly rows: readonly Row[];
  readonly report: string;
  readonly ok: boolean;
}

/** The faults named (all when none), in the suite's order; an unknown name is an error. */
export function selectFaults(names: readonly string[]): Fault[] {
  const unknown = names.filter((n) => !ALL_FAULTS.some((f) => f.name === n));
  if (unknown.length > 0)
    throw new Error(
      `unknown fault ${unknown.join(', ')}; known: ${ALL_FAULTS.map((f) => f.name).join(', ')}`,
    );
  return names.length === 0 ? [...ALL_FAULTS] : ALL_FAULTS.filter((f) => names.includes(f.name));
}

export interface ChaosOptions {
  /** Pool nodes (default 50; the CI subset runs fewer). */
  readonly nodes?: number;
}

export async function runChaos(
  faults: readonly Fault[],
  log: (line: string) => void,
  options: ChaosOptions = {},
): Promise<ChaosResult> {
  const env = await startChaosEnv(log, options.nodes);
  const rows: Row[] = [];
  // Ctrl-C or a kill stops the control plane and Drop too, not only this process.
  const interrupted = (signal: NodeJS.Signals) => {
    log(`chaos: ${signal}: stopping`);
    void env.stop().then(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await env.drop.ensure(faults[0]?.shape ?? 'replicas');
    const startedAt = Date.now();
    const before = { ...env.watcher.checked };
    const first = await startWorkload(env, 300_000).then(
      (ms) => ({ ms }),
      (error: Error) => ({ error: error.message }),
    );
    await env.watcher.drain();
    rows.push({
      fault: 'none (the workload converging from empty)',
      shape: env.drop.shape ?? '',
      did: `cached ${env.watcher.images.list().length} images on ${env.nodes.length} nodes`,
      convergedMs: 'ms' in first ? first.ms : undefined,
      withinMs: 300_000,
      violations: env.watcher.since(startedAt).map((v) => `${v.invariant}: ${v.message}`),
      error: 'error' in first ? first.error : undefined,
      checked: checkedSince(env, before),
    });
    log(`chaos: ${describeRow(rows.at(-1)!)}`);
    for (const fault of faults) {
      rows.push(await runFault(env, fault));
      log(`chaos: ${describeRow(rows.at(-1)!)}`);
    }
  } finally {
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
    await env.stop();
  }
  const report = formatReport(rows, loadavg());
  return { rows, report, ok: rows.every(passed) };
}

/** What the checks saw since `before`, for the table's "checked" column. */
function checkedSince(env: ChaosEnv, before: Checked): string {
  const now = env.watcher.checked;
  return `${now.starts - before.starts} starts, ${now.statuses - before.statuses} statuses, ${
    now.logLines - before.logLines
  } log lines, ${now.events - before.events} Events`;
}

async function runFault(env: ChaosEnv, fault: Fault): Promise<Row> {
  env.log(`chaos: ${fault.name}: ${fault.title}`);
  const before = { ...env.watcher.checked };
  const base = { fault: fault.title, shape: fault.shape, withinMs: fault.convergeWithinMs };
  const started = Date.now();
  try {
    await env.drop.ensure(fault.shape);
    // A fault strikes a converged workload, so what follows is the fault's doing.
    await untilConverged(env, 300_000);
    const did = await fault.run(env);
    const convergedMs = await untilConverged(env, fault.convergeWithinMs).catch((error: Error) => error);
    await env.watcher.drain();
    const violations = env.watcher.since(started).map((v) => `${v.invariant}: ${v.message}`);
    const checked = checkedSince(env, before);
    if (convergedMs instanceof Error)
      return { ...base, did, violations, checked, error: convergedMs.message };
    return { ...base, did, convergedMs, violations, checked };
  } catch (error) {
    await env.watcher.drain();
    return {
      ...base,
      did: '',
      violations: env.watcher.since(started).map((v) => `${v.invariant}: ${v.message}`),
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

function describeRow(row: Row): string {
  const converged =
    row.convergedMs === undefined ? 'not converged' : `converged in ${(row.convergedMs / 1000).toFixed(1)} s`;
  return `${row.fault}: ${row.error ?? row.did}; ${converged}; ${row.violations.length} violations`;
}
