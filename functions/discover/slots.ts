import type { Outcome } from '../../lib/controller/index.ts';

/**
 * The syncs of one process: at most one per policy (the Lease identity is per process, so a
 * second sync here would hold the same Lease), and at most `size` at once — each may hold a
 * 32 MiB answer, as containerConcurrency bounds requests.
 */
export class SyncSlots {
  private readonly running = new Map<string, Promise<Outcome | undefined>>();
  private waiters: (() => void)[] = [];

  constructor(readonly size = 8) {}

  /** A slot for `policy`, the sync already running for it here, or none free. */
  take(
    policy: string,
  ):
    | { readonly kind: 'taken'; running(done: Promise<Outcome | undefined>): void; release(): void }
    | { readonly kind: 'running'; readonly done: Promise<Outcome | undefined> }
    | { readonly kind: 'full' } {
    const current = this.running.get(policy);
    if (current) return { kind: 'running', done: current };
    if (this.running.size >= this.size) return { kind: 'full' };
    this.running.set(policy, Promise.resolve(undefined));
    let released = false;
    return {
      kind: 'taken',
      running: (done) => {
        if (!released) this.running.set(policy, done);
      },
      release: () => {
        if (released) return;
        released = true;
        this.running.delete(policy);
        const waiters = this.waiters;
        this.waiters = [];
        for (const wake of waiters) wake();
      },
    };
  }

  /** Resolves once fewer than `size` syncs run (at once when that is already so). */
  async free(): Promise<void> {
    while (this.running.size >= this.size) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** The outcome of the sync running here for `policy` once it ends; undefined when none runs. */
  async ended(policy: string): Promise<Outcome | undefined> {
    return this.running.get(policy);
  }

  /** Resolves when every sync running now has ended. */
  async idle(): Promise<void> {
    await Promise.all(this.running.values());
  }
}
