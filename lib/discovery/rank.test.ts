import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Candidate } from './candidate.ts';
import { rankImages } from './rank.ts';
import { registryCandidates, registryHost, repositoryProblem } from './registry-result.ts';

function image(reference: string, score: number, source = 'prometheus'): Candidate {
  const [name = '', tag = 'latest'] = reference.split(/:(?=[^:/]+$)/);
  return { reference, image: name, tag, score, source };
}

describe('rankImages', () => {
  it('orders by score, highest first, ties by reference', () => {
    const ranked = rankImages([[image('r.io/b:1', 2), image('r.io/a:1', 2), image('r.io/c:1', 5)]], {
      maxImages: 50,
    });
    expect(ranked.images.map((i) => i.reference)).toEqual(['r.io/c:1', 'r.io/a:1', 'r.io/b:1']);
  });

  it('adds up the scores of one image found by several sources and names them all', () => {
    const ranked = rankImages([[image('r.io/a:1', 2)], [image('r.io/a:1', 0.5, 'registry')]], {
      maxImages: 50,
    });
    expect(ranked.images).toEqual([image('r.io/a:1', 2.5, 'prometheus,registry')]);
  });

  it('filters by imageFilter before cutting at maxImages, and counts both', () => {
    const ranked = rankImages(
      [[image('r.io/a:1', 9), image('other.io/x:1', 8), image('r.io/b:1', 7), image('r.io/c:1', 6)]],
      { imageFilter: /^r\.io\//, maxImages: 2 },
    );
    expect(ranked.images.map((i) => i.reference)).toEqual(['r.io/a:1', 'r.io/b:1']);
    expect(ranked).toMatchObject({ found: 4, filteredOut: 1, overLimit: 1 });
  });

  it('gives the same list whatever order the sources answered in', () => {
    const candidate = fc
      .tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.constantFrom(1, 2, 3))
      .map(([name, score]) => image(`r.io/${name}:1`, score));
    fc.assert(
      fc.property(fc.array(candidate, { maxLength: 12 }), fc.nat(4), (candidates, max) => {
        const forward = rankImages([candidates], { maxImages: max + 1 });
        const backward = rankImages([[...candidates].reverse()], { maxImages: max + 1 });
        expect(backward.images).toEqual(forward.images);
      }),
    );
  });
});

describe('registryCandidates', () => {
  it('ranks tags by recency within each repository, interleaving repositories', () => {
    const found = registryCandidates(
      'registry.example.com',
      [
        { repository: 'team/frontend', tags: ['v1.9', 'v1.10', 'latest'] },
        { repository: 'team/backend', tags: ['v2.0', 'v2.1'] },
      ],
      { tagFilter: /^v[0-9]+\./, topX: 2 },
    );
    if (!found.ok) throw new Error(found.failure.message);
    const ranked = rankImages([found.candidates], { maxImages: 50 });
    expect(ranked.images.map((i) => [i.reference, i.score])).toEqual([
      ['registry.example.com/team/backend:v2.1', 1],
      ['registry.example.com/team/frontend:v1.10', 1],
      ['registry.example.com/team/backend:v2.0', 0.5],
      ['registry.example.com/team/frontend:v1.9', 0.5],
    ]);
    expect(found.tags).toBe(5);
  });

  it('names Docker Hub images docker.io/…', () => {
    expect(registryHost('https://registry-1.docker.io')).toBe('docker.io');
    expect(registryHost('http://127.0.0.1:5000/')).toBe('127.0.0.1:5000');
    expect(registryHost('https://registry.example.com:443')).toBe('registry.example.com');
  });
});

describe('repositoryProblem', () => {
  it('accepts repositories that name pullable images', () => {
    expect(repositoryProblem('registry:5000', 'team/app')).toBeUndefined();
    expect(repositoryProblem('docker.io', 'library/alpine')).toBeUndefined();
  });

  it('rejects a host the kubelet would read as a Docker Hub path, and bad repository names', () => {
    expect(repositoryProblem('registry', 'team/app')).toMatch(/use a name with a dot or a port/);
    expect(repositoryProblem('registry:5000', 'Team/App')).toMatch(/must be lowercase/);
  });
});
