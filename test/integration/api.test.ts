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

  it('kubectl get drop lists every Drop kind and explain documents the fields', async () => {
    expect(await kubectl(['get', 'drop'])).toBeDefined();
    expect(await kubectl(['explain', 'cachedimage.spec.tag'])).toMatch(/mutually exclusive with digest/);
    expect(await kubectl(['explain', 'pullpolicy.spec.minDelayBetweenPulls'])).toMatch(
      /successive pull starts/,
    );
  });
});
