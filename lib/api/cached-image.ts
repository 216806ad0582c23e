import { z } from 'zod';
import { kindSchema, timestampSchema } from './core.ts';
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

export const cachedImageSpecSchema = z
  .object({
    ...imageFields,
    imagePullPolicy: imagePullPolicySchema.default('Always'),
    imagePullSecrets: imagePullSecretsSchema.optional(),
    nodeSelector: nodeSelectorSchema.optional(),
    tolerations: tolerationsSchema.optional(),
    policyRef: policyRefSchema.optional(),
    priority: z
      .number()
      .int()
      .default(0)
      .meta({ description: 'Images with a higher priority are pulled first; ties take turns.' }),
  })
  .refine((spec) => !(spec.tag !== undefined && spec.digest !== undefined), {
    message: TAG_XOR_DIGEST.message,
  })
  .meta({
    description: 'Which image to cache on which nodes, and how.',
    'x-kubernetes-validations': [TAG_XOR_DIGEST],
  });

const failedNodeSchema = z
  .looseObject({
    node: z.string().meta({ description: 'Node name.' }),
    reason: z.string().meta({
      description:
        "The kubelet's reason, e.g. ErrImagePull, ImagePullBackOff, InvalidImageName, Unauthorized.",
    }),
    message: z.string().meta({ description: "The kubelet's message." }),
    failures: z.number().int().min(0).meta({ description: 'Consecutive failed attempts on this node.' }),
    retryAt: timestampSchema('When the next attempt may start (failure backoff).'),
    lastFailedAt: timestampSchema(
      'When the last failure was recorded; the pacer counts the backoff from it.',
    ).optional(),
    lastPod: z.string().optional().meta({ description: 'The pull pod whose failure was counted last.' }),
  })
  .meta({ description: 'A node whose last pull failed.' });

const waitingNodeSchema = z
  .looseObject({
    node: z.string().meta({ description: 'Node name.' }),
    reason: z.string().meta({ description: 'Why it waits, e.g. WaitingForSlot or BackOff.' }),
    message: z.string().meta({ description: 'Why the pull has not started, in words.' }),
    limit: z.string().optional().meta({
      description:
        'The pacing limit holding it as the pacer last saw it, e.g. maxConcurrentPullsPerNode or minDelayBetweenPulls.',
    }),
    retryAt: timestampSchema('When the pull may start, if known.').optional(),
    since: timestampSchema('When the node started waiting.').optional(),
  })
  .meta({ description: 'A target node whose pull has not started yet.' });

/** Go Drop's phases of a CachedImage: what Argo CD reads (Ready is Healthy, Degraded is Degraded). */
export const IMAGE_PHASES = ['Pending', 'Pulling', 'Ready', 'Degraded'] as const;
export type ImagePhase = (typeof IMAGE_PHASES)[number];

export const cachedImageStatusSchema = z
  .looseObject({
    ...statusFields,
    phase: coarsePhaseSchema(IMAGE_PHASES),
    tag: z.string().optional().meta({
      description:
        'The tag Drop pulls (the TAG column): spec.tag, or latest when neither tag nor digest is set.',
    }),
    ready: z
      .string()
      .optional()
      .meta({ description: 'Target nodes holding the image / target nodes, e.g. 2/3 (the READY column).' }),
    reference: z.string().optional().meta({
      description: 'The full reference the cached nodes hold, e.g. docker.io/library/nginx:1.25-alpine.',
    }),
    nodesTargeted: countSchema('Nodes that should hold the image.'),
    nodesReady: countSchema('Target nodes that hold the image.'),
    nodesPulling: countSchema('Target nodes pulling the image now.'),
    nodesWaiting: countSchema('Target nodes waiting for a pacing slot or a backoff.'),
    cachedNodes: z
      .array(z.string().meta({ description: 'Node name.' }))
      .optional()
      .meta({ description: 'Target nodes that hold the image.', 'x-kubernetes-list-type': 'atomic' }),
    pullingNodes: z
      .array(z.string().meta({ description: 'Node name.' }))
      .optional()
      .meta({ description: 'Target nodes pulling the image now.', 'x-kubernetes-list-type': 'atomic' }),
    failedNodes: z.array(failedNodeSchema).optional().meta({
      description: 'Nodes whose last pull failed, with the reason.',
      'x-kubernetes-list-type': 'atomic',
    }),
    waitingNodes: z.array(waitingNodeSchema).optional().meta({
      description: 'Target nodes waiting for a pacing slot or a backoff.',
      'x-kubernetes-list-type': 'atomic',
    }),
    resolvedDigest: z
      .string()
      .optional()
      .meta({ description: 'The digest the nodes pulled (from the pull pod imageID).' }),
    lastPulledAt: timestampSchema('When the latest successful pull finished.').optional(),
    repullNodes: z
      .array(z.string().meta({ description: 'Node name.' }))
      .optional()
      .meta({
        description:
          'Cached nodes still to pull the image again in the current re-pull round (PullPolicy repullInterval).',
        'x-kubernetes-list-type': 'atomic',
      }),
    lastRepullAt: timestampSchema('When the latest re-pull round started.').optional(),
    nextRepullAt: timestampSchema(
      'When the next re-pull round is due (PullPolicy repullInterval).',
    ).optional(),
  })
  .meta({ description: 'What Drop observed; written by reconcile-image.' });

export const cachedImageSchema = kindSchema('CachedImage', {
  spec: cachedImageSpecSchema,
  status: cachedImageStatusSchema,
  description: 'Caches one image on every target node, paced by a PullPolicy.',
});

export type CachedImageSpec = z.output<typeof cachedImageSpecSchema>;
export type CachedImageStatus = z.output<typeof cachedImageStatusSchema>;
export type CachedImage = z.output<typeof cachedImageSchema>;
export type FailedNode = z.output<typeof failedNodeSchema>;

/** The status as reconcile-image writes it: every field it always sets is present. */
export type WrittenCachedImageStatus = CachedImageStatus &
  Required<
    Pick<
      CachedImageStatus,
      | 'phase'
      | 'ready'
      | 'message'
      | 'nodesTargeted'
      | 'nodesReady'
      | 'nodesPulling'
      | 'nodesWaiting'
      | 'cachedNodes'
      | 'pullingNodes'
      | 'failedNodes'
      | 'waitingNodes'
      | 'conditions'
      | 'observedGeneration'
    >
  >;
export type WaitingNode = z.output<typeof waitingNodeSchema>;
