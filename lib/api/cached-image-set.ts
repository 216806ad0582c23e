import { z } from 'zod';
import { kindSchema, localObjectReferenceSchema } from './core.ts';
import {
  coarsePhaseSchema,
  countSchema,
  imageFields,
  imagePullPolicySchema,
  imagePullSecretsSchema,
  nodeSelectorSchema,
  policyRefSchema,
  statusFields,
  TAG_XOR_DIGEST,
  tolerationsSchema,
} from './fields.ts';

/** Static entries per set; discovery adds its own (DiscoveryPolicy maxImages). */
export const MAX_SET_IMAGES = 1000;

const setEntrySchema = z
  .object(imageFields)
  .refine((entry) => !(entry.tag !== undefined && entry.digest !== undefined), {
    message: TAG_XOR_DIGEST.message,
  })
  .meta({
    description: 'One image of the set; it becomes a child CachedImage.',
    'x-kubernetes-validations': [TAG_XOR_DIGEST],
  });

export const cachedImageSetSpecSchema = z
  .object({
    // Bounded so that the CEL rules on each entry fit the API server's validation cost budget.
    images: z.array(setEntrySchema).max(MAX_SET_IMAGES).optional().meta({
      description: 'Static images; each becomes a child CachedImage. Duplicates of one image count once.',
      'x-kubernetes-list-type': 'atomic',
    }),
    discoveryPolicyRef: localObjectReferenceSchema.optional().meta({
      description: 'A DiscoveryPolicy whose discovered images also become children (the SOURCE column).',
    }),
    policyRef: policyRefSchema.optional(),
    imagePullPolicy: imagePullPolicySchema
      .optional()
      .meta({ description: 'imagePullPolicy of every child. Unset: Always.' }),
    imagePullSecrets: imagePullSecretsSchema.optional(),
    nodeSelector: nodeSelectorSchema.optional(),
    tolerations: tolerationsSchema.optional(),
    priority: z
      .number()
      .int()
      .optional()
      .meta({ description: 'priority of every child: higher is pulled first. Unset: 0.' }),
  })
  .meta({
    description:
      'A group of images, static and/or discovered. Every setting is copied to each child CachedImage.',
  });

/** Go Drop's phases of a CachedImageSet: what Argo CD reads. */
export const SET_PHASES = ['Pending', 'Ready', 'Degraded'] as const;
export type SetPhase = (typeof SET_PHASES)[number];

export const cachedImageSetStatusSchema = z
  .looseObject({
    ...statusFields,
    phase: coarsePhaseSchema(SET_PHASES),
    ready: z
      .string()
      .optional()
      .meta({ description: 'Children that are Cached / children, e.g. 3/3 (the READY column).' }),
    imagesManaged: countSchema('Child CachedImages this set manages (the MANAGED column).'),
    imagesReady: countSchema('Children that are Cached.'),
    source: z.string().optional().meta({ description: 'The DiscoveryPolicy feeding this set, if any.' }),
  })
  .meta({ description: 'What Drop observed; written by reconcile-set.' });

export const cachedImageSetSchema = kindSchema('CachedImageSet', {
  spec: cachedImageSetSpecSchema,
  status: cachedImageSetStatusSchema,
  description: 'A group of images, static and discovered; each becomes a child CachedImage.',
});

export type CachedImageSetEntry = z.output<typeof setEntrySchema>;
export type CachedImageSetSpec = z.output<typeof cachedImageSetSpecSchema>;
export type CachedImageSetStatus = z.output<typeof cachedImageSetStatusSchema>;
export type CachedImageSet = z.output<typeof cachedImageSetSchema>;
