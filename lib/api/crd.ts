import { z } from 'zod';
import { GROUP, VERSION } from './common.ts';
import type { KindInfo } from './kinds.ts';

type Schema = { [key: string]: unknown };

/** The CustomResourceDefinition for one kind, derived from its zod schemas. */
export function crdFor(info: KindInfo, options: { specRequired: boolean }): Schema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${info.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Cluster',
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: info.plural,
        singular: info.singular,
        shortNames: [...info.shortNames],
        categories: ['drop'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: info.columns.map((c) => ({ ...c, name: c.name.toUpperCase() })),
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: info.description,
              properties: {
                apiVersion: { type: 'string', description: 'drop.corewire.io/v1alpha1' },
                kind: { type: 'string', description: info.kind },
                metadata: { type: 'object' },
                spec: structural(z.toJSONSchema(info.spec, { target: 'openapi-3.0', io: 'input' })),
                status: structural(z.toJSONSchema(info.status, { target: 'openapi-3.0', io: 'output' })),
              },
              ...(options.specRequired ? { required: ['spec'] } : {}),
            },
          },
        },
      ],
    },
  };
}

const UNBOUNDED = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/**
 * Rewrites JSON Schema into a Kubernetes structural schema: no $schema, no additionalProperties:
 * false (forbidden next to properties), no "required" on fields zod marks required only for output,
 * no safe-integer bounds (noise in kubectl explain).
 */
export function structural(node: unknown): Schema {
  if (Array.isArray(node)) return node.map(structural) as unknown as Schema;
  if (!node || typeof node !== 'object') return node as Schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node as Schema)) {
    if (key === '$schema' || key === 'id' || key === '$id') continue;
    if (key === 'additionalProperties' && value === false) continue;
    if ((key === 'maximum' || key === 'minimum') && UNBOUNDED.has(value as number)) continue;
    if (key === 'properties' || key === 'additionalProperties' || key === 'items') {
      out[key] =
        key === 'properties'
          ? Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, structural(v)]))
          : structural(value);
      continue;
    }
    out[key] = value;
  }
  return out;
}
