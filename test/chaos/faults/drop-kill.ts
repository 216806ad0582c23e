// Fault 1: kill -9 of Drop mid-pull, and of the replica holding the leader Lease.
import type { Fault } from '../fault.ts';
import { seconds, until, untilPulling } from '../fault.ts';
import { startWave } from '../workload.ts';

export const killMidPull: Fault = {
  name: 'kill-mid-pull',
  title: 'kill -9 of Drop mid-pull (both replicas)',
  shape: 'replicas',
  convergeWithinMs: 180_000,
  async run(env) {
    await startWave(env.kube);
    const inFlight = await untilPulling(env, 4);
    await Promise.all(env.drop.running.map((r) => env.drop.kill(r)));
    const restarted = Date.now();
    await env.drop.ensure('replicas');
    const leader = await until(() => env.drop.leader(), 120_000, 'a new leader');
    return `${inFlight} pulls in flight when both died; restarted, ${leader.name} led after ${seconds(Date.now() - restarted)}`;
  },
};

export const killLeader: Fault = {
  name: 'kill-leader',
  title: 'kill -9 of the replica holding the Lease',
  shape: 'replicas',
  convergeWithinMs: 180_000,
  async run(env) {
    await startWave(env.kube);
    await untilPulling(env, 4);
    const leader = await until(() => env.drop.leader(), 60_000, 'a leader');
    await env.drop.kill(leader);
    const killed = Date.now();
    const standby = await until(
      async () => {
        const now = await env.drop.leader();
        return now && now !== leader ? now : undefined;
      },
      120_000,
      'the standby to take the Lease',
    );
    const takeover = Date.now() - killed;
    // As the kubelet would: the killed replica's pod starts again, as a standby.
    const replacement = await env.drop.replica(`${leader.name}'`);
    env.drop.running = [...env.drop.running.filter((r) => r !== leader), replacement];
    return `${standby.name} took the Lease ${seconds(takeover)} after ${leader.name} died (Lease 15 s)`;
  },
};
