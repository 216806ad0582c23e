import { z } from 'zod';
import { timestampSchema } from './core.ts';
import { countSchema, statusFields } from './fields.ts';

// What discover writes: Go Drop's queryResults[] and discoveredImages[] {image, rank, finalScore},
// with this project's extras (tag/digest, which queries found an image, how its score was made,
// per-query reasons, the last good list kept on failure).

const contributionSchema = z
  .looseObject({
    signal: z
      .string()
      .meta({ description: 'The signal (or query, without a ranking) this part comes from.' }),
    role: z.string().optional().meta({ description: 'modelExposure: J_target, J_pre or p̂.' }),
    value: z
      .number()
      .optional()
      .meta({ description: 'The signal’s raw value for this image; absent: it has none.' }),
    normalized: z.number().optional().meta({ description: 'weightedSum: the value after minMax.' }),
    weight: z.number().optional().meta({ description: 'weightedSum: the term’s weight.' }),
    score: z
      .number()
      .meta({ description: 'What this part adds (weightedSum, default) or multiplies (modelExposure).' }),
  })
  .meta({ description: 'One part of an image’s final score.' });

const discoveredImageSchema = z
  .looseObject({
    image: z.string().meta({ description: 'Full normalised reference, e.g. docker.io/library/golang:1.22.' }),
    rank: z.number().int().min(1).meta({ description: 'Position in the list; 1 is cached first.' }),
    finalScore: z.string().meta({ description: 'The ranking score as a decimal string.' }),
    repository: z.string().optional().meta({ description: 'The reference without tag or digest.' }),
    tag: z.string().optional().meta({ description: 'Tag, if the reference has one.' }),
    digest: z.string().optional().meta({ description: 'Digest, if the reference has one.' }),
    queries: z
      .array(z.string().meta({ description: 'A query name.' }))
      .optional()
      .meta({ description: 'The queries (or sources) that found it.', 'x-kubernetes-list-type': 'atomic' }),
    contributions: z
      .array(contributionSchema)
      .optional()
      .meta({ description: 'How finalScore was made, part by part.', 'x-kubernetes-list-type': 'atomic' }),
  })
  .meta({ description: 'One discovered image, ranked.' });

const queryResultSchema = z
  .looseObject({
    name: z.string().meta({ description: 'The query’s name (source-<n> for spec.sources[n]).' }),
    type: z.string().meta({ description: 'prometheus, registry, loki or kubernetesEvents.' }),
    status: z.enum(['success', 'failed']).meta({ description: 'success or failed.' }),
    reason: z.string().optional().meta({ description: 'Synced, or why it failed, e.g. Unauthorized.' }),
    message: z.string().optional().meta({ description: 'What it found, or what went wrong, in words.' }),
    images: countSchema('Images this query found.'),
    lastSuccessTime: timestampSchema('When this query last succeeded.').optional(),
  })
  .meta({ description: 'The result of one query in the last sync.' });

const legacyImageSchema = z
  .looseObject({
    reference: z.string().meta({ description: 'Full normalised reference.' }),
    image: z.string().meta({ description: 'Repository without tag or digest.' }),
    tag: z.string().optional().meta({ description: 'Tag.' }),
    digest: z.string().optional().meta({ description: 'Digest.' }),
    score: z.number().optional().meta({ description: 'Score.' }),
    source: z.string().optional().meta({ description: 'Source kind.' }),
  })
  .meta({ description: 'An image as Drop wrote it before discoveredImages.' });

export const discoveryPolicyStatusSchema = z
  .looseObject({
    ...statusFields,
    discoveredImages: z.array(discoveredImageSchema).optional().meta({
      description:
        'Ranked discovered images, best first, at most maxImages; a failed sync keeps the last good list.',
      'x-kubernetes-list-type': 'atomic',
    }),
    queryResults: z.array(queryResultSchema).optional().meta({
      description: 'Per-query results of the last sync.',
      'x-kubernetes-list-type': 'atomic',
    }),
    ranking: z
      .looseObject({
        strategy: z.string().meta({ description: 'signal, weightedSum, modelExposure, or the default.' }),
        summary: z
          .string()
          .optional()
          .meta({ description: 'The formula and the first image’s score (the RANKING column).' }),
        nodes: z.number().int().optional().meta({ description: 'modelExposure: the N used.' }),
      })
      .optional()
      .meta({ description: 'How the last good list was ranked.' }),
    imageCount: countSchema('Number of discovered images (the IMAGES column).'),
    sourceCount: countSchema('Number of queries or sources (the SOURCES column).'),
    lastSyncTime: timestampSchema('When the last sync finished (the LASTSYNC column).').optional(),
    lastSuccessfulSyncTime: timestampSchema(
      'When a sync last succeeded for every query: the time discoveredImages is from.',
    ).optional(),
    nextSyncTime: timestampSchema(
      'When the next sync is due: syncInterval after a success, sooner after a failure (at most 5m, never before a Retry-After). Unset after InvalidSpec: only a spec change syncs again.',
    ).optional(),
    images: z.array(legacyImageSchema).optional().meta({
      description: 'Deprecated: the list before discoveredImages; read until the next sync replaces it.',
      'x-kubernetes-list-type': 'atomic',
    }),
  })
  .meta({ description: 'What Drop observed; written by discover.' });

export type DiscoveryPolicyStatus = z.output<typeof discoveryPolicyStatusSchema>;
export type DiscoveredImage = z.output<typeof discoveredImageSchema>;
export type Contribution = z.output<typeof contributionSchema>;
export type QueryResult = z.output<typeof queryResultSchema>;

/** The references a policy's status lists, best first: discoveredImages, else the list written before it. */
export function discoveredReferences(status: DiscoveryPolicyStatus | undefined): readonly string[] {
  if (status?.discoveredImages) return status.discoveredImages.map((i) => i.image);
  return (status?.images ?? []).map((i) => i.reference);
}
