// Fault 2: the API server restarted, the API server frozen (SIGSTOP) for 30 s, etcd restarted.
import { freezeComponent, restartComponent } from '../../controlplane/restart.ts';
import type { ChaosEnv } from '../env.ts';
import type { Fault } from '../fault.ts';
import { seconds, until, untilPulling } from '../fault.ts';
import { startWave } from '../workload.ts';

async function untilApiAnswers(env: ChaosEnv): Promise<number> {
  const from = Date.now();
  await until(
    async () => ((await env.kube.get('/api/v1/namespaces/default')) ? true : undefined),
    120_000,
    'the API server to answer',
  );
  return Date.now() - from;
}

// The watcher's watches break with the API server: a pull that ends meanwhile may be deleted unseen.
async function blind<T>(env: ChaosEnv, fn: () => Promise<T>): Promise<T> {
  env.watcher.blind(true);
  try {
    return await fn();
  } finally {
    env.watcher.blind(false);
  }
}

/** A control-plane component killed (-9) mid-pull and restarted; `back` says what answering means. */
function restartFault(name: string, component: 'kube-apiserver' | 'etcd', back: string): Fault {
  return {
    name,
    title: `${component} killed (-9) and restarted`,
    shape: 'replicas',
    convergeWithinMs: 180_000,
    async run(env) {
      await startWave(env.kube);
      const inFlight = await untilPulling(env, 4);
      const after = await blind(env, async () => {
        await restartComponent(env.plane.stateDir, component);
        return untilApiAnswers(env);
      });
      return `${inFlight} pulls in flight; ${back} after ${seconds(after)}`;
    },
  };
}

export const apiserverRestart = restartFault(
  'apiserver-restart',
  'kube-apiserver',
  'the API server answered again',
);

export const apiserverFrozen: Fault = {
  name: 'apiserver-frozen',
  title: 'kube-apiserver frozen (SIGSTOP) 30 s',
  shape: 'replicas',
  convergeWithinMs: 180_000,
  async run(env) {
    await startWave(env.kube);
    const inFlight = await untilPulling(env, 4);
    await blind(env, async () => {
      freezeComponent(env.plane.stateDir, 'kube-apiserver', true);
      try {
        await new Promise((r) => setTimeout(r, 30_000));
      } finally {
        freezeComponent(env.plane.stateDir, 'kube-apiserver', false);
      }
      await untilApiAnswers(env);
    });
    return `${inFlight} pulls in flight when it froze; thawed after 30 s`;
  },
};

export const etcdRestart = restartFault('etcd-restart', 'etcd', 'the API served again');
