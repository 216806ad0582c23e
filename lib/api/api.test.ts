import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { renderCrds } from './gen.ts';
import { kinds } from './kinds.ts';
import { parseSpec } from './parse.ts';

const CRDS = new URL('../../crds/', import.meta.url);
const EXAMPLES = new URL('../../../shared/examples/', import.meta.url);

describe('generated CRDs', () => {
  it('crds/ is up to date with lib/api (run npm run gen)', () => {
    for (const [file, text] of Object.entries(renderCrds())) {
      expect(readFileSync(new URL(file, CRDS), 'utf8'), `crds/${file} is stale: run npm run gen`).toBe(text);
    }
  });

  it('every schema node is structural: typed, no $ref, no additionalProperties: false', () => {
    const problems: string[] = [];
    const walk = (node: Record<string, unknown>, path: string) => {
      if (!node.type && !node['x-kubernetes-preserve-unknown-fields'] && !node['x-kubernetes-int-or-string'])
        problems.push(`${path} has no type`);
      for (const key of ['$ref', '$schema', 'anyOf', 'oneOf', 'allOf'])
        if (key in node) problems.push(`${path} uses ${key}`);
      if (node.additionalProperties === false) problems.push(`${path} has additionalProperties: false`);
      for (const [name, child] of Object.entries(
        (node.properties as Record<string, Record<string, unknown>>) ?? {},
      ))
        walk(child, `${path}.${name}`);
      if (node.items) walk(node.items as Record<string, unknown>, `${path}[]`);
      if (node.additionalProperties && typeof node.additionalProperties === 'object')
        walk(node.additionalProperties as Record<string, unknown>, `${path}{}`);
    };
    for (const text of Object.values(renderCrds())) {
      const crd = parseAllDocuments(text)[0]?.toJS() as {
        spec: {
          names: { kind: string };
          versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[];
        };
      };
      walk(crd.spec.versions[0]!.schema.openAPIV3Schema, crd.spec.names.kind);
    }
    expect(problems).toEqual([]);
  });

  it('every field has a description for kubectl explain', () => {
    const text = readFileSync(new URL('cachedimages.yaml', CRDS), 'utf8');
    for (const field of [
      'image',
      'tag',
      'digest',
      'imagePullPolicy',
      'nodeSelector',
      'tolerations',
      'policyRef',
      'priority',
    ]) {
      expect(text).toMatch(new RegExp(`\\n\\s+${field}:\\n(\\s+.*\\n)*?\\s+description: `));
    }
  });
});

describe('the users’ example manifests', () => {
  const documents = readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(new URL(file, EXAMPLES), 'utf8')).map((d) => ({
        file,
        doc: d.toJS() as { kind: string; spec: unknown },
      })),
    )
    .filter(({ doc }) => doc.kind in kinds);

  it.each(documents.map(({ file, doc }) => [`${file}: ${doc.kind}`, doc] as const))(
    '%s parses',
    (_name, doc) => {
      const parsed = parseSpec(doc.kind as keyof typeof kinds, doc.spec);
      expect(parsed).toMatchObject({ ok: true });
    },
  );

  it('applies defaults', () => {
    expect(parseSpec('CachedImage', { image: 'docker.io/library/nginx' })).toMatchObject({
      ok: true,
      spec: { imagePullPolicy: 'Always', priority: 0 },
    });
    expect(parseSpec('PullPolicy', {})).toMatchObject({
      ok: true,
      spec: {
        maxConcurrentNodes: 1,
        minDelayBetweenPulls: '10s',
        failureBackoff: { initial: '30s', max: '5m' },
        maxConcurrentPullsPerNode: 1,
      },
    });
    expect(
      parseSpec('DiscoveryPolicy', {
        sources: [{ type: 'prometheus', prometheus: { endpoint: 'http://p:9090', query: 'x' } }],
      }),
    ).toMatchObject({
      ok: true,
      spec: { syncInterval: '30m', maxImages: 50, sources: [{ prometheus: { step: '5m' } }] },
    });
  });

  it.each([
    ['CachedImage', { image: 'x/y', tag: '1', digest: `sha256:${'a'.repeat(64)}` }, /mutually exclusive/],
    ['CachedImage', { image: 'x/y', imagePullPolicy: 'Sometimes' }, /imagePullPolicy/],
    ['PullPolicy', { minDelayBetweenPulls: '10 seconds' }, /Go duration/],
    ['CachedImage', {}, /spec\.image/],
  ] as const)('rejects a bad %s spec with a clear message', (kind, spec, message) => {
    const parsed = parseSpec(kind, spec);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });
});
