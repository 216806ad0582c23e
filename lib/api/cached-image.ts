import { z } from 'zod';
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

export const TAG_XOR_DIGEST = {
  rule: '!(has(self.tag) && has(self.digest))',
  message: 'tag and digest are mutually exclusive',
};

export const cachedImageSpecSchema = z
  .object({
    image: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[^:@\s]+(:[0-9]+)?(\/[^:@\s]+)*$/, 'image is a reference without tag or digest')
      .meta({ description: 'Image reference without tag or digest, e.g. docker.io/library/golang.' }),
    tag: z
      .string()
      .regex(/^[\w][\w.-]{0,127}$/)
      .optional()
      .meta({ description: 'Tag to pull; mutually exclusive with digest. Neither: latest.' }),
    digest: z
      .string()
      .regex(new RegExp(DIGEST_PATTERN))
      .optional()
      .meta({ description: 'Digest to pull (sha256:<64 hex>); mutually exclusive with tag.' }),
    imagePullPolicy: imagePullPolicy.default('Always'),
    imagePullSecrets: imagePullSecrets.optional(),
    nodeSelector: nodeSelector.optional(),
    tolerations: tolerations.optional(),
    policyRef: localObjectReference(
      'The PullPolicy that paces this image; without one, the PullPolicy named default or the built-in defaults.',
    ).optional(),
    priority: z.number().int().default(0).meta({ description: 'Higher priority images are pulled first.' }),
  })
  .refine((spec) => !(spec.tag && spec.digest), { message: TAG_XOR_DIGEST.message })
  .meta({
    description: 'Which image to cache on which nodes.',
    'x-kubernetes-validations': [TAG_XOR_DIGEST],
  });

const failedNode = z.object({
  node: z.string().meta({ description: 'Node name.' }),
  reason: z
    .string()
    .meta({ description: "The kubelet's reason, e.g. ErrImagePull, ImagePullBackOff, InvalidImageName." }),
  message: z.string().meta({ description: "The kubelet's message." }),
  failures: z.number().int().meta({ description: 'Consecutive failed attempts on this node.' }),
  retryAt: z
    .string()
    .meta({ description: 'When the next attempt may start (failure backoff).', format: 'date-time' }),
  lastPod: z.string().optional().meta({ description: 'The pull pod whose failure was counted last.' }),
});

const waitingNode = z.object({
  node: z.string().meta({ description: 'Node name.' }),
  reason: z.string().meta({ description: 'WaitingForSlot or BackOff.' }),
  message: z.string().meta({ description: 'Why the pull has not started.' }),
  retryAt: z
    .string()
    .optional()
    .meta({ description: 'For BackOff: when it may start.', format: 'date-time' }),
});

export const cachedImageStatusSchema = z
  .object({
    ...statusBase,
    ready: z.string().optional().meta({ description: 'Cached target nodes / target nodes, e.g. 2/3.' }),
    reference: z.string().optional().meta({ description: 'The full reference the cached nodes hold.' }),
    nodesTargeted: z.number().int().optional().meta({ description: 'Nodes that should hold the image.' }),
    nodesReady: z.number().int().optional().meta({ description: 'Target nodes that hold it.' }),
    nodesPulling: z.number().int().optional().meta({ description: 'Target nodes pulling it now.' }),
    nodesWaiting: z
      .number()
      .int()
      .optional()
      .meta({ description: 'Target nodes waiting for a pull to start.' }),
    cachedNodes: z.array(z.string()).optional().meta({ description: 'Nodes known to hold the image.' }),
    failedNodes: z
      .array(failedNode)
      .optional()
      .meta({ description: 'Nodes whose last pull failed, with the reason.' }),
    waitingNodes: z
      .array(waitingNode)
      .optional()
      .meta({ description: 'Nodes waiting for a pacing slot or a backoff.' }),
    resolvedDigest: z.string().optional().meta({ description: 'The digest the nodes pulled.' }),
    lastPulledAt: z
      .string()
      .optional()
      .meta({ description: 'When the latest successful pull finished.', format: 'date-time' }),
  })
  .meta({ description: 'What Drop observed; written by reconcile-image.' });

export type CachedImageSpec = z.output<typeof cachedImageSpecSchema>;
export type CachedImageStatus = z.output<typeof cachedImageStatusSchema>;
/** As read from the API: the spec is not yet validated (use parseSpec), the status is ours. */
export interface CachedImage {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: z.output<typeof objectMeta>;
  readonly spec?: Partial<CachedImageSpec>;
  readonly status?: CachedImageStatus;
}
