import { type Outcome, outcomeOfError } from './outcome.ts';

const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

interface Entry<C> {
  /** Requests that arrived while a run was in progress: they share the next run, in the first one's context. */
  next?: { readonly promise: Promise<Outcome>; resolve(outcome: Outcome): void; readonly context: C };
  /** A run this process owes the key later (a deferred write, a retry), and when it is due. */
  timer?: { readonly handle: NodeJS.Timeout; readonly at: number };
  running: boolean;
  retryMs: number;
}

const queues = new Set<KeyQueue<unknown>>();

/**
 * What client-go's workqueue does for a controller: reconciles of one key never overlap, and the
 * requests that arrive while one runs share the next run, so ten events for one object cost at
 * most two reconciles. An outcome that asks to be run again later (`requeueAfterMs`, or a retry
 * of a run nobody waits for) gets a timer in this process; the resync ping covers a process that
 * is gone before it fires.
 */
export class KeyQueue<C> {
  readonly #entries = new Map<string, Entry<C>>();

  /**
   * `run` reconciles a key in a context (the event's, or `background()` for a run nobody asked
   * for); `onLater` hears the outcome of a background run.
   */
  constructor(
    private readonly run: (key: string, context: C) => Promise<Outcome>,
    private readonly background: () => C,
    private readonly onLater: (key: string, outcome: Outcome) => void = () => undefined,
  ) {
    queues.add(this as KeyQueue<unknown>);
  }

  /** Reconciles `key` now, or with the requests waiting behind the run in progress. */
  request(key: string, context: C): Promise<Outcome> {
    return this.#request(key, context, false);
  }

  #request(key: string, context: C, background: boolean): Promise<Outcome> {
    const entry = this.#entry(key);
    if (!entry.running) return this.#start(key, entry, context, background);
    if (!entry.next) {
      let resolve!: (outcome: Outcome) => void;
      const promise = new Promise<Outcome>((r) => {
        resolve = r;
      });
      entry.next = { promise, resolve, context };
    }
    return entry.next.promise;
  }

  /** Owes `key` a reconcile after `afterMs` (or sooner, if one is owed sooner already). */
  later(key: string, afterMs: number): void {
    this.#later(key, this.#entry(key), afterMs);
  }

  /** Runs every owed reconcile now and waits for them (a process shutting down keeps nothing back). */
  async drain(): Promise<void> {
    const owed = [...this.#entries].filter(([, entry]) => entry.timer);
    for (const [, entry] of owed) {
      clearTimeout(entry.timer?.handle);
      entry.timer = undefined;
    }
    await Promise.all(owed.map(([key]) => this.#request(key, this.background(), true)));
  }

  /** Forgets every owed reconcile (tests, or a runner that stops). */
  close(): void {
    for (const entry of this.#entries.values()) clearTimeout(entry.timer?.handle);
    this.#entries.clear();
    queues.delete(this as KeyQueue<unknown>);
  }

  #entry(key: string): Entry<C> {
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { running: false, retryMs: RETRY_FIRST_MS };
      this.#entries.set(key, entry);
    }
    return entry;
  }

  // A foreground run has a sender waiting, which retries what asks for it; a background run (a
  // timer's) has nobody, so this process retries it.
  async #start(key: string, entry: Entry<C>, context: C, background: boolean): Promise<Outcome> {
    entry.running = true;
    let outcome: Outcome;
    try {
      outcome = await this.run(key, context);
    } catch (error) {
      outcome = outcomeOfError(error);
    } finally {
      entry.running = false;
    }
    const waiting = entry.next;
    entry.next = undefined;
    if (waiting) waiting.resolve(await this.#start(key, entry, waiting.context, false));
    else this.#after(key, entry, outcome, background);
    return outcome;
  }

  #after(key: string, entry: Entry<C>, outcome: Outcome, background: boolean): void {
    if (outcome.result === 'done' && outcome.requeueAfterMs !== undefined) {
      entry.retryMs = RETRY_FIRST_MS;
      this.#later(key, entry, outcome.requeueAfterMs);
      return;
    }
    if (outcome.result === 'retry' && background) {
      if (entry.timer) return;
      const wait = Math.max(entry.retryMs, (outcome.retryAfterSeconds ?? 0) * 1000);
      entry.retryMs = Math.min(entry.retryMs * 2, RETRY_MAX_MS);
      this.#later(key, entry, wait);
      return;
    }
    if (outcome.result !== 'retry') entry.retryMs = RETRY_FIRST_MS;
    if (!entry.timer && !entry.running && !entry.next) this.#entries.delete(key);
  }

  #later(key: string, entry: Entry<C>, afterMs: number): void {
    const at = Date.now() + afterMs;
    if (entry.timer && entry.timer.at <= at) return;
    clearTimeout(entry.timer?.handle);
    const handle = setTimeout(() => {
      entry.timer = undefined;
      void this.#request(key, this.background(), true).then((outcome) => this.onLater(key, outcome));
    }, afterMs);
    handle.unref();
    entry.timer = { handle, at };
  }
}

/** Runs every queue's owed reconciles now (a function or the runner stopping). */
export async function drainQueues(): Promise<void> {
  await Promise.all([...queues].map((queue) => queue.drain()));
}
