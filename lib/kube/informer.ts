import type { Kube, KubeObject } from './client.ts';
import { REQUEST_TIMEOUT_MS } from './http.ts';
import { runWatch, type WatchTarget } from './watch.ts';

/** What changed in an informer's cache; `before` is what it held (absent for an add). */
export interface Change<T> {
  readonly type: 'add' | 'update' | 'delete';
  readonly object: T;
  readonly before?: T | undefined;
}

export interface InformerSpec<T extends KubeObject> extends WatchTarget {
  /** Groups the objects by a value (e.g. the CachedImage a pull pod belongs to) for `indexed`. */
  readonly indexBy?: (object: T) => string | undefined;
  /**
   * Keeps what readers need of an object and drops the rest (managedFields always): at a thousand
   * nodes and pods the cache is most of a function's memory.
   */
  readonly trim?: (object: T) => T;
}

const SYNC_TIMEOUT_MS = 30_000;
/**
 * How long a deleted object's resourceVersion is kept, to refuse a write's answer that comes after
 * the watch reported the delete: twice the longest a request waits for its answer. It is also what
 * `deletedLately` remembers (pace counts a registry host's reservation for at most 30 s; a test
 * there holds the two). Each tombstone costs memory: at a thousand nodes ~50 pull pods end a
 * second, and five minutes of them was ~15,000 held in each function that watches pods.
 */
export const TOMBSTONE_MS = 2 * REQUEST_TIMEOUT_MS;

/**
 * A watch-backed cache of one collection — what client-go's informer is: list once, then keep up
 * from the watch, relist after a gap. Readers get what the API server said last, never something
 * newer than it; a writer records its answer with `observe` so the next reader sees its own write.
 */
export class Informer<T extends KubeObject> {
  readonly #objects = new Map<string, T>();
  readonly #index = new Map<string, Set<string>>();
  readonly #listeners = new Set<(change: Change<T>) => void>();
  /** Objects deleted lately: key → the resourceVersion of the delete, and when it was seen. */
  readonly #deleted = new Map<
    string,
    { readonly resourceVersion: string | undefined; readonly at: number }
  >();
  readonly #controller = new AbortController();
  readonly #synced: Promise<void>;
  #listed = false;
  #revision = 0;

  constructor(
    kube: Kube,
    readonly spec: InformerSpec<T>,
  ) {
    let listed!: () => void;
    let failed!: (error: unknown) => void;
    this.#synced = new Promise((resolve, reject) => {
      listed = resolve;
      failed = reject;
    });
    // Nobody may be waiting yet; a failure is reported by synced().
    this.#synced.catch(() => undefined);
    void runWatch(
      kube,
      kube.transport,
      spec,
      async (action, object) => this.#fromWatch(action, this.#trim(object as T)),
      this.#controller.signal,
      // Before the first list, the first failure fails synced(): the caller answers 503 at once
      // rather than making its sender wait; afterwards the watch just retries.
      (error) => failed(error),
      {
        emitListed: false,
        onListed: (objects) => {
          this.#replace(objects.map((o) => this.#trim(o as T)));
          this.#listed = true;
          listed();
        },
      },
    );
  }

  /** Resolves once the first list is in; rejects if it failed, or is not in within 30 s. */
  async synced(): Promise<void> {
    // Asked at every use of a view, several times an event: no timer once the list is in.
    if (this.#listed) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`${this.spec.kind} ${this.spec.path}: not listed within ${SYNC_TIMEOUT_MS} ms`)),
        SYNC_TIMEOUT_MS,
      );
      timer.unref();
    });
    try {
      await Promise.race([this.#synced, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#objects.get(keyOf(name, namespace));
  }

  list(): T[] {
    return [...this.#objects.values()];
  }

  /** The objects whose `indexBy` value is `value`. */
  indexed(value: string): T[] {
    const keys = this.#index.get(value);
    if (!keys) return [];
    return [...keys].flatMap((key) => {
      const object = this.#objects.get(key);
      return object ? [object] : [];
    });
  }

  /** Whether the watch (or a relist) showed the object deleted lately (within TOMBSTONE_MS). */
  deletedLately(name: string, namespace?: string): boolean {
    const tombstone = this.#deleted.get(keyOf(name, namespace));
    return tombstone !== undefined && Date.now() - tombstone.at < TOMBSTONE_MS;
  }

  get size(): number {
    return this.#objects.size;
  }

  /** Calls `listener` on every change; returns the unsubscribe. */
  subscribe(listener: (change: Change<T>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Records what a write returned (or, with `deleted`, that it removed the object), so readers see
   * it before its watch event arrives. An answer older than what is held is ignored.
   */
  observe(object: T, deleted = false): void {
    const trimmed = this.#trim(object);
    const held = this.#objects.get(keyOfObject(trimmed));
    if (deleted) {
      if (held && !isOlder(trimmed, held)) this.#apply('delete', trimmed);
      return;
    }
    // What the cache holds already (the same version, or a newer one) is no change: listeners
    // that re-deliver what they are told would otherwise hear it again, without end.
    if (
      held &&
      (held.metadata.resourceVersion === trimmed.metadata.resourceVersion || isOlder(trimmed, held))
    )
      return;
    // A create's answer that arrives after the watch said the object was deleted (someone deleted
    // it at once, the answer waited behind a busy event loop) would bring it back for good: the
    // watch has nothing more to say about it: a pull pod kept so would hold its node for ever.
    const tombstone = this.#deleted.get(keyOfObject(trimmed));
    const since = tombstone && compareVersions(trimmed.metadata.resourceVersion, tombstone.resourceVersion);
    if (!held && since !== undefined && since <= 0) return;
    this.#apply(held ? 'update' : 'add', trimmed);
  }

  close(): void {
    this.#controller.abort();
    this.#listeners.clear();
  }

  #trim(object: T): T {
    const { managedFields: _dropped, ...metadata } = object.metadata as T['metadata'] & {
      managedFields?: unknown;
    };
    const lean = { ...object, metadata } as T;
    return this.spec.trim ? this.spec.trim(lean) : lean;
  }

  // The watch is in order, but a write's answer recorded with observe() can be ahead of it: an
  // older version that arrives after must not take the newer one's place.
  #fromWatch(type: Change<T>['type'], object: T): void {
    const held = this.#objects.get(keyOfObject(object));
    if (type !== 'delete' && held && isOlder(object, held)) return;
    this.#apply(type, object);
  }

  #apply(type: Change<T>['type'], object: T): void {
    const key = keyOfObject(object);
    const before = this.#objects.get(key);
    if (type === 'delete') {
      this.#remove(key);
      this.#tombstone(key, object);
    } else {
      this.#put(key, object);
      this.#deleted.delete(key);
    }
    this.#emit({ type, object, before });
  }

  #tombstone(key: string, object: T): void {
    const now = Date.now();
    // Oldest first (re-inserted keys move to the end), so the expired ones are at the front.
    for (const [old, { at }] of this.#deleted) {
      if (now - at < TOMBSTONE_MS) break;
      this.#deleted.delete(old);
    }
    this.#deleted.delete(key);
    this.#deleted.set(key, { resourceVersion: object.metadata.resourceVersion, at: now });
  }

  #put(key: string, object: T): void {
    const before = this.#objects.get(key);
    if (before) this.#unindex(key, before);
    this.#objects.set(key, object);
    const value = this.spec.indexBy?.(object);
    if (value === undefined) return;
    const keys = this.#index.get(value) ?? new Set<string>();
    keys.add(key);
    this.#index.set(value, keys);
  }

  #remove(key: string): void {
    const before = this.#objects.get(key);
    if (before) this.#unindex(key, before);
    this.#objects.delete(key);
  }

  #unindex(key: string, object: T): void {
    const value = this.spec.indexBy?.(object);
    if (value === undefined) return;
    const keys = this.#index.get(value);
    keys?.delete(key);
    if (keys?.size === 0) this.#index.delete(value);
  }

  // A relist: what is gone was deleted while the watch was down, what differs changed.
  #replace(objects: readonly T[]): void {
    const seen = new Set<string>();
    for (const object of objects) {
      const key = keyOfObject(object);
      seen.add(key);
      const before = this.#objects.get(key);
      if (before?.metadata.resourceVersion === object.metadata.resourceVersion) continue;
      this.#put(key, object);
      this.#emit({ type: before ? 'update' : 'add', object, before });
    }
    for (const [key, object] of this.#objects) {
      if (seen.has(key)) continue;
      this.#remove(key);
      this.#tombstone(key, object);
      this.#emit({ type: 'delete', object, before: object });
    }
  }

  #emit(change: Change<T>): void {
    this.#revision++;
    for (const listener of this.#listeners) listener(change);
  }

  /** Goes up with every change: what was computed from the objects at one revision holds until it moves. */
  get revision(): number {
    return this.#revision;
  }
}

function keyOf(name: string, namespace: string | undefined): string {
  return namespace ? `${namespace}/${name}` : name;
}

function keyOfObject(object: KubeObject): string {
  return keyOf(object.metadata.name, object.metadata.namespace);
}

// resourceVersions are opaque to clients in general, but etcd's are increasing integers; only
// those are compared, so a foreign store never makes a write look stale.
function isOlder(object: KubeObject, than: KubeObject): boolean {
  return (compareVersions(object.metadata.resourceVersion, than.metadata.resourceVersion) ?? 0) < 0;
}

/** Negative, zero or positive as `a` is older than, the same as, or newer than `b`; undefined when either is not etcd's. */
function compareVersions(a: string | undefined, b: string | undefined): number | undefined {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined;
  const [x, y] = [BigInt(a), BigInt(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * One informer per collection for the whole process, shared by every function and holder that
 * reads it (the standalone runner hosts all four functions), opened on first use. When nobody
 * holds it any more it lingers a while — events come in bursts — and then closes, so an idle
 * function keeps no watch open.
 */
export class InformerPool {
  readonly #entries = new Map<
    string,
    { informer: Informer<KubeObject>; users: number; timer?: NodeJS.Timeout }
  >();

  constructor(
    private readonly kube: Kube,
    private readonly lingerMs = 60_000,
  ) {}

  /** The informer of `spec` (synced), and a release to call when done with it. */
  async acquire<T extends KubeObject>(
    spec: InformerSpec<T>,
  ): Promise<{ informer: Informer<T>; release(): void }> {
    const key = keyOfSpec(spec);
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { informer: new Informer(this.kube, spec) as unknown as Informer<KubeObject>, users: 0 };
      this.#entries.set(key, entry);
    }
    const current = entry;
    clearTimeout(current.timer);
    current.users++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      current.users--;
      if (current.users > 0) return;
      current.timer = setTimeout(() => this.#close(key, current.informer), this.lingerMs);
      current.timer.unref();
    };
    try {
      await current.informer.synced();
    } catch (error) {
      release();
      this.#close(key, current.informer);
      throw error;
    }
    return { informer: current.informer as unknown as Informer<T>, release };
  }

  /** The informer of `spec` if one is open, without opening one (a new one lists the truth anyway). */
  opened<T extends KubeObject>(spec: InformerSpec<T>): Informer<T> | undefined {
    return this.#entries.get(keyOfSpec(spec))?.informer as unknown as Informer<T> | undefined;
  }

  /** Closes every informer now (shutdown). */
  close(): void {
    for (const [key, entry] of this.#entries) {
      clearTimeout(entry.timer);
      this.#close(key, entry.informer);
    }
  }

  #close(key: string, informer: Informer<KubeObject>): void {
    const entry = this.#entries.get(key);
    if (entry?.informer !== informer || entry.users > 0) return;
    informer.close();
    this.#entries.delete(key);
  }
}

function keyOfSpec(spec: WatchTarget): string {
  return `${spec.path}?${spec.labelSelector ?? ''}`;
}
