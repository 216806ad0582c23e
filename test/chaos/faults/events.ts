// Faults 3 and 4: the ApiServerSource adapter restarted (the events meanwhile are lost; pings and
// the functions' watches repair), and every event duplicated, reordered and delayed, or half of
// them dropped, by the event proxy between the adapters and the functions.

import type { Fault } from '../fault.ts';
import { seconds, untilPulling } from '../fault.ts';
import type { EventMode } from '../proxies/event-proxy.ts';
import { startWave } from '../workload.ts';

function eventFault(name: string, title: string, mode: EventMode, convergeWithinMs: number): Fault {
  return {
    name,
    title,
    shape: 'functions',
    convergeWithinMs,
    async run(env) {
      // Pulls in flight first: with events dropped, the wave itself might wait for the next tick.
      await startWave(env.kube);
      await untilPulling(env, 4);
      const before = { ...env.events.counts };
      env.events.mode = mode;
      const started = Date.now();
      try {
        await new Promise((r) => setTimeout(r, 20_000));
      } finally {
        env.events.mode = 'pass';
      }
      const received = env.events.counts.received - before.received;
      const sent = env.events.counts.sent - before.sent;
      const dropped = env.events.counts.dropped - before.dropped;
      return `${received} events in ${seconds(Date.now() - started)}: ${sent} delivered, ${dropped} dropped`;
    },
  };
}

export const duplicateEvents = eventFault('duplicate-events', 'every event duplicated', 'duplicate', 180_000);
export const reorderEvents = eventFault(
  'reorder-events',
  'events reordered and delayed (0–3 s)',
  'reorder',
  180_000,
);
// A lost event is repaired by the functions' own watches or, at worst, the next PingSource tick
// (every 5 minutes): the stated time covers one full tick.
export const dropHalfEvents = eventFault('drop-half-events', 'half the events dropped', 'drop-half', 420_000);

export const adapterRestart: Fault = {
  name: 'adapter-restart',
  title: 'ApiServerSource adapters killed (-9) mid-pull, restarted 20 s later',
  shape: 'functions',
  // What happened while they were down reaches the functions through their own watches or the
  // next PingSource tick (every 5 minutes).
  convergeWithinMs: 420_000,
  async run(env) {
    await startWave(env.kube);
    await untilPulling(env, 4);
    const adapters = env.drop.running.filter((r) => r.restartAdapter);
    const before = env.events.counts.received;
    // Killed first, all of them; started again after the pause: events meanwhile are lost.
    const pause = new Promise((r) => setTimeout(r, 20_000));
    await Promise.all(adapters.map((r) => r.restartAdapter?.({ pauseFor: pause })));
    return `${adapters.length} adapters down 20 s with pulls in flight; ${env.events.counts.received - before} events after`;
  },
};
