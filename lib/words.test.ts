import { describe, expect, it } from 'vitest';
import { counted, fraction } from './words.ts';

describe('counts in messages', () => {
  it('agree with their number', () => {
    expect([counted(0, 'image'), counted(1, 'image'), counted(2, 'image')]).toEqual([
      '0 images',
      '1 image',
      '2 images',
    ]);
    expect([fraction(1, 1, 'image'), fraction(0, 2, 'node'), fraction(2, 3, 'node')]).toEqual([
      '1/1 image',
      '0/2 nodes',
      '2/3 nodes',
    ]);
  });
});
