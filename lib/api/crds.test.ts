import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KUSTOMIZATION_FILE, renderCrds, renderKustomization } from './gen.ts';
import { kinds } from './kinds.ts';

const CRDS = new URL('../../crds/', import.meta.url);

type Schema = {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  [key: string]: unknown;
};
interface Crd {
  spec: {
    scope: string;
    names: { kind: string; plural: string; shortNames: string[]; categories: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources: unknown;
      additionalPrinterColumns: { name: string; jsonPath: string; type: string; priority?: number }[];
      schema: { openAPIV3Schema: Schema };
    }[];
  };
}

const crds = Object.values(renderCrds()).map((text) => parse(text) as Crd);
const version = (crd: Crd) => crd.spec.versions[0]!;

/** Every schema node below the root, with a readable path. */
function nodes(schema: Schema, path: string): [string, Schema][] {
  const children: [string, Schema][] = [
    ...Object.entries(schema.properties ?? {}).map(([k, v]) => [`${path}.${k}`, v] as [string, Schema]),
    ...(schema.items ? [[`${path}[]`, schema.items] as [string, Schema]] : []),
    ...(typeof schema.additionalProperties === 'object'
      ? [[`${path}{}`, schema.additionalProperties] as [string, Schema]]
      : []),
  ];
  return [[path, schema], ...children.flatMap(([p, s]) => nodes(s, p))];
}

describe('crds/', () => {
  it('is what npm run gen writes from lib/api (run it after changing a schema)', () => {
    for (const [file, text] of Object.entries(renderCrds())) {
      expect(readFileSync(new URL(file, CRDS), 'utf8'), `crds/${file} is stale: run npm run gen`).toBe(text);
    }
    expect(
      readFileSync(new URL(KUSTOMIZATION_FILE, CRDS), 'utf8'),
      `crds/${KUSTOMIZATION_FILE} is stale: run npm run gen`,
    ).toBe(renderKustomization(Object.keys(renderCrds())));
  });

  it('holds one cluster-scoped CRD per kind, in category drop, with a status subresource', () => {
    expect(crds.map((c) => c.spec.names.kind).sort()).toEqual(Object.keys(kinds).sort());
    for (const crd of crds) {
      expect(crd.spec.scope).toBe('Cluster');
      expect(crd.spec.names.categories).toEqual(['drop']);
      expect(crd.spec.versions).toHaveLength(1);
      expect(version(crd)).toMatchObject({
        name: 'v1alpha1',
        served: true,
        storage: true,
        subresources: { status: {} },
      });
    }
  });

  it('uses short names that clash neither with each other nor with built-in resources', () => {
    const builtIn = [
      'cm',
      'cs',
      'csr',
      'crd',
      'crds',
      'ds',
      'deploy',
      'ep',
      'ev',
      'hpa',
      'ing',
      'limits',
      'netpol',
      'no',
      'ns',
      'pc',
      'pdb',
      'po',
      'psp',
      'pv',
      'pvc',
      'quota',
      'rc',
      'rs',
      'sa',
      'sc',
      'sts',
      'svc',
    ];
    const short = crds.flatMap((c) => c.spec.names.shortNames);
    expect(new Set(short).size).toBe(short.length);
    expect(short.filter((s) => builtIn.includes(s))).toEqual([]);
  });

  it.each([
    ['cachedimages', 'IMAGE TAG STATUS READY AGE', 'OUTDATED DIGEST SET POLICY MESSAGE'],
    ['cachedimagesets', 'STATUS READY MANAGED SOURCE AGE', 'MESSAGE'],
    ['discoverypolicies', 'STATUS SOURCES IMAGES LASTSYNC AGE', 'RANKING MESSAGE'],
    ['pullpolicies', 'MAXNODES MAXPULLS MINDELAY AGE', ''],
  ])(
    'kubectl get %s shows the columns of docs/design.md §API (NAME comes by itself)',
    (plural, normal, wide) => {
      const crd = crds.find((c) => c.spec.names.plural === plural)!;
      const columns = version(crd).additionalPrinterColumns;
      const named = (wanted: boolean) =>
        columns
          .filter((c) => (c.priority === 1) === wanted)
          .map((c) => c.name)
          .join(' ');
      expect(named(false)).toBe(normal);
      expect(named(true)).toBe(wide);
      expect(columns.find((c) => c.name === 'AGE')).toEqual({
        name: 'AGE',
        type: 'date',
        jsonPath: '.metadata.creationTimestamp',
      });
      const ready = columns.find((c) => c.name === 'READY');
      if (ready) expect(ready).toMatchObject({ type: 'string', jsonPath: '.status.ready' });
    },
  );

  it('has a structural schema: every node typed, no forbidden keywords, additionalProperties only for maps', () => {
    const problems: string[] = [];
    for (const crd of crds) {
      for (const [path, node] of nodes(version(crd).schema.openAPIV3Schema, crd.spec.names.kind)) {
        if (
          !node.type &&
          !node['x-kubernetes-int-or-string'] &&
          !node['x-kubernetes-preserve-unknown-fields']
        )
          problems.push(`${path} has no type`);
        for (const key of [
          '$ref',
          '$schema',
          'allOf',
          'anyOf',
          'oneOf',
          'not',
          'const',
          'nullable',
          'propertyNames',
        ])
          if (key in node) problems.push(`${path} uses ${key}`);
        if (
          'additionalProperties' in node &&
          (node.properties || typeof node.additionalProperties !== 'object')
        )
          problems.push(`${path} has additionalProperties ${JSON.stringify(node.additionalProperties)}`);
      }
      expect(version(crd).schema.openAPIV3Schema.properties?.metadata).toEqual({ type: 'object' });
    }
    expect(problems).toEqual([]);
  });

  it('describes every field, so that kubectl explain helps', () => {
    const undocumented = crds.flatMap((crd) =>
      nodes(version(crd).schema.openAPIV3Schema, crd.spec.names.kind)
        .filter(([path, node]) => !node.description && !path.endsWith('.metadata') && !path.endsWith('{}'))
        .map(([path]) => path),
    );
    expect(undocumented).toEqual([]);
  });

  it('gives every CEL rule a message (or a messageExpression that names the bad value)', () => {
    const rules = crds.flatMap((crd) =>
      nodes(version(crd).schema.openAPIV3Schema, crd.spec.names.kind).flatMap(
        ([, node]) =>
          (node['x-kubernetes-validations'] ?? []) as {
            rule: string;
            message?: string;
            messageExpression?: string;
          }[],
      ),
    );
    expect(rules.length).toBeGreaterThan(5);
    expect(rules.filter((r) => !r.message && !r.messageExpression)).toEqual([]);
  });
});
