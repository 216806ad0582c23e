// The table `npm run chaos` prints: one row per fault.
export interface Row {
  readonly fault: string;
  readonly shape: string;
  readonly did: string;
  /** ms from the fault's end to convergence; undefined when it did not converge. */
  readonly convergedMs?: number | undefined;
  readonly withinMs: number;
  readonly violations: readonly string[];
  readonly error?: string | undefined;
  /** What the checks saw from the fault's start to convergence. */
  readonly checked?: string | undefined;
}

/** Whether the row passes: converged in time, no violation. */
export function passed(row: Row): boolean {
  return row.error === undefined && row.convergedMs !== undefined && row.violations.length === 0;
}

/** A Markdown table (it goes into the README as printed), then every violation and error in full. */
export function formatReport(rows: readonly Row[], loadAverage: readonly number[]): string {
  const lines = [
    '| fault | Drop as | what Drop did | converged in (stated) | checked | violations |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.fault} | ${r.shape} | ${r.error ? `**failed**: ${r.error}` : r.did} | ${
          r.convergedMs === undefined ? '**no**' : `${(r.convergedMs / 1000).toFixed(1)} s`
        } (${Math.round(r.withinMs / 1000)} s) | ${r.checked ?? ''} | ${r.violations.length} |`,
    ),
    '',
    `load average ${loadAverage.map((l) => l.toFixed(2)).join(' ')}; ${rows.filter(passed).length} of ${rows.length} passed`,
  ];
  for (const row of rows)
    for (const v of row.violations.slice(0, 20)) lines.push(`violation in ${row.fault}: ${v}`);
  return lines.join('\n');
}
