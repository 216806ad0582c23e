import { z } from 'zod';
import { duration, localObjectReference, type objectMeta, statusBase } from './common.ts';

const secretRef = localObjectReference(
  'Secret in the Drop namespace; keys: token, username, password, ca.crt, tls.crt, tls.key, headers.<name>.',
).optional();

const prometheusSource = z
  .object({
    endpoint: z.string().url().meta({
      description:
        'Base URL of a Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics).',
    }),
    query: z.string().min(1).meta({
      description: 'PromQL returning series with an image label; the value is the score (higher first).',
    }),
    lookback: duration(
      'With lookback, query_range over [now-lookback, now] and sum values per image; without, an instant query.',
    ).optional(),
    step: duration('Resolution of range queries.').default('5m'),
  })
  .meta({ description: 'Rank images by a Prometheus query.' });

const registrySource = z
  .object({
    url: z.string().url().meta({ description: 'Base URL of an OCI distribution registry.' }),
    repositories: z.array(z.string().min(1)).min(1).meta({ description: 'Repositories to list tags from.' }),
    tagFilter: z.string().optional().meta({ description: 'Regular expression a tag must match.' }),
    topX: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: 'Keep the newest N matching tags per repository.' }),
  })
  .meta({ description: 'Discover the newest tags of registry repositories.' });

const source = z
  .object({
    type: z.enum(['prometheus', 'registry']).meta({ description: 'prometheus or registry.' }),
    prometheus: prometheusSource.optional(),
    registry: registrySource.optional(),
    secretRef,
  })
  .meta({
    description: 'One place to discover images from.',
    'x-kubernetes-validations': [
      {
        rule: "self.type != 'prometheus' || has(self.prometheus)",
        message: 'a prometheus source needs the prometheus field',
      },
      {
        rule: "self.type != 'registry' || has(self.registry)",
        message: 'a registry source needs the registry field',
      },
    ],
  });

export const discoveryPolicySpecSchema = z
  .object({
    syncInterval: duration('How often to query the sources.').default('30m'),
    maxImages: z
      .number()
      .int()
      .min(1)
      .default(50)
      .meta({ description: 'Keep at most this many images after ranking.' }),
    imageFilter: z
      .string()
      .optional()
      .meta({ description: 'Regular expression a full image reference must match.' }),
    sources: z
      .array(source)
      .min(1)
      .meta({ description: 'Where images are discovered; results merge by score.' }),
  })
  .meta({ description: 'Find the images that matter automatically.' });

const discoveredImage = z.object({
  reference: z.string().meta({ description: 'Full image reference.' }),
  image: z.string().meta({ description: 'Reference without tag or digest.' }),
  tag: z.string().optional().meta({ description: 'Tag, if any.' }),
  digest: z.string().optional().meta({ description: 'Digest, if any.' }),
  score: z.number().meta({ description: 'Ranking score; higher is cached first.' }),
  source: z.string().meta({ description: 'Which source found it.' }),
});

const sourceResult = z.object({
  index: z.number().int().meta({ description: 'Position in spec.sources.' }),
  type: z.string().meta({ description: 'Source type.' }),
  phase: z.string().meta({ description: 'Synced or the failure reason.' }),
  message: z.string().optional().meta({ description: 'Details.' }),
  images: z.number().int().optional().meta({ description: 'Images this source found.' }),
  lastSyncTime: z
    .string()
    .optional()
    .meta({ description: 'When this source last synced.', format: 'date-time' }),
});

export const discoveryPolicyStatusSchema = z
  .object({
    ...statusBase,
    images: z
      .array(discoveredImage)
      .optional()
      .meta({ description: 'Ranked discovered images (kept from the last good sync on failure).' }),
    imageCount: z.number().int().optional().meta({ description: 'Number of discovered images.' }),
    sourceCount: z.number().int().optional().meta({ description: 'Number of sources.' }),
    lastSyncTime: z
      .string()
      .optional()
      .meta({ description: 'When the last sync attempt finished.', format: 'date-time' }),
    sources: z.array(sourceResult).optional().meta({ description: 'Per-source results of the last sync.' }),
  })
  .meta({ description: 'What Drop observed; written by discover.' });

export type DiscoveryPolicySpec = z.output<typeof discoveryPolicySpecSchema>;
export type DiscoveryPolicyStatus = z.output<typeof discoveryPolicyStatusSchema>;
export type DiscoveredImage = z.output<typeof discoveredImage>;
export interface DiscoveryPolicy {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: z.output<typeof objectMeta>;
  readonly spec?: Partial<DiscoveryPolicySpec>;
  readonly status?: DiscoveryPolicyStatus;
}
