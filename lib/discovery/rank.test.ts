import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseImageReference } from '../image-ref.ts';
import { ObservationsBuilder, type QueryData } from './observations.ts';
import { rankDiscovered } from './rank.ts';
import type { Strategy } from './ranking.ts';
import { registryHost, registryObservations, repositoryProblem } from './registry-result.ts';

const NOW = new Date('2026-01-10T12:00:00Z');
const SUM: Strategy = { kind: 'sumOfSamples', labels: new Map() };

/** One query's data: one sample per reference, worth its score. */
function query(scores: readonly [string, number][]): QueryData {
  const builder = new ObservationsBuilder();
  for (const [reference, value] of scores) {
    const parsed = parseImageReference(reference);
    if (!parsed.ok) throw new Error(parsed.message);
    builder.samples(parsed.ref, [{ at: 0, value }]);
  }
  return builder.build();
}

const rank = (
  queries: QueryData[],
  options: { imageFilter?: RegExp; maxImages?: number; strategy?: Strategy } = {},
) =>
  rankDiscovered({
    data: new Map(queries.map((q, i) => [`q${i}`, q])),
    signals: [],
    strategy: options.strategy ?? SUM,
    maxImages: options.maxImages ?? 50,
    now: NOW,
    ...(options.imageFilter ? { imageFilter: options.imageFilter } : {}),
  });

describe('rankDiscovered (the sources[] form: scores add up)', () => {
  it('orders by score, highest first, ties by reference', () => {
    const ranked = rank([
      query([
        ['r.io/b:1', 2],
        ['r.io/a:1', 2],
        ['r.io/c:1', 5],
      ]),
    ]);
    expect(ranked.images.map((i) => i.id.reference)).toEqual(['r.io/c:1', 'r.io/a:1', 'r.io/b:1']);
  });

  it('adds up the scores of one image found by several queries and names them all', () => {
    const ranked = rank([query([['r.io/a:1', 2]]), query([['r.io/a:1', 0.5]])]);
    expect(ranked.images.map((i) => [i.id.reference, i.score, i.queries])).toEqual([
      ['r.io/a:1', 2.5, ['q0', 'q1']],
    ]);
  });

  it('filters by imageFilter before cutting at maxImages, and counts both', () => {
    const ranked = rank(
      [
        query([
          ['r.io/a:1', 9],
          ['other.io/x:1', 8],
          ['r.io/b:1', 7],
          ['r.io/c:1', 6],
        ]),
      ],
      {
        imageFilter: /^r\.io\//,
        maxImages: 2,
      },
    );
    expect(ranked.images.map((i) => i.id.reference)).toEqual(['r.io/a:1', 'r.io/b:1']);
    expect(ranked).toMatchObject({ found: 4, filteredOut: 1, overLimit: 1 });
  });

  it('gives the same list whatever order the queries answered in', () => {
    const candidate = fc
      .tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.constantFrom(1, 2, 3))
      .map(([name, score]): [string, number] => [`r.io/${name}:1`, score]);
    fc.assert(
      fc.property(fc.array(candidate, { maxLength: 12 }), fc.nat(4), (scores, max) => {
        const forward = rank([query(scores)], { maxImages: max + 1 });
        const backward = rank([query([...scores].reverse())], { maxImages: max + 1 });
        expect(backward.images.map((i) => [i.id.reference, i.score])).toEqual(
          forward.images.map((i) => [i.id.reference, i.score]),
        );
      }),
    );
  });
});

describe('registryObservations', () => {
  it('scores tags by recency within each repository, interleaving repositories', () => {
    const found = registryObservations(
      'registry.example.com',
      [
        { repository: 'team/frontend', tags: ['v1.9', 'v1.10', 'latest'] },
        { repository: 'team/backend', tags: ['v2.0', 'v2.1'] },
      ],
      { tagFilter: /^v[0-9]+\./, topX: 2 },
      NOW,
    );
    if (!found.ok) throw new Error(found.failure.message);
    const ranked = rank([found.data]);
    expect(ranked.images.map((i) => [i.id.reference, i.score])).toEqual([
      ['registry.example.com/team/backend:v2.1', 1],
      ['registry.example.com/team/frontend:v1.10', 1],
      ['registry.example.com/team/backend:v2.0', 0.5],
      ['registry.example.com/team/frontend:v1.9', 0.5],
    ]);
    expect(found.tags).toBe(5);
  });

  it('needs no ranking: without one (Go Drop’s default) the newest tags still come first', () => {
    const found = registryObservations('r.io', [{ repository: 'app', tags: ['v1', 'v3', 'v2'] }], {}, NOW);
    if (!found.ok) throw new Error(found.failure.message);
    const ranked = rank([found.data], { strategy: { kind: 'largestSample' } });
    expect(ranked.images.map((i) => [i.id.reference, i.score])).toEqual([
      ['r.io/app:v3', 1],
      ['r.io/app:v2', 0.5],
      ['r.io/app:v1', 1 / 3],
    ]);
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
