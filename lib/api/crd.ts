import { z } from 'zod';
import { CATEGORY, GROUP, VERSION } from './group.ts';
import type { KindInfo } from './kinds.ts';

export type JsonSchema = { readonly [key: string]: unknown };

/** The CustomResourceDefinition for one kind, derived from its zod schema. */
export function crdFor(info: KindInfo): JsonSchema {
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
        categories: [CATEGORY],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: info.columns.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: openApiSchemaFor(info) },
        },
      ],
    },
  };
}

function openApiSchemaFor(info: KindInfo): JsonSchema {
  const object = z.toJSONSchema(info.schema, { target: 'openapi-3.0', io: 'input' });
  const properties = object.properties ?? {};
  const required = (object.required ?? []).filter((field) => field === 'spec');
  return {
    type: 'object',
    description: object.description,
    properties: {
      // apiVersion, kind and metadata are the API server's; a CRD may only say they are there.
      apiVersion: {
        type: 'string',
        description: 'The versioned schema of this object: drop.corewire.io/v1alpha1.',
      },
      kind: { type: 'string', description: `The kind of this object: ${info.kind}.` },
      metadata: { type: 'object' },
      spec: structural(properties.spec, '.spec'),
      status: structural(properties.status, '.status'),
    },
    ...(required.length > 0 ? { required } : {}),
  };
}

// JSON Schema keywords a structural schema may not use (apiextensions.k8s.io/v1 "structural schema").
const FORBIDDEN = ['$ref', 'allOf', 'anyOf', 'oneOf', 'not', 'const', 'nullable', 'patternProperties'];
const UNBOUNDED = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);
const DROPPED = new Set(['$schema', '$id', 'id', 'propertyNames']);

/**
 * Rewrites zod's JSON Schema into a Kubernetes structural schema: no $schema or propertyNames, no
 * additionalProperties beside properties (zod's loose objects add `{}`, strict ones `false`; both
 * are forbidden there), no safe-integer bounds (noise in `kubectl explain`), and `type` and
 * `description` first so the YAML reads well. Anything that cannot be structural is a bug in
 * lib/api and fails generation.
 */
export function structural(node: unknown, path = ''): JsonSchema {
  if (!node || typeof node !== 'object' || Array.isArray(node)) throw new Error(`${path}: not a schema`);
  const input = node as JsonSchema;
  // An int-or-string (a resource.Quantity) is the one untyped node a structural schema allows; its
  // zod union's anyOf adds nothing the pattern does not say.
  if (input['x-kubernetes-int-or-string'] === true) {
    const { description, pattern } = input;
    return {
      ...(description ? { description } : {}),
      'x-kubernetes-int-or-string': true,
      ...(pattern ? { pattern } : {}),
    };
  }
  for (const key of FORBIDDEN)
    if (key in input) throw new Error(`${path || 'schema'} uses ${key}, which a structural schema forbids`);
  const out: Record<string, unknown> = { type: input.type, description: input.description };
  for (const [key, value] of Object.entries(input)) {
    if (key === 'type' || key === 'description' || DROPPED.has(key)) continue;
    if ((key === 'minimum' || key === 'maximum') && UNBOUNDED.has(value as number)) continue;
    if (key === 'properties') {
      const entries = Object.entries(value as JsonSchema).map(([k, v]) => [k, structural(v, `${path}.${k}`)]);
      out.properties = Object.fromEntries(entries);
    } else if (key === 'items') {
      out.items = structural(value, `${path}[]`);
    } else if (key === 'additionalProperties') {
      if (typeof value === 'object' && value && !('properties' in input) && Object.keys(value).length > 0)
        out.additionalProperties = structural(value, `${path}{}`);
    } else {
      out[key] = value;
    }
  }
  if (out.description === undefined) delete out.description;
  return out;
}
