import { describe, expect, it } from 'vitest';
import { modelExposureSchema, weightedSumSchema } from '../api/discovery-ranking.ts';
import { quantityValue } from './quantity.ts';
import { type Strategy, scoreAll } from './ranking.ts';
import { finalScoreText } from './score-text.ts';

// Stage 3, each strategy against the formulas of Go Drop's docs/content/docs/discovery.md, with
// the expected scores worked out by hand beside each case.

const signals = (table: Record<string, Record<string, number>>) =>
  new Map(Object.entries(table).map(([name, values]) => [name, new Map(Object.entries(values))]));

function scores(strategy: Strategy, table: Record<string, Record<string, number>>, references: string[]) {
  const scored = scoreAll(strategy, { references, signals: signals(table), data: new Map() });
  return Object.fromEntries([...scored].map(([reference, s]) => [reference, s.score]));
}

const weightedSum = (terms: [string, string][], missingSignal = 'zero') =>
  ({
    kind: 'weightedSum',
    config: weightedSumSchema.parse({
      missingSignal,
      terms: terms.map(([signal, weight]) => ({ signal, weight })),
    }),
  }) as const;

describe('signal', () => {
  it('ranks by one signal; an image without a value scores 0', () => {
    expect(scores({ kind: 'signal', signal: 'total' }, { total: { a: 30, b: 12 } }, ['a', 'b', 'c'])).toEqual(
      {
        a: 30,
        b: 12,
        c: 0,
      },
    );
  });
});

describe('weightedSum', () => {
  // Drop's quick example: minMax(total-usage)(A) = 0.9, minMax(peak)(A) = 0.4, weights 0.7 and 0.3:
  // 0.7·0.9 + 0.3·0.4 = 0.75. Totals 0, 9, 10 normalise to 0, 0.9, 1; peaks 0, 4, 10 to 0, 0.4, 1.
  const table = { total: { x: 0, a: 9, y: 10 }, peak: { x: 0, a: 4, y: 10 } };

  it.each([
    ['0.7', '0.3'],
    // The same weights as Go Drop's samples write them.
    ['700m', '300m'],
  ])('Σ weight·minMax(signal) with weights %s and %s: A 0.75, Y 1, X 0', (w1, w2) => {
    const result = scores(
      weightedSum([
        ['total', w1],
        ['peak', w2],
      ]),
      table,
      ['x', 'a', 'y'],
    );
    expect(result.a).toBeCloseTo(0.75, 12);
    expect(result.y).toBeCloseTo(1, 12);
    expect(result.x).toBe(0);
  });

  it('missingSignal zero: the missing term adds 0; drop: the image is left out', () => {
    const withZ = { total: { ...table.total, z: 5 }, peak: table.peak };
    // Z: total 5 → (5−0)/(10−0) = 0.5, ·0.7 = 0.35; no peak → 0.
    expect(
      scores(
        weightedSum([
          ['total', '0.7'],
          ['peak', '0.3'],
        ]),
        withZ,
        ['x', 'a', 'y', 'z'],
      ).z,
    ).toBeCloseTo(0.35, 12);
    expect(
      scores(
        weightedSum(
          [
            ['total', '0.7'],
            ['peak', '0.3'],
          ],
          'drop',
        ),
        withZ,
        ['x', 'a', 'y', 'z'],
      ),
    ).not.toHaveProperty('z');
  });

  it('normalises a signal whose values are all equal to 1', () => {
    // 2·1 + 1·minMax(peak): a 1 → 3, b 0 → 2.
    expect(
      scores(
        weightedSum([
          ['flat', '2'],
          ['peak', '1'],
        ]),
        { flat: { a: 7, b: 7 }, peak: { a: 5, b: 1 } },
        ['a', 'b'],
      ),
    ).toEqual({
      a: 3,
      b: 2,
    });
  });

  it('takes min and max over the images left after imageFilter', () => {
    // Only a and b are candidates: totals 9 and 10 normalise to 0 and 1.
    expect(scores(weightedSum([['total', '1']]), table, ['a', 'y'])).toEqual({ a: 0, y: 1 });
  });
});

describe('modelExposure', () => {
  const model = (nodes: number) =>
    ({
      kind: 'modelExposure',
      config: modelExposureSchema.parse({
        nodes: { count: nodes },
        preWindowUsageSignal: 'pre',
        targetWindowUsageSignal: 'target',
        pullTimeSignal: 'pull',
      }),
      nodes,
    }) as const;

  it('J_target · (1 − 1/N)^J_pre · p̂: the image warmed up before the window ranks lower', () => {
    const table = { target: { warm: 10, cold: 8 }, pre: { warm: 50, cold: 0 }, pull: { warm: 20, cold: 20 } };
    const result = scores(model(100), table, ['warm', 'cold']);
    // warm: 10 · 0.99^50 · 20 = 200 · 0.605006067… = 121.0012134…; cold: 8 · 1 · 20 = 160.
    expect(result.warm).toBeCloseTo(121.0012134, 6);
    expect(result.cold).toBe(160);
  });

  it('a missing signal counts as 0; with N = 1 any warm-up zeroes the score', () => {
    const table = { target: { a: 5, b: 5 }, pre: { b: 1 }, pull: { a: 3, b: 3 } };
    // a: 5 · 0^0 · 3 = 15 (0^0 = 1); b: 5 · 0^1 · 3 = 0; c: no target → 0.
    expect(scores(model(1), table, ['a', 'b', 'c'])).toEqual({ a: 15, b: 0, c: 0 });
  });
});

describe('finalScoreText', () => {
  it.each([
    [0.75, '0.75'],
    [30, '30'],
    [1e-7, '0.0000001'],
    [1.5e-8, '0.000000015'],
    [1e21, '1000000000000000000000'],
    [-2.5e-7, '-0.00000025'],
  ])('writes %d as Go’s FormatFloat(x, f, -1) would: %s', (score, text) => {
    expect(finalScoreText(score)).toBe(text);
  });
});

describe('quantityValue', () => {
  it.each([
    ['0.7', 0.7],
    ['700m', 0.7],
    ['300m', 0.3],
    ['1.0', 1],
    ['2', 2],
    [2, 2],
    ['1Ki', 1024],
    ['1e3', 1000],
    ['1.5k', 1500],
  ])('reads %s as %d', (text, value) => {
    expect(quantityValue(text)).toBe(value);
  });

  it('refuses what is not a quantity', () => {
    expect(quantityValue('heavy')).toBeUndefined();
  });
});
