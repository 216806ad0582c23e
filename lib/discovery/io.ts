import type { QueryData } from './observations.ts';
import type { SourceFailure } from './reasons.ts';

/** What one query may use of the world: the sync's clock and bounds. */
export interface QueryIo {
  readonly now: Date;
  /** Per HTTP request. */
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Aborts the query when its time (or the sync's) runs out. */
  readonly signal?: AbortSignal;
  /** Called once per request, so a sync can report what it cost. */
  readonly countRequest?: () => void;
  /** Waits out a short Retry-After. */
  readonly sleep: (ms: number) => Promise<void>;
}

/** What a query gave: its observations and what they are in words, or why it failed. */
export type QueryOutcome =
  | { readonly ok: true; readonly data: QueryData; readonly summary: string }
  | { readonly ok: false; readonly failure: SourceFailure };
