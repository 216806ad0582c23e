import { API_VERSION } from '../api/index.ts';
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
  /** Writes the counts still held back (for a clean shutdown, and for tests). */
  flush(): Promise<void>;
}

interface Known {
  readonly resourceVersion: string;
  readonly count: number;
}

/** One Event this process writes to: what it knows of it and what it has not written yet. */
interface Series {
  known?: Known;
  /** Occurrences not written yet, and the latest time one was seen. */
  pending: number;
  lastObserved?: Date;
  writtenAt: number;
  /** A write of the pending count, due at the end of the window. */
  scheduled?: { readonly timer: NodeJS.Timeout; readonly run: () => Promise<void> };
  flushing?: Promise<void>;
}

const ATTEMPTS = 3;
/** Events this process remembers; beyond it, the oldest go. */
const REMEMBERED = 4096;
/**
 * A series is written at most this often per process: repeats in between are counted and written
 * together (client-go's recorder writes a running series only every 30 minutes; a function that may
 * scale to zero cannot hold counts that long, and `kubectl describe` should not lag much).
 */
export const SERIES_WRITE_MS = 5_000;

/**
 * A recorder for one controller (`drop-reconcile-image`, the "From" of kubectl describe). The first
 * occurrence of a series is written at once; repeats within SERIES_WRITE_MS are counted and written
 * together. A process that has not seen a series reads it first (GET) and counts into it, so
 * replicas share one Event; a series the API server has dropped (its event TTL) starts again.
 * lib/controller/event-series.ts says why the API server, not the process, keeps the series.
 */
export function eventRecorder(controller: string, log?: Logger): EventRecorder {
  const series = new Map<string, Series>();
  const reporter = { controller, instance: controller };

  const write = async (
    kube: Kube,
    regarding: Regarding,
    occurrence: Occurrence,
    entry: Series,
    count: number,
  ) => {
    const name = eventName(regarding, occurrence, controller);
    const path = paths.kubeEvent(eventNamespace(regarding), name);
    const now = entry.lastObserved ?? new Date();
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const existing = entry.known ?? (await read(kube, path));
      if (!existing) {
        const created = await kube.create(
          paths.kubeEvents(eventNamespace(regarding)),
          newEvent(regarding, { ...occurrence, count }, reporter, now),
        );
        if (created) {
          entry.known = knownOf(created);
          return;
        }
        continue; // Another replica created it a moment ago: count into theirs.
      }
      try {
        entry.known = knownOf(await kube.mergePatch<KubeEvent>(path, seriesPatch(existing, count, now)));
        return;
      } catch (error) {
        entry.known = undefined;
        // 409: another replica counted since; 404: the API server's event TTL removed it.
        if (!(error instanceof KubeError) || !['conflict', 'not-found'].includes(error.kind)) throw error;
      }
    }
    throw new Error(`event ${name} kept changing under us (${ATTEMPTS} attempts)`);
  };

  const writePending = (kube: Kube, regarding: Regarding, occurrence: Occurrence, entry: Series) => {
    const count = entry.pending;
    entry.pending = 0;
    entry.writtenAt = Date.now();
    entry.flushing = write(kube, regarding, occurrence, entry, count)
      .catch((error: unknown) => {
        log?.warn('event not recorded', {
          object: `${regarding.kind}/${regarding.name}`,
          reason: occurrence.reason,
          error: error instanceof Error ? error.message : String(error),
        });
      })
      .finally(() => {
        entry.flushing = undefined;
      });
    return entry.flushing;
  };

  const entryFor = (name: string): Series => {
    let entry = series.get(name);
    if (!entry) {
      entry = { pending: 0, writtenAt: 0 };
      series.set(name, entry);
      if (series.size > REMEMBERED) series.delete(series.keys().next().value as string);
    }
    return entry;
  };

  const unschedule = (entry: Series) => {
    const scheduled = entry.scheduled;
    if (scheduled) clearTimeout(scheduled.timer);
    entry.scheduled = undefined;
    return scheduled;
  };

  return {
    async record(kube, regarding, occurrences, now) {
      for (const occurrence of occurrences) {
        const entry = entryFor(eventName(regarding, occurrence, controller));
        entry.pending += occurrence.count ?? 1;
        entry.lastObserved = now;
        await entry.flushing;
        const wait = entry.writtenAt + SERIES_WRITE_MS - Date.now();
        if (entry.known === undefined || wait <= 0) {
          unschedule(entry);
          if (entry.pending > 0) await writePending(kube, regarding, occurrence, entry);
          continue;
        }
        if (entry.scheduled) continue;
        const run = async () => {
          unschedule(entry);
          if (entry.pending > 0) await writePending(kube, regarding, occurrence, entry);
        };
        // unref: a process that exits does not wait for a count (flush() writes it on a clean stop).
        entry.scheduled = { timer: setTimeout(() => void run(), wait).unref(), run };
      }
    },
    async flush() {
      const due = [...series.values()].flatMap((entry) => entry.scheduled ?? []);
      await Promise.all(due.map((scheduled) => scheduled.run()));
      await Promise.all([...series.values()].map((entry) => entry.flushing));
    },
  };
}

function knownOf(event: KubeEvent): Known {
  return { resourceVersion: event.metadata.resourceVersion ?? '', count: occurrencesOf(event) };
}

async function read(kube: Kube, path: string): Promise<Known | undefined> {
  const event = await kube.get<KubeEvent>(path);
  return event && knownOf(event);
}

/** An object of Drop's API as its Events refer to it (kubectl describe finds them by uid). */
export function regardingOf(
  kind: string,
  object: { readonly metadata: { readonly name: string; readonly uid?: string } },
): Regarding {
  return { apiVersion: API_VERSION, kind, name: object.metadata.name, uid: object.metadata.uid ?? '' };
}
