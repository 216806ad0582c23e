import { availableParallelism, loadavg } from 'node:os';
import { DEFAULT_PACING_LIMITS } from '../lib/policy/index.ts';
import { coldstart } from './coldstart.ts';
import { benchEventPath } from './event-path.ts';
import { benchEventRequest } from './event-request.ts';
import { benchPacing } from './pacing.ts';
import { benchRound } from './round.ts';
import { benchScale, type DropShape, type PullModel, type ScaleResult } from './scale.ts';
import { missedTargets, tableOf } from './scale-report.ts';

process.env.DROP_LOG_LEVEL ??= 'warn';
const log = (line: string) => console.error(line);

// `npm run bench` runs every benchmark; `npm run bench -- coldstart` (or BENCH=coldstart) one of them.
const BENCHES: Record<string, () => Promise<boolean>> = {
  pacing,
  coldstart: () => coldstart(log),
  events,
  round,
  scale,
};
// The scale bench takes an hour or more: only when asked for by name.
const ON_REQUEST = new Set(['scale']);
const selected = process.argv[2] ?? process.env.BENCH;
if (selected && !BENCHES[selected]) {
  log(`unknown benchmark ${JSON.stringify(selected)}; choose one of: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
let ok = true;
for (const [name, bench] of Object.entries(BENCHES)) {
  if (selected === name || (!selected && !ON_REQUEST.has(name))) ok = (await bench()) && ok;
}
process.exit(ok ? 0 : 1);

async function events(): Promise<boolean> {
  const result = await benchEventPath();
  const ratio = result.parseUs / result.sdkUs;
  const request = await benchEventRequest();
  console.log(
    [
      `events.parse_cpu_us        ${result.parseUs.toFixed(1)}   (parseEvent, a Reference-mode pod update in binary mode)`,
      `events.parse_vs_sdk        ${ratio.toFixed(2)}   (the CloudEvents SDK's reader and validation: ${result.sdkUs.toFixed(1)} µs; target ≤ 0.50)`,
      `events.request_cpu_us      ${request.functionUs.toFixed(0)}   (reconcile-image's process, per event: a pull pod's marked-deleted update, Resource mode, ${request.bodyBytes} bytes)`,
      `events.request_vs_bare     ${(request.functionUs / request.bareUs).toFixed(2)}   (bare node:http reading and parsing the same requests: ${request.bareUs.toFixed(0)} µs)`,
    ].join('\n'),
  );
  return ratio <= 0.5;
}

async function round(): Promise<boolean> {
  const result = benchRound();
  console.log(
    `round.cpu_ms               ${result.cpuMsPerRound.toFixed(2)}   (one pace round, 1,000 nodes x 20 images: ${result.pendingPairs} pairs pending, ${result.pods} pull pods, ${result.startsPerRound} starts)`,
  );
  return true;
}

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

async function scale(): Promise<boolean> {
  // 1,000 kwok nodes x 20 images, 5 s pulls, maxConcurrentNodes 20: every pull model, per-node cap
  // and shape of Drop. BENCH_MODELS, BENCH_CAPS, BENCH_SHAPES pick some; BENCH_IDLE_MINUTES (default
  // 10) is measured after the first run only.
  const list = (name: string, fallback: string) =>
    (process.env[name] ?? fallback).split(',').map((s) => s.trim());
  const runs = list('BENCH_MODELS', 'fixed,bandwidth').flatMap((model) =>
    list('BENCH_CAPS', '1,3').flatMap((cap) =>
      list('BENCH_SHAPES', 'standalone,functions').map((shape) => ({
        model: model as PullModel,
        perNode: Number(cap),
        shape: shape as DropShape,
      })),
    ),
  );
  const results: ScaleResult[] = [];
  let ok = true;
  for (const [i, run] of runs.entries()) {
    const result = await benchScale(
      {
        nodes: Number(process.env.BENCH_NODES) || 1000,
        images: Number(process.env.BENCH_IMAGES) || 20,
        pullSeconds: Number(process.env.BENCH_PULL_SECONDS) || 5,
        maxConcurrentNodes: Number(process.env.BENCH_MAX_NODES) || 20,
        idleMinutes: i === 0 ? Number(process.env.BENCH_IDLE_MINUTES ?? 10) : 0,
        ...run,
      },
      log,
    );
    results.push(result);
    const missed = missedTargets(result);
    console.log(
      `scale.run ${JSON.stringify({ ...result.workload, ratio: result.ratio, load: result.load, observedRatio: result.observedRatio, pullMs: result.pullMs, nodeIdleMs: result.nodeIdleMs, slotOccupancy: result.slotOccupancy, requestsPerPull: result.audit.requests / result.pulls, byVerb: result.audit.byVerb, usage: result.usage, largestStatusBytes: result.largestStatusBytes, events: result.events, podsCreated: result.audit.podsCreated, idle: result.idle, missed })}`,
    );
    ok = ok && missed.length === 0;
  }
  console.log(
    tableOf(
      results,
      `${loadavg()
        .map((n) => n.toFixed(1))
        .join(' ')} on ${availableParallelism()} CPUs`,
    ),
  );
  return ok;
}
