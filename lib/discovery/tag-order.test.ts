import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareVersions, newestTags, oldestFirst, parseVersion, versionReader } from './tag-order.ts';

function version(tag: string) {
  const parsed = parseVersion(tag);
  if (!parsed) throw new Error(`${tag} is not a version`);
  return parsed;
}

describe('parseVersion', () => {
  it.each(['v1.10', '1.22', '3.19.1', 'v1.2.3-rc.1', '1.22-bookworm', '2024.01.05', '7', '0.0.0-0'])(
    '%s is a version',
    (tag) => expect(parseVersion(tag)).toBeDefined(),
  );

  it.each(['latest', 'main', 'sha-1f2e3d', '1.2.3.4', 'v', '1.', 'bookworm-1.22', '1..2'])(
    '%s is not',
    (tag) => expect(parseVersion(tag)).toBeUndefined(),
  );
});

describe('compareVersions', () => {
  it.each([
    ['v1.9', 'v1.10'],
    ['1.9.9', '1.10.0'],
    ['1.2.3-rc.1', '1.2.3'],
    ['1.2.3-alpha', '1.2.3-alpha.1'],
    ['1.2.3-alpha.1', '1.2.3-alpha.beta'],
    ['1.2.3-rc.2', '1.2.3-rc.10'],
    ['1.22-alpine', '1.22-bookworm'],
    ['99', '100'],
    ['20240105', '20240106'],
    ['123456789012345678901234567890', '123456789012345678901234567891'],
  ])('%s < %s', (a, b) => {
    expect(compareVersions(version(a), version(b))).toBeLessThan(0);
    expect(compareVersions(version(b), version(a))).toBeGreaterThan(0);
  });

  it('treats missing parts, a v and leading zeros as equal', () => {
    expect(compareVersions(version('1.2'), version('v1.2.0'))).toBe(0);
    expect(compareVersions(version('1.02'), version('1.2'))).toBe(0);
  });

  it('is a total order: antisymmetric and transitive on generated versions', () => {
    const tag = fc
      .tuple(
        fc.nat(20),
        fc.option(fc.nat(20)),
        fc.option(fc.constantFrom('rc.1', 'rc.2', 'alpha', 'beta.10', 'alpine')),
      )
      .map(([a, b, pre]) => `${a}${b === null ? '' : `.${b}`}${pre === null ? '' : `-${pre}`}`);
    fc.assert(
      fc.property(tag, tag, tag, (a, b, c) => {
        const [x, y, z] = [version(a), version(b), version(c)];
        expect(Math.sign(compareVersions(x, y))).toBe(-Math.sign(compareVersions(y, x)) || 0);
        if (compareVersions(x, y) <= 0 && compareVersions(y, z) <= 0)
          expect(compareVersions(x, z)).toBeLessThanOrEqual(0);
      }),
    );
  });
});

describe('oldestFirst', () => {
  it('puts other tags first in registry order, then versions by version', () => {
    expect(oldestFirst(['v1.10', 'latest', 'v1.9', 'main', 'v1.0', 'v1.10-rc.1'])).toEqual([
      'latest',
      'main',
      'v1.0',
      'v1.9',
      'v1.10-rc.1',
      'v1.10',
    ]);
  });

  it('keeps the registry order between equal versions', () => {
    expect(oldestFirst(['1.2.0', 'v1.2', '1.2'])).toEqual(['1.2.0', 'v1.2', '1.2']);
  });
});

describe('newestTags', () => {
  const tags = ['b', 'latest', 'v1.0', 'v1.9', 'v1.10', 'a', 'v2.0-rc.1'];

  it('keeps the newest topX matching tags, newest first', () => {
    expect(newestTags(tags, { tagFilter: /^v[0-9]+\./, topX: 3 })).toEqual(['v2.0-rc.1', 'v1.10', 'v1.9']);
  });

  it('fills up with other tags, last in registry order first, when there are too few versions', () => {
    expect(newestTags(['x', 'v1', 'y'], { topX: 3 })).toEqual(['v1', 'y', 'x']);
  });

  it('keeps every matching tag without topX, and each tag once', () => {
    expect(newestTags(['a', 'v1', 'a'], {})).toEqual(['v1', 'a']);
  });

  it('searches tagFilter anywhere in the tag, as a regex does', () => {
    expect(newestTags(['1.22-alpine', '1.22-bookworm', '1.23-alpine'], { tagFilter: /alpine/ })).toEqual([
      '1.23-alpine',
      '1.22-alpine',
    ]);
  });
});

describe('versionReader (the pipeline form, as Go Drop reads registry tags)', () => {
  // Drop's registry example: GitLab runner helper tags.
  const HELPER = [
    'x86_64-v17.3.0',
    'x86_64-v17.4.0',
    'x86_64-latest',
    'x86_64-v17.5.0',
    'x86_64-v17.10.0',
    'x86_64-v17.9.0',
  ];

  it('with versionPattern, picks x86_64-v17.10.0 over x86_64-v17.9.0 (Drop’s documented result)', () => {
    const kept = newestTags(HELPER, {
      tagFilter: /^x86_64-v[0-9]+\./,
      topX: 3,
      versionOf: versionReader(/x86_64-v(.+)/),
    });
    expect(kept).toEqual(['x86_64-v17.10.0', 'x86_64-v17.9.0', 'x86_64-v17.5.0']);
  });

  it('without versionPattern, finds the version embedded in a tag', () => {
    expect(newestTags(HELPER, { tagFilter: /^x86_64-v/, versionOf: versionReader() })).toEqual([
      'x86_64-v17.10.0',
      'x86_64-v17.9.0',
      'x86_64-v17.5.0',
      'x86_64-v17.4.0',
      'x86_64-v17.3.0',
    ]);
  });

  it('puts tags without a version after the versioned ones, in the registry’s order', () => {
    expect(newestTags(['main', 'build-1.2.3', 'latest', 'v1.10.0'], { versionOf: versionReader() })).toEqual([
      'v1.10.0',
      'build-1.2.3',
      'latest',
      'main',
    ]);
  });

  it('reads a pattern’s group strictly or embedded, and a tag it does not match as no version', () => {
    const read = versionReader(/^release-(.+)$/);
    expect(read('release-2.1')).toEqual({ numbers: ['2', '1'], prerelease: [] });
    expect(read('release-build-3.4.5')).toEqual({ numbers: ['3', '4', '5'], prerelease: [] });
    expect(read('2.1')).toBeUndefined();
  });
});
