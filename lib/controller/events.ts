import type { Kube } from '../kube/client.ts';
import { KubeError } from '../kube/errors.ts';
import { paths } from '../kube/paths.ts';
import type { Logger } from '../log.ts';
import {
  eventName,
  eventNamespace,
  type KubeEvent,
  newEvent,
  type Occurrence,
  occurrencesOf,
  type Regarding,
  seriesPatch,
} from './event-series.ts';

export type { Occurrence, Regarding } from './event-series.ts';

/** Records Kubernetes Events about objects; never throws (events are advice, not state). */
export interface EventRecorder {
  record(kube: Kube, regarding: Regarding, occurrences: readonly Occurrence[], now: Date): Promise<void>;
}

interface Known {
  readonly resourceVersion: string;
  readonly count: number;
}

const ATTEMPTS = 3;
/** Events this process remembers (name → resourceVersion and count); beyond it, the oldest go. */
const REMEMBERED = 4096;

/**
 * A recorder for one controller (`drop-reconcile-image`, the Reason's "From" in kubectl describe).
 * It remembers each Event it wrote, so the next occurrence of a series costs one PATCH; a process
 * that has not seen the series yet reads it first (GET), and a series the API server has dropped
 * (its event TTL, an hour by default) starts again (POST). lib/controller/event-series.ts says why.
 */
export function eventRecorder(controller: string, log?: Logger): EventRecorder {
  const known = new Map<string, Known>();
  const remember = (name: string, event: KubeEvent) => {
    known.delete(name);
    known.set(name, { resourceVersion: event.metadata.resourceVersion ?? '', count: occurrencesOf(event) });
    if (known.size > REMEMBERED) known.delete(known.keys().next().value as string);
  };
  const reporter = { controller, instance: controller };
  const recordOne = async (kube: Kube, regarding: Regarding, occurrence: Occurrence, now: Date) => {
    const name = eventName(regarding, occurrence, controller);
    const path = paths.kubeEvent(eventNamespace(regarding), name);
    const count = occurrence.count ?? 1;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const existing = known.get(name) ?? (await read(kube, path));
      if (!existing) {
        const created = await kube.create(
          paths.kubeEvents(eventNamespace(regarding)),
          newEvent(regarding, occurrence, reporter, now),
        );
        if (created) return remember(name, created);
        continue; // Another replica created it a moment ago: count into theirs.
      }
      try {
        return remember(name, await kube.mergePatch<KubeEvent>(path, seriesPatch(existing, count, now)));
      } catch (error) {
        known.delete(name);
        // 409: another replica counted since; 404: the API server's event TTL removed it.
        if (!(error instanceof KubeError) || !['conflict', 'not-found'].includes(error.kind)) throw error;
      }
    }
    throw new Error(`event ${name} kept changing under us (${ATTEMPTS} attempts)`);
  };
  return {
    async record(kube, regarding, occurrences, now) {
      for (const occurrence of occurrences) {
        try {
          await recordOne(kube, regarding, occurrence, now);
        } catch (error) {
          log?.warn('event not recorded', {
            object: `${regarding.kind}/${regarding.name}`,
            reason: occurrence.reason,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
    },
  };
}

async function read(kube: Kube, path: string): Promise<Known | undefined> {
  const event = await kube.get<KubeEvent>(path);
  return event && { resourceVersion: event.metadata.resourceVersion ?? '', count: occurrencesOf(event) };
}
