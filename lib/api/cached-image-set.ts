import { z } from 'zod';
import { TAG_XOR_DIGEST } from './cached-image.ts';
import {
  DIGEST_PATTERN,
  imagePullPolicy,
  imagePullSecrets,
  localObjectReference,
  nodeSelector,
  type objectMeta,
  statusBase,
  tolerations,
} from './common.ts';

const setEntry = z
  .object({
    image: z.string().min(1).max(255).meta({ description: 'Image reference without tag or digest.' }),
    tag: z
      .string()
      .regex(/^[\w][\w.-]{0,127}$/)
      .optional()
      .meta({ description: 'Tag; mutually exclusive with digest. Neither: latest.' }),
    digest: z
      .string()
      .regex(new RegExp(DIGEST_PATTERN))
      .optional()
      .meta({ description: 'Digest; mutually exclusive with tag.' }),
  })
  .refine((entry) => !(entry.tag && entry.digest), { message: TAG_XOR_DIGEST.message })
  .meta({
    description: 'One image of the set; it becomes a child CachedImage.',
    'x-kubernetes-validations': [TAG_XOR_DIGEST],
  });

export const cachedImageSetSpecSchema = z
  .object({
    images: z
      .array(setEntry)
      .optional()
      .meta({ description: 'Static images; each becomes a child CachedImage.' }),
    discoveryPolicyRef: localObjectReference(
      'A DiscoveryPolicy whose discovered images also become children.',
    ).optional(),
    policyRef: localObjectReference('The PullPolicy for every child.').optional(),
    imagePullPolicy: imagePullPolicy.optional(),
    imagePullSecrets: imagePullSecrets.optional(),
    nodeSelector: nodeSelector.optional(),
    tolerations: tolerations.optional(),
    priority: z.number().int().optional().meta({ description: 'Priority of every child (higher first).' }),
  })
  .meta({ description: 'A group of images, static and/or discovered; settings propagate to every child.' });

export const cachedImageSetStatusSchema = z
  .object({
    ...statusBase,
    ready: z.string().optional().meta({ description: 'Cached children / children, e.g. 3/3.' }),
    imagesManaged: z
      .number()
      .int()
      .optional()
      .meta({ description: 'Child CachedImages managed by this set.' }),
    imagesReady: z.number().int().optional().meta({ description: 'Children that are Cached.' }),
    source: z.string().optional().meta({ description: 'The DiscoveryPolicy feeding this set.' }),
  })
  .meta({ description: 'What Drop observed; written by reconcile-set.' });

export type CachedImageSetSpec = z.output<typeof cachedImageSetSpecSchema>;
export type CachedImageSetStatus = z.output<typeof cachedImageSetStatusSchema>;
export interface CachedImageSet {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: z.output<typeof objectMeta>;
  readonly spec?: Partial<CachedImageSetSpec>;
  readonly status?: CachedImageSetStatus;
}
