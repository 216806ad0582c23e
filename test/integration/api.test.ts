import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kubectl, kubectlResult } from './harness.ts';

const EXAMPLES = new URL('../../examples/', import.meta.url).pathname;

describe('the CRDs on a real API server', () => {
  it('every example manifest applies unchanged (server-side dry run)', async () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
    for (const file of files) {
      const result = await kubectlResult(['apply', '--dry-run=server', '-f', `${EXAMPLES}${file}`]);
      expect(result.stderr, file).toBe('');
      expect(result.code, file).toBe(0);
    }
  });

  it('rejects tag together with digest at apply, with the rule message', async () => {
    const manifest = JSON.stringify({
      apiVersion: 'drop.corewire.io/v1alpha1',
      kind: 'CachedImage',
      metadata: { name: 'both-tag-and-digest' },
      spec: { image: 'docker.io/library/nginx', tag: '1', digest: `sha256:${'a'.repeat(64)}` },
    });
    const result = await kubectlResult(['apply', '--dry-run=server', '-f', '-'], { input: manifest });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/tag and digest are mutually exclusive/);
  });

  it('rejects a duration that is not a Go duration', async () => {
    const manifest = JSON.stringify({
      apiVersion: 'drop.corewire.io/v1alpha1',
      kind: 'PullPolicy',
      metadata: { name: 'bad-delay' },
      spec: { minDelayBetweenPulls: '10 seconds' },
    });
    const result = await kubectlResult(['apply', '--dry-run=server', '-f', '-'], { input: manifest });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/minDelayBetweenPulls/);
  });

  it.each([
    [
      'both forms',
      {
        sources: [{ type: 'registry', registry: { url: 'http://r:5000', repositories: ['a'] } }],
        queries: [{ name: 'q', type: 'registry', registry: { url: 'http://r:5000', repositories: ['a'] } }],
      },
      /set either sources or queries \(with signals and ranking\), not both/,
    ],
    ['neither form', { maxImages: 3 }, /set either sources or queries/],
    [
      'a signal of a query the policy does not have',
      {
        queries: [{ name: 'q', type: 'registry', registry: { url: 'http://r:5000', repositories: ['a'] } }],
        signals: [{ name: 's', query: 'nope', type: 'aggregate', aggregate: { method: 'sum' } }],
      },
      /every signal must name a query of this policy/,
    ],
    [
      'a ranking of a signal the policy does not have',
      {
        queries: [{ name: 'q', type: 'registry', registry: { url: 'http://r:5000', repositories: ['a'] } }],
        ranking: { strategy: 'signal', signal: 'missing' },
      },
      /ranking.signal must name a signal of this policy/,
    ],
    [
      'two queries of one name',
      {
        queries: [
          { name: 'q', type: 'registry', registry: { url: 'http://r:5000', repositories: ['a'] } },
          { name: 'q', type: 'registry', registry: { url: 'http://r:5000', repositories: ['b'] } },
        ],
      },
      /Duplicate value/,
    ],
    [
      'a query without the field its type names',
      { queries: [{ name: 'q', type: 'loki' }] },
      /type loki needs the loki field/,
    ],
    [
      'a window with a relative window',
      {
        queries: [{ name: 'q', type: 'prometheus', prometheus: { endpoint: 'http://p:9090', query: 'up' } }],
        signals: [
          {
            name: 's',
            query: 'q',
            type: 'windowAggregate',
            windowAggregate: {
              relativeWindow: '2h',
              window: { start: '09:00', end: '17:00' },
              timezone: 'UTC',
            },
          },
        ],
      },
      /set either relativeWindow or window, not both/,
    ],
  ])('rejects a DiscoveryPolicy with %s at apply, with the rule message', async (_, spec, message) => {
    const manifest = JSON.stringify({
      apiVersion: 'drop.corewire.io/v1alpha1',
      kind: 'DiscoveryPolicy',
      metadata: { name: 'bad-discovery' },
      spec,
    });
    const result = await kubectlResult(['apply', '--dry-run=server', '-f', '-'], { input: manifest });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });

  it('kubectl get drop lists every Drop kind and explain documents the fields', async () => {
    expect(await kubectl(['get', 'drop'])).toBeDefined();
    expect(await kubectl(['explain', 'cachedimage.spec.tag'])).toMatch(/mutually exclusive with digest/);
    expect(await kubectl(['explain', 'pullpolicy.spec.minDelayBetweenPulls'])).toMatch(
      /successive pull starts/,
    );
  });
});
