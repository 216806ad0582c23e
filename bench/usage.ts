import { readFileSync } from 'node:fs';

/** One process's peak RSS (VmHWM) and CPU seconds. */
export interface ProcessUsage {
  readonly peakRssMb: number;
  readonly cpuSeconds: number;
}

export interface Usage {
  /** The largest peak RSS among Drop's processes. */
  readonly peakRssMb: number;
  /** User and system CPU of all of them. */
  readonly cpuSeconds: number;
  readonly byProcess: Record<string, ProcessUsage>;
  /**
   * The ApiServerSource adapters that feed the functions, by function: Knative's processes, not
   * Drop's, and always up — outside the figures above, and part of what the functions cost.
   */
  readonly adapters?: Record<string, ProcessUsage>;
}

/** USER_HZ: the unit of utime and stime in /proc/<pid>/stat on Linux. */
const TICKS_PER_SECOND = 100;

/** A running process's peak RSS (VmHWM) and CPU seconds so far, from /proc. */
export function processUsage(pid: number): ProcessUsage {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  // The command may contain spaces and parentheses: fields are counted after the last ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  return { peakRssMb: hwm / 1024, cpuSeconds: ticks / TICKS_PER_SECOND };
}

/** What one function was sent, what of it caused work, and what its own watches handled besides. */
export interface FunctionEvents {
  readonly received: number;
  readonly work: number;
  /** Changes its followed informers saw, handled in-process (drop_followed_changes_total). */
  readonly followed: number;
}

/**
 * Events a Drop process was sent (drop_events_total), those that caused work (done), and those its
 * runner coalesced; the first two by function as well (the runner hosts all four), with the changes
 * each function's own watches handled besides (drop_followed_changes_total).
 */
export async function scrapeEvents(port: number): Promise<{
  received: number;
  work: number;
  coalesced: number;
  byFunction: Record<string, FunctionEvents>;
}> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
    (r) => r.text(),
    () => '',
  );
  let received = 0;
  let work = 0;
  let coalesced = 0;
  const byFunction: Record<string, { received: number; work: number; followed: number }> = {};
  const countsOf = (line: string) => {
    const name = /function="([^"]*)"/.exec(line)?.[1] ?? '';
    const counts = byFunction[name] ?? { received: 0, work: 0, followed: 0 };
    byFunction[name] = counts;
    return counts;
  };
  for (const line of text.split('\n')) {
    const value = Number(line.split(' ').at(-1));
    if (line.startsWith('drop_events_total{')) {
      const done = line.includes('result="done"');
      received += value;
      if (done) work += value;
      const counts = countsOf(line);
      counts.received += value;
      if (done) counts.work += value;
    }
    if (line.startsWith('drop_followed_changes_total{')) countsOf(line).followed += value;
    if (line.startsWith('drop_runner_events_total{') && line.includes('outcome="coalesced"'))
      coalesced += value;
  }
  return { received, work, coalesced, byFunction };
}
