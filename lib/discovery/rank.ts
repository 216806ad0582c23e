import type { DiscoverySignal } from '../api/index.ts';
import { signalQuery } from '../api/index.ts';
import { compareText } from '../order.ts';
import type { ImageId, QueryData } from './observations.ts';
import { quantityValue } from './quantity.ts';
import { type Part, type Scored, type Strategy, scoreAll } from './ranking.ts';
import { shortNumber } from './score-text.ts';
import { signalValues } from './signals.ts';

/** One image of the ranked list. */
export interface RankedImage {
  readonly id: ImageId;
  readonly score: number;
  /** The queries that found it, in spec order. */
  readonly queries: readonly string[];
  readonly parts: readonly Part[];
}

export interface Ranking {
  /** Best first, at most maxImages. */
  readonly images: readonly RankedImage[];
  /** Distinct images the queries found. */
  readonly found: number;
  /** Dropped because imageFilter did not match. */
  readonly filteredOut: number;
  /** Left out by the ranking (weightedSum with missingSignal drop). */
  readonly leftOut: number;
  /** Ranked below maxImages. */
  readonly overLimit: number;
  /** The formula and the first image's score, for the RANKING column. */
  readonly summary: string;
}

export interface RankInput {
  /** Query name → what it observed, in spec order. */
  readonly data: ReadonlyMap<string, QueryData>;
  readonly signals: readonly DiscoverySignal[];
  readonly strategy: Strategy;
  readonly imageFilter?: RegExp;
  readonly maxImages: number;
  readonly now: Date;
}

/**
 * Stages 2 and 3: every image any query found (Go Drop's collectImages), filtered by imageFilter
 * (a regex searched anywhere in the reference), scored by the strategy from the signals, sorted
 * by score, highest first, ties by reference in code-unit order (the same on every replica), cut
 * at maxImages.
 */
export function rankDiscovered(input: RankInput): Ranking {
  const found = new Map<string, { id: ImageId; queries: string[] }>();
  for (const [query, images] of input.data) {
    for (const [reference, image] of images) {
      const entry = found.get(reference) ?? { id: image.id, queries: [] };
      entry.queries.push(query);
      found.set(reference, entry);
    }
  }
  const references = [...found.keys()].filter((r) => !input.imageFilter || input.imageFilter.test(r));
  const signals = new Map(
    input.signals.map((s) => [
      s.name,
      signalValues(s, input.data.get(signalQuery(s)) ?? new Map(), input.now),
    ]),
  );
  const scored = scoreAll(input.strategy, { references, signals, data: input.data });
  const ranked = [...scored.entries()]
    .map(([reference, s]: [string, Scored]) => {
      const entry = found.get(reference);
      return {
        id: entry?.id ?? { reference, repository: reference },
        queries: entry?.queries ?? [],
        score: s.score,
        parts: s.parts,
      };
    })
    .sort(byRank);
  const images = ranked.slice(0, input.maxImages);
  return {
    images,
    found: found.size,
    filteredOut: found.size - references.length,
    leftOut: references.length - scored.size,
    overLimit: Math.max(0, ranked.length - input.maxImages),
    summary: summaryOf(input.strategy, images[0]),
  };
}

/** Higher score first, then reference in code-unit order (not locale order: the same on every replica). */
export function byRank(a: RankedImage, b: RankedImage): number {
  if (a.score !== b.score) return b.score - a.score;
  return compareText(a.id.reference, b.id.reference);
}

function summaryOf(strategy: Strategy, top: RankedImage | undefined): string {
  const first = top ? `; top ${top.id.reference} = ${shortNumber(top.score)}` : '; no images';
  return `${formulaOf(strategy)}${first}`;
}

/** The strategy as a formula a person can check a score against. */
export function formulaOf(strategy: Strategy): string {
  switch (strategy.kind) {
    case 'sumOfSamples':
      return 'sum of every source’s samples';
    case 'largestSample':
      return 'largest sample of any query (no ranking)';
    case 'signal':
      return `signal ${strategy.signal}`;
    case 'weightedSum':
      return strategy.config.terms
        .map((t) => `${shortNumber(quantityValue(t.weight) ?? 0)}×minMax(${t.signal ?? t.signalRef})`)
        .join(' + ');
    case 'modelExposure': {
      const c = strategy.config;
      return `${c.targetWindowUsageSignal} × (1-1/${strategy.nodes})^${c.preWindowUsageSignal} × ${c.pullTimeSignal}`;
    }
  }
}
