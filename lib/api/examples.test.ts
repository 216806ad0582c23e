import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type KindName, kinds } from './kinds.ts';
import { parseSpec } from './parse.ts';

const EXAMPLES = new URL('../../examples/', import.meta.url);
// Where the users' manifests come from, beside the repository on development machines.
const USERS = new URL('../../../shared/examples/', import.meta.url);
const USER_EXAMPLES = [
  'cachedimage-alpine.yaml',
  'cachedimage-golang-ci.yaml',
  'cachedimage-nginx.yaml',
  'discovery-prometheus.yaml',
  'discovery-registry.yaml',
  'private-registry-set.yaml',
  'pullpolicy-and-set.yaml',
];

function exampleDocuments(): { name: string; kind: KindName; doc: Record<string, unknown> }[] {
  return readdirSync(EXAMPLES)
    .filter((file) => file.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(new URL(file, EXAMPLES), 'utf8')).map((d) => ({
        file,
        doc: d.toJS() as Record<string, unknown>,
      })),
    )
    .filter(({ doc }) => typeof doc.kind === 'string' && doc.kind in kinds)
    .map(({ file, doc }) => ({
      name: `${file}: ${doc.kind}/${(doc.metadata as { name: string }).name}`,
      kind: doc.kind as KindName,
      doc,
    }));
}

function example(name: string): unknown {
  const found = exampleDocuments().find((e) => e.name === name);
  if (!found) throw new Error(`no example ${name}`);
  return kinds[found.kind].schema.parse(found.doc);
}

describe('examples/', () => {
  it("holds the users' manifests unchanged", () => {
    expect(
      readdirSync(EXAMPLES)
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
    ).toEqual(USER_EXAMPLES);
    // A clean clone has no ../shared: there the list above is the check; beside it, every byte too.
    if (!existsSync(USERS)) return;
    expect(
      readdirSync(USERS)
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
    ).toEqual(USER_EXAMPLES);
    for (const file of USER_EXAMPLES) {
      expect(readFileSync(new URL(file, EXAMPLES), 'utf8'), file).toBe(
        readFileSync(new URL(file, USERS), 'utf8'),
      );
    }
  });
});

describe("the users' example manifests", () => {
  const documents = exampleDocuments();

  it('include every kind (Secrets are skipped)', () => {
    expect(new Set(documents.map((d) => d.kind))).toEqual(new Set(Object.keys(kinds)));
  });

  it.each(documents.map((d) => [d.name, d] as const))(
    '%s parses as a whole object',
    (_name, { kind, doc }) => {
      const parsed = kinds[kind].schema.safeParse(doc);
      expect(parsed.error?.issues ?? []).toEqual([]);
      expect(parseSpec(kinds[kind].spec, doc.spec)).toMatchObject({ ok: true });
    },
  );

  it('a CachedImage gets imagePullPolicy Always and priority 0', () => {
    expect(example('cachedimage-nginx.yaml: CachedImage/nginx')).toMatchObject({
      apiVersion: 'drop.corewire.io/v1alpha1',
      spec: { image: 'docker.io/library/nginx', tag: '1.25-alpine', imagePullPolicy: 'Always', priority: 0 },
    });
  });

  it('the golang CI image keeps its selector and toleration', () => {
    expect(example('cachedimage-golang-ci.yaml: CachedImage/golang-ci')).toMatchObject({
      spec: {
        nodeSelector: { 'node-role.kubernetes.io/build': 'true' },
        tolerations: [{ key: 'node-role.kubernetes.io/build', operator: 'Exists', effect: 'NoSchedule' }],
      },
    });
  });

  it('a PullPolicy fills in what the user left out', () => {
    expect(example('pullpolicy-and-set.yaml: PullPolicy/ci-cache-conservative')).toMatchObject({
      spec: {
        maxConcurrentNodes: 2,
        minDelayBetweenPulls: '30s',
        failureBackoff: { initial: '1m', max: '10m' },
        maxConcurrentPullsPerNode: 1,
      },
    });
  });

  it('a DiscoveryPolicy keeps its own settings and defaults the step', () => {
    expect(example('discovery-registry.yaml: DiscoveryPolicy/latest-app-tags')).toMatchObject({
      spec: {
        syncInterval: '15m',
        maxImages: 10,
        sources: [{ type: 'registry', registry: { topX: 3, tagFilter: '^v[0-9]+\\.' } }],
      },
    });
    expect(example('discovery-prometheus.yaml: DiscoveryPolicy/popular-build-images')).toMatchObject({
      spec: {
        sources: [{ prometheus: { lookback: '168h', step: '5m' }, secretRef: { name: 'prometheus-creds' } }],
      },
    });
  });

  it('a CachedImageSet does not invent settings its children would inherit', () => {
    const set = example('private-registry-set.yaml: CachedImageSet/private-ci-images') as { spec: object };
    expect(set.spec).toEqual({
      imagePullSecrets: [{ name: 'private-registry-pull' }],
      images: [
        { image: 'registry.example.com/ci/builder', tag: 'v3.1.0' },
        { image: 'registry.example.com/ci/test-runner', tag: 'v2.8.4' },
      ],
    });
  });
});
