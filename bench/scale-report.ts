import type { ScaleResult } from './scale.ts';

/** The targets of the scale bench (issue "Scale and cost"); each is a check a result passes or not. */
export function missedTargets(result: ScaleResult): string[] {
  const w = result.workload;
  const missed: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) missed.push(what);
  };
  const perPull = result.audit.requests / result.pulls;
  const cpuPer1000 = (result.usage.cpuSeconds / result.pulls) * 1000;
  check(result.ratio <= 1.5, `convergence ${result.ratio.toFixed(2)} × the bound (target ≤ 1.5)`);
  check(
    result.observedRatio <= 1.1,
    `${result.observedRatio.toFixed(2)} × the bound at kwok's pull time (target ≤ 1.10)`,
  );
  check(result.nodeIdleMs.p50 <= 1000, `node idle p50 ${result.nodeIdleMs.p50.toFixed(0)} ms (target ≤ 1 s)`);
  check(perPull <= 2, `${perPull.toFixed(2)} API requests per pull (target ≤ 2)`);
  check(cpuPer1000 <= 4, `${cpuPer1000.toFixed(1)} CPU s per 1,000 pulls (target ≤ 4)`);
  const rssTarget = w.shape === 'standalone' ? 100 : 80;
  check(
    result.usage.peakRssMb <= rssTarget,
    `peak RSS ${result.usage.peakRssMb.toFixed(0)} MB (target ≤ ${rssTarget})`,
  );
  check(
    result.largestStatusBytes <= 64 * 1024,
    `largest status ${result.largestStatusBytes} bytes (target ≤ 64 KiB)`,
  );
  check(
    result.audit.podsCreated === result.pulls,
    `${result.audit.podsCreated} pull pods for ${result.pulls} pulls needed`,
  );
  if (result.idle) {
    const hours = result.idle.minutes / 60;
    for (const [fn, n] of Object.entries(result.idle.invocations))
      check(
        n / hours <= 12,
        `idle: ${fn} woken ${n} times in ${result.idle.minutes} min (target ≤ 12 an hour)`,
      );
    const writes = Object.values(result.idle.writes).reduce((a, b) => a + b, 0);
    check(writes === 0, `idle: ${writes} API writes (target 0)`);
  }
  return missed;
}

/** One markdown table row per result, with the columns README and bench/README.md keep. */
export function tableOf(results: readonly ScaleResult[], loadAverage: string): string {
  const header = [
    "| workload | load | converged ÷ bound | ÷ bound at kwok's pull time | kwok pull p50 | node idle p50 | requests / pull | peak RSS | CPU s / 1,000 pulls | largest status | events: received / caused work / coalesced | pods ÷ pulls |",
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const rows = results.map((r) => {
    const w = r.workload;
    return `| ${w.nodes} × ${w.images}, ${w.model}, ${w.perNode}/node, ${w.shape} | ${r.load.toFixed(1)} | ${r.ratio.toFixed(2)} (${(r.convergedMs / 1000).toFixed(0)} s vs ${(r.lowerBoundMs / 1000).toFixed(0)} s) | ${r.observedRatio.toFixed(2)} | ${(r.pullMs.p50 / 1000).toFixed(1)} s | ${r.nodeIdleMs.p50.toFixed(0)} ms | ${(r.audit.requests / r.pulls).toFixed(2)} | ${r.usage.peakRssMb.toFixed(0)} MB | ${((r.usage.cpuSeconds / r.pulls) * 1000).toFixed(1)} | ${(r.largestStatusBytes / 1024).toFixed(1)} KiB | ${r.events.received} / ${r.events.work} / ${r.events.coalesced} | ${(r.audit.podsCreated / r.pulls).toFixed(3)} |`;
  });
  const idle = results
    .filter((r) => r.idle)
    .map(
      (r) =>
        `Idle ${r.idle?.minutes} min after convergence (${r.workload.shape}): invocations ${JSON.stringify(r.idle?.invocations)}, API writes ${JSON.stringify(r.idle?.writes)}.`,
    );
  return [
    `Load average at the end: ${loadAverage}; each run's as it converged in its row.`,
    '',
    ...header,
    ...rows,
    '',
    ...idle,
  ].join('\n');
}
