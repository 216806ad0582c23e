import { describe, expect, it } from 'vitest';
import type { CachedImage } from '../../lib/api/index.ts';
import { progressLine } from './progress.ts';

function image(word: string, pulling = 0): CachedImage {
  const ready = {
    type: 'Ready',
    status: word === 'Cached' ? 'True' : 'False',
    reason: word,
    message: '',
  } as const;
  return {
    metadata: { name: word },
    status: {
      phase: word === 'Cached' ? 'Ready' : word === 'ErrImagePull' ? 'Degraded' : 'Pulling',
      nodesPulling: pulling,
      conditions: [{ ...ready, lastTransitionTime: '' }],
    },
  } as CachedImage;
}

describe("npm start's live line", () => {
  it('says how many images are cached and how many pulls are in flight', () => {
    expect(progressLine([image('Cached'), image('Cached'), image('Cached'), image('Pulling', 2)])).toBe(
      '3/4 images cached · 2 pulls in flight',
    );
    expect(progressLine([image('Cached')])).toBe('1/1 image cached · 0 pulls in flight');
  });

  it('points at kubectl describe when an image needs attention, and at an example when there is none', () => {
    expect(progressLine([image('Pulling', 1), image('ErrImagePull')])).toBe(
      '0/2 images cached · 1 pull in flight · 1 image needing attention (kubectl describe cachedimage)',
    );
    expect(progressLine([])).toMatch(/^no CachedImages yet/);
  });
});
