import { z } from 'zod';
import { localObjectReferenceSchema } from './core.ts';
import { httpUrl, regexSchema } from './discovery-fields.ts';
import { durationSchema } from './fields.ts';

// The first form of a DiscoveryPolicy: `sources[]`, scored by summing. Kept beside the pipeline
// form (queries → signals → ranking) of discovery-queries.ts, discovery-signals.ts, discovery-ranking.ts.

export const prometheusSourceSchema = z
  .object({
    endpoint: httpUrl(
      'Base URL of a Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics), e.g. https://mimir.example.com.',
    ),
    query: z.string().min(1).meta({
      description:
        'PromQL returning series with an image label; the value is the score (higher is cached first).',
    }),
    lookback: durationSchema(
      'With lookback: query_range over [now-lookback, now] at step, values summed per image. Without: an instant query.',
    ).optional(),
    step: durationSchema('Resolution of range queries.').default('5m'),
  })
  .meta({ description: 'Rank images by a Prometheus query.' });

export const registrySourceSchema = z
  .object({
    url: httpUrl('Base URL of an OCI distribution registry, e.g. https://registry.example.com.'),
    repositories: z
      .array(z.string().min(1).meta({ description: 'Repository path below the registry.' }))
      .min(1)
      .meta({
        description: 'Repositories to list tags from, e.g. team/frontend.',
        'x-kubernetes-list-type': 'set',
      }),
    tagFilter: regexSchema(
      'Regular expression a tag must match, e.g. ^v[0-9]+\\. Unset: every tag.',
    ).optional(),
    topX: z.number().int().min(1).optional().meta({
      description:
        'Keep the newest N matching tags per repository (semantic versions by version). Unset: all.',
    }),
  })
  .meta({ description: 'Discover the newest tags of registry repositories.' });

const SOURCE_RULES = [
  {
    rule: "self.type != 'prometheus' || has(self.prometheus)",
    message: 'a prometheus source needs the prometheus field',
  },
  {
    rule: "self.type != 'registry' || has(self.registry)",
    message: 'a registry source needs the registry field',
  },
  {
    rule: '!(has(self.prometheus) && has(self.registry))',
    message: 'a source is either prometheus or registry, not both',
  },
] as const;

export const secretRefSchema = localObjectReferenceSchema.optional().meta({
  description:
    'Credentials: a Secret in the Drop namespace with keys token, username, password, ca.crt, tls.crt, tls.key, headers.<name>.',
});

export const sourceSchema = z
  .object({
    type: z
      .enum(['prometheus', 'registry'])
      .meta({ description: 'prometheus or registry; set the field of that name.' }),
    prometheus: prometheusSourceSchema.optional(),
    registry: registrySourceSchema.optional(),
    secretRef: secretRefSchema,
  })
  .refine((s) => s.type !== 'prometheus' || s.prometheus !== undefined, {
    message: SOURCE_RULES[0].message,
  })
  .refine((s) => s.type !== 'registry' || s.registry !== undefined, { message: SOURCE_RULES[1].message })
  .refine((s) => !(s.prometheus && s.registry), { message: SOURCE_RULES[2].message })
  .meta({ description: 'One place to discover images from.', 'x-kubernetes-validations': [...SOURCE_RULES] });

export type DiscoverySource = z.output<typeof sourceSchema>;
export type PrometheusSource = z.output<typeof prometheusSourceSchema>;
export type RegistrySource = z.output<typeof registrySourceSchema>;
