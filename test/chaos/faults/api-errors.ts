// Fault 5: the API server answering 429 and then 500 to a share of Drop's requests for a while
// (the API proxy in front of it; Drop's kubeconfig points at the proxy, the watcher's does not).

import type { Fault } from '../fault.ts';
import { until, untilPulling } from '../fault.ts';
import type { ApiFailure } from '../proxies/api-proxy.ts';
import { startWave } from '../workload.ts';

function apiFault(name: string, failure: ApiFailure): Fault {
  return {
    name,
    title: `API server answering ${failure.status} to ${failure.share * 100} % of Drop's requests for 30 s`,
    shape: 'replicas',
    convergeWithinMs: 180_000,
    async run(env) {
      await startWave(env.kube);
      await untilPulling(env, 2);
      const before = env.apiProxy.counts.failed;
      env.apiProxy.failing = failure;
      try {
        await new Promise((r) => setTimeout(r, 30_000));
      } finally {
        env.apiProxy.failing = undefined;
      }
      return `${env.apiProxy.counts.failed - before} requests answered ${failure.status}; Drop retried and went on`;
    },
  };
}

export const api429 = apiFault('api-429', { status: 429, share: 0.5 });
export const api500 = apiFault('api-500', { status: 500, share: 0.5 });

export const apiPartition: Fault = {
  name: 'api-partition',
  title: 'the network to the API server silently partitioned 20 s (open connections never answer again)',
  shape: 'replicas',
  // A silent watch is given up after lib/kube/watch.ts WATCH_IDLE_MS (3 min).
  convergeWithinMs: 360_000,
  async run(env) {
    await startWave(env.kube);
    await untilPulling(env, 2);
    const before = await env.drop.leader();
    env.apiProxy.stalled = true;
    try {
      await new Promise((r) => setTimeout(r, 20_000));
    } finally {
      env.apiProxy.stalled = false;
    }
    const after = await until(() => env.drop.leader(), 300_000, 'a leader');
    const leader =
      before === after
        ? `${after.name} kept the Lease`
        : `${before?.name ?? 'no replica'} lost the Lease (renewals failed), ${after.name} leads`;
    return `every open connection went silent for good; ${leader}`;
  },
};
