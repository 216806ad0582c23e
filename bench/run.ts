import { DEFAULT_PACING_LIMITS } from '../lib/pacing/index.ts';
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
  // 100 nodes x 10 images, 2 s pulls: per image 10 waves of 10 nodes; per node 10 pulls in a row.
  const workload = {
    nodes: Number(process.env.BENCH_NODES) || 100,
    images: Number(process.env.BENCH_IMAGES) || 10,
    pullSeconds: Number(process.env.BENCH_PULL_SECONDS) || 2,
    limits: {
      ...DEFAULT_PACING_LIMITS,
      maxConcurrentNodes: 10,
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
      `pacing.api_requests_per_pull ${result.requestsPerPull.toFixed(1)}   (${result.apiRequests} requests / ${result.pulls} pulls)`,
    ].join('\n'),
  );
  return true;
}
