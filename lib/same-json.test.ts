import { describe, expect, it } from 'vitest';
import { sameJson } from './same-json.ts';

describe('sameJson', () => {
  it('is deep equality that ignores key order and undefined members', () => {
    expect(sameJson({ a: 1, b: [1, { c: 'x', d: undefined }] }, { b: [1, { c: 'x' }], a: 1 })).toBe(true);
    expect(sameJson({ a: undefined }, {})).toBe(true);
    expect(sameJson(undefined, undefined)).toBe(true);
  });

  it('tells apart what the API server would store differently', () => {
    expect(sameJson({ a: 1 }, { a: 2 })).toBe(false);
    expect(sameJson({ a: 1 }, { a: 1, b: 0 })).toBe(false);
    expect(sameJson({ a: 1, b: 0 }, { a: 1 })).toBe(false);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson([1], { 0: 1 })).toBe(false);
    expect(sameJson({ a: null }, {})).toBe(false);
    expect(sameJson(undefined, {})).toBe(false);
    expect(sameJson('1', 1)).toBe(false);
  });
});
