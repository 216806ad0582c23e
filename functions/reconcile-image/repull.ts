/** Where a re-pull cycle stands: nodes still to refresh, when it started, when the next is due. */
export interface RepullCycle {
  readonly nodes: readonly string[];
  readonly lastRepullAt?: string;
  readonly nextRepullAt?: string;
}

export interface RepullInput {
  /** PullPolicy repullInterval; undefined: never (or not applicable to this image). */
  readonly intervalMs: number | undefined;
  /** Nodes of the cycle in progress that have not been pulled again yet. */
  readonly remaining: readonly string[];
  readonly lastRepullAt: string | undefined;
  readonly lastPulledAt: string | undefined;
  /** Target nodes that hold the image now. */
  readonly ready: readonly string[];
  readonly now: Date;
}

/**
 * PullPolicy repullInterval: every interval, each node that holds the image pulls it again, so a
 * tag that moved to a new digest reaches the nodes. A cycle covers the nodes cached when it starts
 * and ends when each has pulled once more; the next is due an interval after the cycle started
 * (or after the first pull, before any cycle). Nodes stay cached meanwhile: the old image is there.
 */
export function repullCycle(input: RepullInput): RepullCycle {
  if (input.intervalMs === undefined || input.intervalMs <= 0) return { nodes: [] };
  const kept = input.lastRepullAt ? { lastRepullAt: input.lastRepullAt } : {};
  const ready = new Set(input.ready);
  const remaining = input.remaining.filter((n) => ready.has(n));
  if (remaining.length > 0) return { nodes: remaining, ...kept };
  const anchor = input.lastRepullAt ?? input.lastPulledAt;
  if (!anchor) return { nodes: [], ...kept };
  const due = Date.parse(anchor) + input.intervalMs;
  if (input.now.getTime() < due || input.ready.length === 0) {
    return { nodes: [], ...kept, nextRepullAt: new Date(due).toISOString() };
  }
  return { nodes: [...input.ready], lastRepullAt: input.now.toISOString() };
}

/** True when the status says a cycle is due, so the policy must be read even in a steady state. */
export function repullDue(status: { readonly nextRepullAt?: string } | undefined, now: Date): boolean {
  const next = status?.nextRepullAt;
  return next !== undefined && Date.parse(next) <= now.getTime();
}
