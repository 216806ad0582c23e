import { describe, expect, it } from 'vitest';
import { cachedImageStatusSchema } from './cached-image.ts';
import { discoveredReferences } from './discovery-status.ts';
import { type KindName, kinds } from './kinds.ts';
import { parseSpec } from './parse.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('parseSpec', () => {
  it('applies every default of an empty PullPolicy', () => {
    expect(parseSpec(kinds.PullPolicy.spec, undefined)).toEqual({
      ok: true,
      spec: {
        maxConcurrentNodes: 1,
        minDelayBetweenPulls: '10s',
        failureBackoff: { initial: '30s', max: '5m' },
        maxConcurrentPullsPerNode: 1,
      },
    });
  });

  it('fills in half a failureBackoff', () => {
    expect(parseSpec(kinds.PullPolicy.spec, { failureBackoff: { max: '1h' } })).toMatchObject({
      ok: true,
      spec: { failureBackoff: { initial: '30s', max: '1h' } },
    });
  });

  it('applies the DiscoveryPolicy defaults', () => {
    const spec = { sources: [{ type: 'prometheus', prometheus: { endpoint: 'http://p:9090', query: 'x' } }] };
    expect(parseSpec(kinds.DiscoveryPolicy.spec, spec)).toMatchObject({
      ok: true,
      spec: { syncInterval: '30m', maxImages: 50, sources: [{ prometheus: { step: '5m' } }] },
    });
  });

  it('accepts an image with neither tag nor digest (latest), or with a digest', () => {
    expect(parseSpec(kinds.CachedImage.spec, { image: 'nginx' })).toMatchObject({
      ok: true,
      spec: { image: 'nginx' },
    });
    expect(parseSpec(kinds.CachedImage.spec, { image: 'registry:5000/x/y', digest: DIGEST })).toMatchObject({
      ok: true,
    });
  });

  it('accepts an empty CachedImageSet (READY 0/0)', () => {
    expect(parseSpec(kinds.CachedImageSet.spec, {})).toEqual({ ok: true, spec: {} });
  });

  it.each<[string, KindName, unknown, RegExp]>([
    [
      'tag with digest',
      'CachedImage',
      { image: 'x/y', tag: '1', digest: DIGEST },
      /^spec: tag and digest are mutually exclusive/,
    ],
    [
      'tag with digest in a set entry',
      'CachedImageSet',
      { images: [{ image: 'x', tag: '1', digest: DIGEST }] },
      /^spec\.images\[0\]: tag and digest/,
    ],
    [
      'an unknown pull policy',
      'CachedImage',
      { image: 'x/y', imagePullPolicy: 'Sometimes' },
      /^spec\.imagePullPolicy: .*"Always"\|"IfNotPresent"\|"Never"/,
    ],
    [
      'a duration in words',
      'PullPolicy',
      { minDelayBetweenPulls: '10 seconds' },
      /^spec\.minDelayBetweenPulls: "[^"]*" is not a Go duration: a number and a unit/,
    ],
    [
      'a day unit Go does not know',
      'DiscoveryPolicy',
      { syncInterval: '1d', sources: [] },
      /spec\.syncInterval: "1d" is not a Go duration: .*no days/,
    ],
    [
      'a backoff that starts above its cap',
      'PullPolicy',
      { failureBackoff: { initial: '10m' } },
      /initial must not be longer than failureBackoff\.max/,
    ],
    ['zero nodes at a time', 'PullPolicy', { maxConcurrentNodes: 0 }, /^spec\.maxConcurrentNodes: /],
    ['a missing image', 'CachedImage', {}, /^spec\.image: /],
    [
      'a tag inside image',
      'CachedImage',
      { image: 'nginx:1.25' },
      /image must not contain a tag: put it in tag/,
    ],
    ['a digest inside image', 'CachedImage', { image: `nginx@${DIGEST}` }, /image must not contain a digest/],
    [
      'an uppercase repository',
      'CachedImage',
      { image: 'docker.io/library/NGINX' },
      /lowercase path components/,
    ],
    [
      'a short digest',
      'CachedImage',
      { image: 'x', digest: 'sha256:abc' },
      /^spec\.digest: "[^"]*" is not a digest: sha256: followed by 64/,
    ],
    ['a tag starting with a dot', 'CachedImage', { image: 'x', tag: '.1' }, /^spec\.tag: /],
    [
      'a Secret name with capitals',
      'CachedImage',
      { image: 'x', imagePullSecrets: [{ name: 'Reg' }] },
      /^spec\.imagePullSecrets\[0\]\.name: "[^"]*" is not an object name: lowercase letters/,
    ],
    [
      'an Exists toleration with a value',
      'CachedImage',
      { image: 'x', tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] },
      /^spec\.tolerations\[0\]: a toleration with operator Exists must not have a value/,
    ],
    [
      'a prometheus source without prometheus',
      'DiscoveryPolicy',
      { sources: [{ type: 'prometheus' }] },
      /^spec\.sources\[0\]: a prometheus source needs the prometheus field/,
    ],
    [
      'an unknown source type',
      'DiscoveryPolicy',
      { sources: [{ type: 'gitlab' }] },
      /^spec\.sources\[0\]\.type: /,
    ],
    ['no sources', 'DiscoveryPolicy', { sources: [] }, /^spec\.sources: /],
    [
      'a tagFilter JavaScript cannot compile',
      'DiscoveryPolicy',
      {
        sources: [{ type: 'registry', registry: { url: 'https://r', repositories: ['a'], tagFilter: '(' } }],
      },
      /^spec\.sources\[0\]\.registry\.tagFilter: is not a valid regular expression/,
    ],
    [
      'a non-HTTP endpoint',
      'DiscoveryPolicy',
      { sources: [{ type: 'prometheus', prometheus: { endpoint: 'mimir:9090', query: 'q' } }] },
      /endpoint: "mimir:9090" is not an http:\/\/ or https:\/\/ URL/,
    ],
  ])('rejects %s with a message naming the field', (_name, kind, spec, message) => {
    const parsed = parseSpec(kinds[kind].spec, spec);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });

  it('lists at most three problems and counts the rest', () => {
    const parsed = parseSpec(kinds.PullPolicy.spec, {
      maxConcurrentNodes: 0,
      maxConcurrentPulls: 0,
      maxConcurrentPullsPerNode: 0,
      minDelayBetweenPulls: 'x',
      repullInterval: 'y',
    });
    expect(parsed).toMatchObject({ ok: false, message: expect.stringMatching(/; and 2 more$/) });
  });
});

describe('status schemas', () => {
  it('keep fields a newer controller wrote', () => {
    const status = { phase: 'Ready', ready: '1/1', futureField: { x: 1 }, failedNodes: [] };
    expect(cachedImageStatusSchema.parse(status)).toEqual(status);
  });
});

describe('the pipeline form of a DiscoveryPolicy', () => {
  const registry = { url: 'http://r:5000', repositories: ['team/app'] };

  it('applies Go Drop’s defaults', () => {
    const parsed = parseSpec(kinds.DiscoveryPolicy.spec, {
      queries: [
        { name: 'p', type: 'prometheus', prometheus: { endpoint: 'http://p:9090', query: 'up' } },
        { name: 'r', type: 'registry', registry },
        { name: 'e', type: 'kubernetesEvents' },
      ],
      signals: [{ name: 'pull', queryRef: 'e', type: 'eventPullTime', eventPullTime: { statistic: 'p95' } }],
      ranking: { strategy: 'weightedSum', weightedSum: { terms: [{ signalRef: 'pull', weight: '700m' }] } },
    });
    if (!parsed.ok) throw new Error(parsed.message);
    const [prometheus, tags] = parsed.spec.queries ?? [];
    expect(prometheus?.prometheus).toMatchObject({ queryType: 'range', step: '5m' });
    expect(tags?.registry).toMatchObject({ maxScan: 1000 });
    expect(parsed.spec.signals?.[0]?.eventPullTime).toEqual({
      metric: 'pullTime',
      statistic: 'p95',
      includeCacheHits: false,
      durationMode: 'messageDuration',
    });
    expect(parsed.spec.ranking?.weightedSum).toMatchObject({ normalize: 'minMax', missingSignal: 'zero' });
  });

  it.each([
    [
      'a time window over registry tags',
      {
        queries: [{ name: 'r', type: 'registry', registry }],
        signals: [
          { name: 's', query: 'r', type: 'windowAggregate', windowAggregate: { relativeWindow: '1h' } },
        ],
      },
      'spec.signals[0]: signal s reads query r: windowAggregate needs samples over time; a registry query lists tags',
    ],
    [
      'pull times from Prometheus',
      {
        queries: [{ name: 'p', type: 'prometheus', prometheus: { endpoint: 'http://p:9090', query: 'up' } }],
        signals: [{ name: 's', query: 'p', type: 'eventPullTime', eventPullTime: { statistic: 'avg' } }],
      },
      'eventPullTime needs pull events (a loki or kubernetesEvents query), not prometheus',
    ],
    [
      'an unknown time zone',
      {
        queries: [{ name: 'p', type: 'prometheus', prometheus: { endpoint: 'http://p:9090', query: 'up' } }],
        signals: [
          {
            name: 's',
            query: 'p',
            type: 'timeWeightedAggregate',
            timeWeightedAggregate: {
              timezone: 'Mars/Olympus',
              defaultWeight: '0',
              windows: [{ startHour: 9, endHour: 17, weight: '1' }],
            },
          },
        ],
      },
      'is not an IANA time zone such as Europe/Berlin',
    ],
    [
      'a versionPattern without a capture group',
      { queries: [{ name: 'r', type: 'registry', registry: { ...registry, versionPattern: 'x86_64-v.+' } }] },
      'must be a regular expression with a capture group',
    ],
  ])('says what is wrong with %s', (_, spec, message) => {
    const parsed = parseSpec(kinds.DiscoveryPolicy.spec, spec);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain(message);
  });

  it('reads the images of a status written before discoveredImages', () => {
    expect(
      discoveredReferences({
        images: [{ reference: 'docker.io/library/golang:1.22', image: 'docker.io/library/golang' }],
      }),
    ).toEqual(['docker.io/library/golang:1.22']);
    expect(
      discoveredReferences({ discoveredImages: [{ image: 'r.io/a:1', rank: 1, finalScore: '1' }] }),
    ).toEqual(['r.io/a:1']);
    expect(discoveredReferences(undefined)).toEqual([]);
  });
});
