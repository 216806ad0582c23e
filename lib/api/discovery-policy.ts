import { z } from 'zod';
import { kindSchema, localObjectReferenceSchema, timestampSchema } from './core.ts';
import { countSchema, durationSchema, statusFields } from './fields.ts';

const HTTP_URL = '^https?://[^\\s/?#]+[^\\s]*$';
const httpUrl = (description: string) =>
  z.string().regex(new RegExp(HTTP_URL), 'must be an http:// or https:// URL').meta({ description });

// Discovery runs the filters in JavaScript, so a pattern JavaScript cannot compile is an error
// the user must see in status; the CRD cannot check it (CEL has no regex-validity test).
const regexSchema = (description: string) =>
  z.string().refine(isRegex, { message: 'is not a valid regular expression' }).meta({ description });

function isRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

const prometheusSourceSchema = z
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

const registrySourceSchema = z
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

const sourceSchema = z
  .object({
    type: z
      .enum(['prometheus', 'registry'])
      .meta({ description: 'prometheus or registry; set the field of that name.' }),
    prometheus: prometheusSourceSchema.optional(),
    registry: registrySourceSchema.optional(),
    secretRef: localObjectReferenceSchema.optional().meta({
      description:
        'Credentials: a Secret in the Drop namespace with keys token, username, password, ca.crt, tls.crt, tls.key, headers.<name>.',
    }),
  })
  .refine((s) => s.type !== 'prometheus' || s.prometheus !== undefined, {
    message: SOURCE_RULES[0].message,
  })
  .refine((s) => s.type !== 'registry' || s.registry !== undefined, { message: SOURCE_RULES[1].message })
  .refine((s) => !(s.prometheus && s.registry), { message: SOURCE_RULES[2].message })
  .meta({ description: 'One place to discover images from.', 'x-kubernetes-validations': [...SOURCE_RULES] });

export const discoveryPolicySpecSchema = z
  .object({
    syncInterval: durationSchema('How often to query the sources.').default('30m'),
    maxImages: z
      .number()
      .int()
      .min(1)
      .default(50)
      .meta({ description: 'Keep at most this many images after ranking.' }),
    imageFilter: regexSchema(
      'Regular expression the full image reference must match, e.g. registry.example.com/.*. Unset: every image.',
    ).optional(),
    sources: z.array(sourceSchema).min(1).meta({
      description: 'Where images are discovered; results from several sources merge by score.',
      'x-kubernetes-list-type': 'atomic',
    }),
  })
  .meta({ description: 'Find the images that matter automatically.' });

const discoveredImageSchema = z
  .looseObject({
    reference: z
      .string()
      .meta({ description: 'Full normalised reference, e.g. docker.io/library/golang:1.22.' }),
    image: z
      .string()
      .meta({ description: 'Repository without tag or digest, e.g. docker.io/library/golang.' }),
    tag: z.string().optional().meta({ description: 'Tag, if the reference has one.' }),
    digest: z.string().optional().meta({ description: 'Digest, if the reference has one.' }),
    score: z.number().meta({ description: 'Ranking score; higher is cached first.' }),
    source: z.string().meta({ description: 'Which source found it, e.g. prometheus or registry.' }),
  })
  .meta({ description: 'One discovered image.' });

const sourceResultSchema = z
  .looseObject({
    index: z.number().int().min(0).meta({ description: 'Position in spec.sources.' }),
    type: z.string().meta({ description: 'Source type: prometheus or registry.' }),
    phase: z
      .string()
      .optional()
      .meta({ description: 'Synced, or why the source failed, e.g. Unauthorized.' }),
    reason: z.string().optional().meta({ description: 'Same word as phase, for tools that read reason.' }),
    message: z.string().optional().meta({ description: 'Details in words.' }),
    images: countSchema('Images this source found.'),
    lastSyncTime: timestampSchema('When this source last synced successfully.').optional(),
  })
  .meta({ description: 'The result of one source in the last sync.' });

export const discoveryPolicyStatusSchema = z
  .looseObject({
    ...statusFields,
    images: z.array(discoveredImageSchema).optional().meta({
      description: 'Ranked discovered images, best first; a failed sync keeps the last good list.',
      'x-kubernetes-list-type': 'atomic',
    }),
    imageCount: countSchema('Number of discovered images (the IMAGES column).'),
    sourceCount: countSchema('Number of sources (the SOURCES column).'),
    lastSyncTime: timestampSchema('When the last sync finished (the LASTSYNC column).').optional(),
    lastSuccessfulSyncTime: timestampSchema(
      'When a sync last succeeded for every source: the time images[] is from.',
    ).optional(),
    nextSyncTime: timestampSchema(
      'When the next sync is due: syncInterval after a success, sooner after a failure (at most 5m, never before a Retry-After). Unset after InvalidSpec: only a spec change syncs again.',
    ).optional(),
    sources: z.array(sourceResultSchema).optional().meta({
      description: 'Per-source results of the last sync.',
      'x-kubernetes-list-type': 'atomic',
    }),
  })
  .meta({ description: 'What Drop observed; written by discover.' });

export const discoveryPolicySchema = kindSchema('DiscoveryPolicy', {
  spec: discoveryPolicySpecSchema,
  status: discoveryPolicyStatusSchema,
  description: 'Discovers the images that matter from Prometheus metrics or registry tags.',
});

export type DiscoverySource = z.output<typeof sourceSchema>;
export type PrometheusSource = z.output<typeof prometheusSourceSchema>;
export type RegistrySource = z.output<typeof registrySourceSchema>;
export type DiscoveredImage = z.output<typeof discoveredImageSchema>;
export type SourceResult = z.output<typeof sourceResultSchema>;
export type DiscoveryPolicySpec = z.output<typeof discoveryPolicySpecSchema>;
export type DiscoveryPolicyStatus = z.output<typeof discoveryPolicyStatusSchema>;
export type DiscoveryPolicy = z.output<typeof discoveryPolicySchema>;
