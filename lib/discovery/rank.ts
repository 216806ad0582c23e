import type { Candidate } from './candidate.ts';

export interface Ranking {
  /** Best first, at most maxImages. */
  readonly images: readonly Candidate[];
  /** Distinct images the sources found before filtering. */
  readonly found: number;
  /** Dropped because imageFilter did not match. */
  readonly filteredOut: number;
  /** Matched, but ranked below maxImages. */
  readonly overLimit: number;
}

/**
 * Merges every source's candidates into one ranking. The same image from several sources (or
 * several series) adds up its scores. Order: score, highest first; ties by reference in code-unit
 * order, so every replica writes the same list. imageFilter is a regex searched anywhere in the
 * reference (anchor it with ^ and $ to match the whole); maxImages cuts after ranking.
 */
export function rankImages(
  sources: readonly (readonly Candidate[])[],
  options: { readonly imageFilter?: RegExp; readonly maxImages: number },
): Ranking {
  const merged = new Map<string, Candidate>();
  for (const candidates of sources) {
    for (const candidate of candidates) {
      const previous = merged.get(candidate.reference);
      merged.set(candidate.reference, previous ? combine(previous, candidate) : candidate);
    }
  }
  const all = [...merged.values()];
  const matching = options.imageFilter ? all.filter((c) => options.imageFilter?.test(c.reference)) : all;
  const ranked = matching.sort(byRank);
  return {
    images: ranked.slice(0, options.maxImages),
    found: all.length,
    filteredOut: all.length - matching.length,
    overLimit: Math.max(0, matching.length - options.maxImages),
  };
}

function combine(a: Candidate, b: Candidate): Candidate {
  const sources = [...new Set([...a.source.split(','), ...b.source.split(',')])];
  return { ...a, score: a.score + b.score, source: sources.join(',') };
}

/** Higher score first, then reference in code-unit order (not locale order: the same on every replica). */
export function byRank(a: Candidate, b: Candidate): number {
  if (a.score !== b.score) return b.score - a.score;
  return a.reference < b.reference ? -1 : a.reference > b.reference ? 1 : 0;
}
