import type { ModelExposure, WeightedSum } from '../api/index.ts';
import { termSignal } from '../api/index.ts';
import type { QueryData } from './observations.ts';
import { quantityValue } from './quantity.ts';

// Stage 3: each strategy's score of one image, with the parts it was made of (status explains
// every score with them). Formulas as Go Drop documents them (docs/content/docs/discovery.md).

/** One part of a score; `value` absent: the image has no value for that signal. */
export interface Part {
  readonly signal: string;
  readonly role?: string;
  readonly value?: number;
  readonly normalized?: number;
  readonly weight?: number;
  readonly score: number;
}

export interface Scored {
  readonly score: number;
  readonly parts: readonly Part[];
}

export type Strategy =
  /** The sources[] form: every sample of every source, added up. */
  | { readonly kind: 'sumOfSamples'; readonly labels: ReadonlyMap<string, string> }
  /** No ranking given (Go Drop's default): an image's largest sample in any query. */
  | { readonly kind: 'largestSample' }
  | { readonly kind: 'signal'; readonly signal: string }
  | { readonly kind: 'weightedSum'; readonly config: WeightedSum }
  | { readonly kind: 'modelExposure'; readonly config: ModelExposure; readonly nodes: number };

export interface ScoringInput {
  /** The candidates, after imageFilter: minMax bounds are taken over these. */
  readonly references: readonly string[];
  /** Signal name → value by reference. */
  readonly signals: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Query name → its observations, in spec order. */
  readonly data: ReadonlyMap<string, QueryData>;
}

/** Every candidate's score; a candidate left out (weightedSum with missingSignal drop) is absent. */
export function scoreAll(strategy: Strategy, input: ScoringInput): ReadonlyMap<string, Scored> {
  switch (strategy.kind) {
    case 'sumOfSamples':
      return byReference(input.references, (ref) => sumOfSamples(ref, input.data, strategy.labels));
    case 'largestSample':
      return byReference(input.references, (ref) => largestSample(ref, input.data));
    case 'signal':
      return byReference(input.references, (ref) => {
        const value = input.signals.get(strategy.signal)?.get(ref);
        return {
          score: value ?? 0,
          parts: [{ signal: strategy.signal, ...present(value), score: value ?? 0 }],
        };
      });
    case 'weightedSum':
      return weightedSum(strategy.config, input);
    case 'modelExposure':
      return byReference(input.references, (ref) => modelExposure(ref, strategy, input.signals));
  }
}

function byReference(
  references: readonly string[],
  score: (reference: string) => Scored | undefined,
): ReadonlyMap<string, Scored> {
  const scored = new Map<string, Scored>();
  for (const reference of references) {
    const one = score(reference);
    if (one) scored.set(reference, one);
  }
  return scored;
}

const present = (value: number | undefined) => (value === undefined ? {} : { value });

function sumOfSamples(
  reference: string,
  data: ReadonlyMap<string, QueryData>,
  labels: ReadonlyMap<string, string>,
): Scored {
  const parts: Part[] = [];
  for (const [query, images] of data) {
    const samples = images.get(reference)?.samples;
    if (!samples) continue;
    const total = samples.reduce((sum, s) => sum + s.value, 0);
    parts.push({ signal: labels.get(query) ?? query, value: total, score: total });
  }
  return { score: parts.reduce((sum, p) => sum + p.score, 0), parts };
}

function largestSample(reference: string, data: ReadonlyMap<string, QueryData>): Scored {
  const parts: Part[] = [];
  for (const [query, images] of data) {
    const samples = images.get(reference)?.samples;
    if (!samples?.length) continue;
    const largest = samples.reduce((max, s) => Math.max(s.value, max), Number.NEGATIVE_INFINITY);
    parts.push({ signal: query, value: largest, score: largest });
  }
  return { score: parts.length ? Math.max(...parts.map((p) => p.score)) : 0, parts };
}

/**
 * Σ weight × minMax(signal): min and max over the candidates that have a value; all equal
 * normalises to 1. A candidate without a value adds 0 for that term (zero) or is left out (drop).
 */
function weightedSum(config: WeightedSum, input: ScoringInput): ReadonlyMap<string, Scored> {
  const terms = config.terms.map((term) => {
    const name = termSignal(term);
    const values = input.signals.get(name) ?? new Map<string, number>();
    const present = input.references.map((r) => values.get(r)).filter((v): v is number => v !== undefined);
    const min = present.length ? Math.min(...present) : 0;
    const max = present.length ? Math.max(...present) : 0;
    return { name, values, min, max, weight: quantityValue(term.weight) ?? 0 };
  });
  return byReference(input.references, (reference) => {
    const parts: Part[] = [];
    for (const term of terms) {
      const value = term.values.get(reference);
      if (value === undefined) {
        if (config.missingSignal === 'drop') return undefined;
        parts.push({ signal: term.name, weight: term.weight, score: 0 });
        continue;
      }
      const normalized = term.max === term.min ? 1 : (value - term.min) / (term.max - term.min);
      parts.push({
        signal: term.name,
        value,
        normalized,
        weight: term.weight,
        score: term.weight * normalized,
      });
    }
    return { score: parts.reduce((sum, p) => sum + p.score, 0), parts };
  });
}

/** J_target · (1 − 1/N)^J_pre · p̂; a missing signal counts as 0, as in Go Drop. */
function modelExposure(
  reference: string,
  strategy: Extract<Strategy, { kind: 'modelExposure' }>,
  signals: ReadonlyMap<string, ReadonlyMap<string, number>>,
): Scored {
  const { config, nodes } = strategy;
  const signalValue = (signal: string) => signals.get(signal)?.get(reference);
  const target = signalValue(config.targetWindowUsageSignal);
  const pre = signalValue(config.preWindowUsageSignal);
  const pull = signalValue(config.pullTimeSignal);
  const survival = (1 - 1 / Math.max(1, nodes)) ** (pre ?? 0);
  const parts: Part[] = [
    { signal: config.targetWindowUsageSignal, role: 'J_target', ...present(target), score: target ?? 0 },
    {
      signal: config.preWindowUsageSignal,
      role: `(1-1/N)^J_pre, N=${nodes}`,
      ...present(pre),
      score: survival,
    },
    { signal: config.pullTimeSignal, role: 'p̂', ...present(pull), score: pull ?? 0 },
  ];
  return { score: (target ?? 0) * survival * (pull ?? 0), parts };
}
