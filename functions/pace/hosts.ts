// The registry hosts as the pacer sees them, cluster-wide: a host's record (the pause a throttle
// set, the starts of the last hour) is kept in memory, taken from the pull pods every holder of
// the process watches, and kept in a Lease per host, `drop-registry-<host>` in the Drop namespace,
// so every replica and a restarted pacer agree. The rules are lib/pacing/hosts.ts.
import { createHash } from 'node:crypto';
import type { CachedImage, PullPolicy } from '../../lib/api/index.ts';
import { parseImageReference } from '../../lib/image-ref.ts';
import { type Kube, KubeError, type KubeObject, type Pod, paths } from '../../lib/kube/index.ts';
import {
  afterThrottle,
  EMPTY_HOST_RECORD,
  type HostCap,
  type HostRecord,
  type HostState,
  hostBudget,
  hostCaps,
  inFlightOf,
  isThrottle,
  RESERVATION_MS,
  withStarts,
} from '../../lib/pacing/index.ts';
import { pullOutcome } from '../../lib/pull-pod.ts';

/** Label on every host Lease: its value is the host's slug; the annotation has the host itself. */
export const REGISTRY_HOST_LABEL = 'drop.corewire.io/registry-host';
export const HOST_ANNOTATION = 'drop.corewire.io/registry-host';
/** The host's record (lib/pacing/hosts.ts HostRecord) as JSON. */
export const RECORD_ANNOTATION = 'drop.corewire.io/registry-record';
/** How often the Leases are read again, for what other replicas wrote. */
const RELOAD_MS = 10_000;
/** When a host's Lease kept changing during a reservation, the refused pulls are tried again after this. */
const LEASE_BUSY_RETRY_MS = 1_000;

interface HostLease extends KubeObject {
  readonly spec?: Record<string, unknown>;
}

/** The registry host of a reference (`docker.io`, `registry.example:5000`), if it parses. */
export function hostOf(reference: string | undefined): string | undefined {
  if (!reference) return undefined;
  if (hosts.has(reference)) return hosts.get(reference);
  const parsed = parseImageReference(reference);
  const host = parsed.ok ? parsed.ref.registry : undefined;
  // A fleet pulls a few hundred references at most; a bound keeps a changing set from growing it.
  if (hosts.size >= 1_000) hosts.clear();
  hosts.set(reference, host);
  return host;
}

// Each round asks for the host of every pull in flight and every image.
const hosts = new Map<string, string | undefined>();

/** The Lease of a host: a DNS label, unique per host (a hash of it), readable (its slug). */
export function hostLeaseName(host: string): string {
  const hash = createHash('sha256').update(host).digest('hex').slice(0, 8);
  const slug = host
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `drop-registry-${slug}-${hash}`;
}

/** Two records of one host as one: the later pause, every start, the longer run of throttles. */
export function mergeRecords(a: HostRecord, b: HostRecord): HostRecord {
  const throttledPulls = [...new Set([...(a.throttledPulls ?? []), ...(b.throttledPulls ?? [])])].slice(-32);
  const reservations = new Map(
    [...(a.reservations ?? []), ...(b.reservations ?? [])].map((r) => [r.pod, r] as const),
  );
  const pausedUntil = Math.max(a.pausedUntil ?? 0, b.pausedUntil ?? 0);
  const throttles = Math.max(a.throttles ?? 0, b.throttles ?? 0);
  const reason =
    (a.pausedUntil ?? 0) >= (b.pausedUntil ?? 0) ? (a.reason ?? b.reason) : (b.reason ?? a.reason);
  return {
    starts: [...new Set([...a.starts, ...b.starts])].sort((x, y) => x - y),
    ...(pausedUntil > 0 ? { pausedUntil } : {}),
    ...(throttles > 0 ? { throttles } : {}),
    ...(reason ? { reason } : {}),
    ...(reservations.size > 0 ? { reservations: [...reservations.values()] } : {}),
    ...(throttledPulls.length > 0 ? { throttledPulls } : {}),
  };
}

/**
 * When a refused pull may start without any event to say so: the earliest reservation of a pod
 * this replica does not know ages out (RESERVATION_MS), or the host's pause ends.
 */
function freesAt(record: HostRecord, known: (pod: string) => boolean, now: number): number | undefined {
  const times = [
    ...(record.reservations ?? []).filter((r) => !known(r.pod)).map((r) => r.at + RESERVATION_MS),
    ...(record.pausedUntil !== undefined && record.pausedUntil > now ? [record.pausedUntil] : []),
  ];
  return times.length > 0 ? Math.min(...times) : undefined;
}

function parseRecord(text: string | undefined): HostRecord {
  try {
    const parsed = JSON.parse(text ?? '') as Partial<HostRecord>;
    return {
      starts: Array.isArray(parsed.starts) ? parsed.starts.filter((s) => typeof s === 'number') : [],
      ...(typeof parsed.pausedUntil === 'number' ? { pausedUntil: parsed.pausedUntil } : {}),
      ...(typeof parsed.throttles === 'number' ? { throttles: parsed.throttles } : {}),
      ...(typeof parsed.reason === 'string' ? { reason: parsed.reason } : {}),
      ...(Array.isArray(parsed.throttledPulls)
        ? { throttledPulls: parsed.throttledPulls.filter((p) => typeof p === 'string') }
        : {}),
      ...(Array.isArray(parsed.reservations)
        ? {
            reservations: parsed.reservations.filter(
              (r) => typeof r?.pod === 'string' && typeof r?.at === 'number',
            ),
          }
        : {}),
    };
  } catch {
    return EMPTY_HOST_RECORD;
  }
}

/** The hosts of one process: records by host, the pods already counted, the Leases to write. */
export class RegistryHosts {
  readonly #records = new Map<string, HostRecord>();
  readonly #counted = new Set<string>();
  #loadedAt = 0;

  constructor(
    private readonly kube: Kube,
    private readonly namespace: string,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  record(host: string): HostRecord {
    return this.#records.get(host) ?? EMPTY_HOST_RECORD;
  }

  /**
   * A pull pod changed: a throttled failure pauses its host (once per pod, whichever holder sees
   * it first) and is written to the host's Lease. Returns whether the host's record changed.
   */
  observePod(pod: Pod, now: number): boolean {
    const outcome = pullOutcome(pod);
    if (outcome.kind !== 'failed' || !isThrottle(outcome.message)) return false;
    const id = pod.metadata.uid ?? pod.metadata.name;
    if (this.#counted.has(id)) return false;
    this.#counted.add(id);
    const host = hostOf(pod.spec?.containers[0]?.image);
    if (!host) return false;
    const before = this.record(host);
    const after = afterThrottle(before, now, outcome.message, id);
    if (after === before) return false;
    this.#records.set(host, after);
    this.#persist(host);
    return true;
  }

  /**
   * The throttles reconcile-image recorded in the images' status: a pull that ended while no
   * holder of this process watched (none was serving) still pauses its host, from when it was
   * recorded. Each pull counts once, here or in observePod, on any replica (the Lease keeps which).
   */
  observeImages(images: readonly CachedImage[]): void {
    for (const image of images) {
      const throttle = image.status?.throttle;
      if (!throttle?.host || this.#counted.has(throttle.pull)) continue;
      this.#counted.add(throttle.pull);
      const before = this.record(throttle.host);
      const at = Date.parse(throttle.at);
      const after = afterThrottle(before, Number.isNaN(at) ? 0 : at, throttle.message, throttle.pull);
      if (after === before) continue;
      this.#records.set(throttle.host, after);
      this.#persist(throttle.host);
    }
  }

  /**
   * Reserves slots of a capped host for these pods (in the order decided) before they are created:
   * the host's Lease is read, what every replica reserved and the pods this one sees pulling are
   * counted against the cap, and the reservation is written with the resourceVersion read, so of two
   * replicas reserving at once the second reads the first's. Returns the pods that may be created.
   *
   * `inFlight` says which pods this replica sees pulling and which it knows; it is asked after each
   * read of the Lease, in one go. Asked before, a pod another replica created meanwhile could be
   * known by the time its reservation is judged (so the reservation no longer counts) and yet be
   * missing from the pulling count: two pulls at once under a cap of one, beside a CPU hog.
   *
   * Pods refused come with `retryAt`, when a slot frees without any event saying so: the earliest
   * counted reservation ages out, or the host's pause ends (a pull that ends sends its own event).
   */
  async reserve(
    host: string,
    pods: readonly string[],
    cap: HostCap,
    inFlight: () => { readonly pulling: number; readonly known: (pod: string) => boolean },
    now: number,
  ): Promise<{ readonly granted: readonly string[]; readonly retryAt?: number }> {
    const name = hostLeaseName(host);
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.kube.get<HostLease>(paths.lease(this.namespace, name));
      const { pulling, known } = inFlight();
      const merged = mergeRecords(
        this.record(host),
        parseRecord(current?.metadata.annotations?.[RECORD_ANNOTATION]),
      );
      const fresh = (merged.reservations ?? []).filter((r) => now - r.at < RESERVATION_MS);
      const record: HostRecord = { ...merged, reservations: fresh };
      const budget = hostBudget(cap, record, inFlightOf(record, pulling, known, now), now);
      const granted = pods.slice(0, Math.max(0, Math.min(pods.length, budget)));
      const retryAt = granted.length < pods.length ? freesAt(record, known, now) : undefined;
      const answer = { granted, ...(retryAt !== undefined ? { retryAt } : {}) };
      if (granted.length === 0) {
        this.#records.set(host, record);
        return answer;
      }
      const next: HostRecord = {
        ...withStarts(record, granted.length, now),
        reservations: [...fresh, ...granted.map((pod) => ({ pod, at: now }))],
      };
      if (await this.#put(name, host, current, next)) {
        this.#records.set(host, next);
        return answer;
      }
    }
    // The Lease kept changing under us: start nothing from this host in this round; try again soon.
    return { granted: [], retryAt: now + LEASE_BUSY_RETRY_MS };
  }

  /** What the other replicas wrote, read again at most every RELOAD_MS. */
  async reload(now: number): Promise<void> {
    if (now - this.#loadedAt < RELOAD_MS) return;
    this.#loadedAt = now;
    const leases = await this.kube.list<HostLease>(paths.leases(this.namespace), {
      labelSelector: REGISTRY_HOST_LABEL,
    });
    for (const lease of leases.items) {
      const host = lease.metadata.annotations?.[HOST_ANNOTATION];
      if (host)
        this.#records.set(
          host,
          mergeRecords(this.record(host), parseRecord(lease.metadata.annotations?.[RECORD_ANNOTATION])),
        );
    }
  }

  /**
   * The host states a round paces against: every host with a cap or a record, with its pulls in
   * flight (every policy's pulling pods).
   */
  states(
    policies: readonly PullPolicy[],
    pods: readonly Pod[],
  ): {
    readonly hosts: ReadonlyMap<string, HostState>;
    readonly caps: ReadonlyMap<string, HostCap>;
  } {
    const caps = hostCaps(
      policies.map((p) => ({ policy: p.metadata.name, registries: p.spec?.registries ?? [] })),
    );
    const inFlight = new Map<string, number>();
    for (const pod of pods) {
      if (pullOutcome(pod).kind !== 'pulling') continue;
      const host = hostOf(pod.spec?.containers[0]?.image);
      if (host) inFlight.set(host, (inFlight.get(host) ?? 0) + 1);
    }
    const hosts = new Map<string, HostState>();
    for (const host of new Set([...caps.keys(), ...this.#records.keys()])) {
      const cap = caps.get(host);
      hosts.set(host, {
        ...(cap ? { cap } : {}),
        record: this.record(host),
        inFlight: inFlight.get(host) ?? 0,
      });
    }
    return { hosts, caps };
  }

  // Read, merge, write with the resourceVersion read; a conflict (another replica wrote) reads again.
  #persist(host: string): void {
    void this.#write(host).catch(this.onError);
  }

  async #write(host: string): Promise<void> {
    const name = hostLeaseName(host);
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.kube.get<HostLease>(paths.lease(this.namespace, name));
      const merged = mergeRecords(
        this.record(host),
        parseRecord(current?.metadata.annotations?.[RECORD_ANNOTATION]),
      );
      this.#records.set(host, merged);
      if (await this.#put(name, host, current, merged)) return;
    }
  }

  /** Creates or replaces the host's Lease with the resourceVersion read; false when another wrote first. */
  async #put(
    name: string,
    host: string,
    current: HostLease | undefined,
    record: HostRecord,
  ): Promise<boolean> {
    const metadata = {
      name,
      namespace: this.namespace,
      labels: { [REGISTRY_HOST_LABEL]: name.slice('drop-registry-'.length) },
      annotations: { [HOST_ANNOTATION]: host, [RECORD_ANNOTATION]: JSON.stringify(record) },
    };
    try {
      if (!current) {
        const created = await this.kube.create(paths.leases(this.namespace), {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata,
          spec: {},
        });
        return created !== undefined;
      }
      await this.kube.replace(paths.lease(this.namespace, name), {
        ...current,
        metadata: { ...current.metadata, ...metadata, resourceVersion: current.metadata.resourceVersion },
      });
      return true;
    } catch (error) {
      if (error instanceof KubeError && error.kind === 'conflict') return false;
      throw error;
    }
  }
}
