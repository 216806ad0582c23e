import { describe, expect, it } from 'vitest';
import type { CachedImageSetSpec } from '../../lib/api/index.ts';
import { desiredImages } from './desired.ts';

const spec = (images: CachedImageSetSpec['images']): CachedImageSetSpec => ({ images });
// A DiscoveryPolicy lists full references (status.discoveredImages[].image).
const found = (image: string, tag?: string, digest?: string) =>
  digest ? `${image}@${digest}` : `${image}:${tag}`;

describe('desiredImages', () => {
  it('normalises each entry to the reference a node pulls', () => {
    const { images } = desiredImages(
      spec([{ image: 'golang', tag: '1.22' }, { image: 'registry:5000/app' }]),
      [],
    );
    expect(images.map((i) => i.reference)).toEqual([
      'docker.io/library/golang:1.22',
      'registry:5000/app:latest',
    ]);
    expect(images[0]?.parts).toEqual({ image: 'docker.io/library/golang', tag: '1.22' });
  });

  it('counts two spellings of one image once and says which entry repeats', () => {
    const { images, notes } = desiredImages(
      spec([
        { image: 'golang', tag: '1.22' },
        { image: 'docker.io/library/golang', tag: '1.22' },
      ]),
      [],
    );
    expect(images).toHaveLength(1);
    expect(notes).toEqual(['spec.images[1] repeats docker.io/library/golang:1.22; it is cached once']);
  });

  it('merges discovered images after static ones; a static entry wins', () => {
    const { images } = desiredImages(spec([{ image: 'alpine', tag: '3.19' }]), [
      found('docker.io/library/alpine', '3.19'),
      found('docker.io/library/node', '20'),
    ]);
    expect(images.map((i) => [i.reference, i.source])).toEqual([
      ['docker.io/library/alpine:3.19', 'static'],
      ['docker.io/library/node:20', 'discovery'],
    ]);
  });

  it('keeps a discovered digest and skips what cannot be pulled, counting it', () => {
    const digest = `sha256:${'c'.repeat(64)}`;
    const { images, notes } = desiredImages(spec(undefined), [
      found('registry.example/app', undefined, digest),
      found('Not/A/Valid/Image', 'x'),
    ]);
    expect(images.map((i) => i.reference)).toEqual([`registry.example/app@${digest}`]);
    expect(notes).toEqual(['1 discovered images have references that cannot be pulled']);
  });

  it('an empty set wants nothing', () => {
    expect(desiredImages(spec([]), [])).toEqual({ images: [], notes: [] });
  });
});
