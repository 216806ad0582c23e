import { availableParallelism, loadavg } from 'node:os';
import { DEFAULT_PACING_LIMITS } from '../lib/policy/index.ts';
import { coldstart } from './coldstart.ts';
import { benchPacing } from './pacing.ts';

process.env.DROP_LOG_LEVEL ??= 'warn';
const log = (line: string) => console.error(line);

// `npm run bench` runs every benchmark; `npm run bench -- coldstart` (or BENCH=coldstart) one of them.
const BENCHES: Record<string, () => Promise<boolean>> = { pacing, coldstart: () => coldstart(log) };
const selected = process.argv[2] ?? process.env.BENCH;
if (selected && !BENCHES[selected]) {
  log(`unknown benchmark ${JSON.stringify(selected)}; choose one of: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
let ok = true;
for (const [name, bench] of Object.entries(BENCHES)) {
  if (!selected || selected === name) ok = (await bench()) && ok;
}
process.exit(ok ? 0 : 1);

async function pacing(): Promise<boolean> {
  // 100 nodes x 10 images, 5 s pulls; each node pulls the 10 images one after another, so the node
  // limit binds (as bandwidth does in a real fleet). BENCH_MAX_NODES=10 makes image and node limits
  // bind at once (every node must find a partner slot the moment it frees: the harshest case).
  const workload = {
    nodes: Number(process.env.BENCH_NODES) || 100,
    images: Number(process.env.BENCH_IMAGES) || 10,
    pullSeconds: Number(process.env.BENCH_PULL_SECONDS) || 5,
    limits: {
      ...DEFAULT_PACING_LIMITS,
      maxConcurrentNodes: Number(process.env.BENCH_MAX_NODES) || 20,
      minDelayBetweenPullsMs: 100,
      maxConcurrentPullsPerNode: 1,
    },
  };
  log(
    `pacing: ${workload.nodes} kwok nodes x ${workload.images} images, ${workload.pullSeconds}s pulls, limits ${JSON.stringify(workload.limits)}`,
  );
  const result = await benchPacing(workload, log);
  console.log(
    [
      `pacing.converge_vs_bound   ${result.ratio.toFixed(3)}   (${(result.convergedMs / 1000).toFixed(1)} s vs bound ${(result.lowerBoundMs / 1000).toFixed(1)} s)`,
      `pacing.converge_vs_bound_at_observed_pull ${result.observedRatio.toFixed(3)}   (the bound at the median pull time kwok delivered)`,
      `pacing.pulls_done_vs_bound ${(result.pullsDoneMs / result.lowerBoundMs).toFixed(3)}   (last pull finished at ${(result.pullsDoneMs / 1000).toFixed(1)} s, kubelet time in whole seconds)`,
      `pacing.pull_ms             p50 ${result.pullMs.p50.toFixed(0)}  p90 ${result.pullMs.p90.toFixed(0)}   (creation to outcome; ${workload.pullSeconds * 1000} simulated, the rest is kwok)`,
      `pacing.node_idle_ms        p50 ${result.nodeIdleMs.p50.toFixed(0)}  p90 ${result.nodeIdleMs.p90.toFixed(0)}  max ${result.nodeIdleMs.max.toFixed(0)}   (a pull's outcome to the next pull on its node)`,
      `pacing.rounds              ${result.rounds.count}   (mean ${result.rounds.meanMs.toFixed(0)} ms each)`,
      `pacing.load_average        ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} CPUs (at the end of the run)`,
      `pacing.api_requests_per_pull ${result.requestsPerPull.toFixed(1)}   (${result.apiRequests} requests / ${result.pulls} pulls: ${Object.entries(
        result.requestsPerPullByFunction,
      )
        .map(([fn, n]) => `${fn} ${n.toFixed(1)}`)
        .join(', ')})`,
    ].join('\n'),
  );
  return true;
}
