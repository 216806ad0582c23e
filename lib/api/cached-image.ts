import { z } from 'zod';
import { kindSchema, timestampSchema } from './core.ts';
import { quantitySchema } from './discovery-fields.ts';
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
    maxImageSize: quantitySchema(
      'Refuse to cache the image when its manifest (config and layers, as the registry lists them) is larger, e.g. 2Gi. Overrides the PullPolicy maxImageSize. Unset: no limit.',
    ).optional(),
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
    failures: z.number().int().min(0).meta({ description: 'Consecutive failed attempts on this node.' }),
    retryAt: timestampSchema('When the next attempt may start (failure backoff).'),
    lastFailedAt: timestampSchema(
      'When the last failure was recorded; the pacer counts the backoff from it.',
    ).optional(),
    lastPod: z.string().optional().meta({ description: 'The pull pod whose failure was counted last.' }),
  })
  .meta({
    description: "A node whose last pull failed: the backoff's record (the messages are in failures).",
  });

const examplesSchema = z
  .array(z.string().meta({ description: 'Node name.' }))
  .meta({ description: 'The first few of them, by name.', 'x-kubernetes-list-type': 'atomic' });

const failureGroupSchema = z
  .looseObject({
    reason: z.string().meta({ description: "The kubelet's reason." }),
    message: z.string().meta({ description: "The kubelet's message (of the first node named)." }),
    nodes: z.number().int().min(0).meta({ description: 'Nodes whose last pull failed this way.' }),
    examples: examplesSchema,
  })
  .meta({ description: 'Nodes whose last pull failed for one reason.' });

const waitingGroupSchema = z
  .looseObject({
    reason: z.string().meta({ description: 'Why they wait: WaitingForSlot, BackOff or Repull.' }),
    nodes: z.number().int().min(0).meta({ description: 'Target nodes waiting for this reason.' }),
    examples: examplesSchema,
    message: z.string().meta({ description: 'Why, in words.' }),
  })
  .meta({ description: 'Target nodes whose pull has not started, for one reason.' });

const pacingLimitSchema = z
  .looseObject({
    limit: z.string().meta({
      description:
        'The pacing limit, e.g. maxConcurrentPullsPerNode, maxConcurrentNodes or minDelayBetweenPulls.',
    }),
    nodes: z.number().int().min(0).meta({ description: 'Waiting nodes it holds back.' }),
    examples: examplesSchema,
    message: z.string().meta({ description: 'The limit in words, for the first node named.' }),
  })
  .meta({ description: 'Waiting nodes one pacing limit holds back.' });

const pacingSchema = z
  .looseObject({
    at: timestampSchema('When the pacer saw this.'),
    waiting: z.array(pacingLimitSchema).meta({
      description: 'The limits holding waiting nodes back, most nodes first.',
      'x-kubernetes-list-type': 'atomic',
    }),
  })
  .meta({
    description: 'Which pacing limits hold the waiting nodes, as the pacer last saw them (written by pace).',
  });

const manifestSchema = z
  .looseObject({
    reference: z.string().meta({ description: 'The reference asked for.' }),
    digest: z.string().optional().meta({ description: 'The digest the registry gave for it.' }),
    size: z.number().int().min(0).optional().meta({
      description: 'Bytes the manifest lists (config and layers; an index: its linux/amd64 image).',
    }),
    checkedAt: timestampSchema('When the registry was asked.'),
    error: z.string().optional().meta({ description: 'Why the registry gave no answer, when it did not.' }),
  })
  .meta({ description: "What the image's registry said about the reference when Drop last asked." });

const digestGroupSchema = z
  .looseObject({
    digest: z.string().meta({ description: 'An image digest.' }),
    nodes: z
      .array(z.string().meta({ description: 'Node name.' }))
      .meta({ description: 'The cached nodes that hold it.', 'x-kubernetes-list-type': 'atomic' }),
  })
  .meta({ description: 'Cached nodes holding one digest of the tag.' });

const collectedNodeSchema = z
  .looseObject({
    node: z.string().meta({ description: 'Node name.' }),
    at: timestampSchema('When Drop noticed the image was gone.'),
    how: z.string().meta({
      description: "How it was noticed: NodeStatus (the node's status.images no longer lists it) or Probe.",
    }),
  })
  .meta({
    description: 'A node the kubelet removed the image from (garbage collection), until it holds it again.',
  });

const skippedGroupSchema = z
  .looseObject({
    reason: z.string().meta({ description: 'Why the nodes are skipped, e.g. DiskPressure.' }),
    nodes: z.number().int().min(0).meta({ description: 'Nodes skipped for this reason.' }),
    examples: z
      .array(z.string().meta({ description: 'Node name.' }))
      .meta({ description: 'The first few of them, by name.', 'x-kubernetes-list-type': 'atomic' }),
    message: z.string().meta({ description: 'Why, in words.' }),
  })
  .meta({ description: 'Nodes skipped for one reason.' });

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
    nodesFailed: countSchema('Target nodes whose last pull failed.'),
    cachedNodes: z
      .array(z.string().meta({ description: 'Node name.' }))
      .optional()
      .meta({ description: 'Target nodes that hold the image.', 'x-kubernetes-list-type': 'atomic' }),
    failedNodes: z.array(failedNodeSchema).optional().meta({
      description: 'Nodes whose last pull failed: reason, failures and backoff.',
      'x-kubernetes-list-type': 'atomic',
    }),
    failures: z.array(failureGroupSchema).optional().meta({
      description: 'Why pulls failed, by reason and message, with the nodes counted and the first few named.',
      'x-kubernetes-list-type': 'atomic',
    }),
    waiting: z.array(waitingGroupSchema).optional().meta({
      description: 'Why target nodes have not started their pull, counted by reason, the first few named.',
      'x-kubernetes-list-type': 'atomic',
    }),
    pacing: pacingSchema.optional(),
    resolvedDigest: z
      .string()
      .optional()
      .meta({ description: 'The digest the nodes pulled (from the pull pod imageID).' }),
    lastPulledAt: timestampSchema('When the latest successful pull finished.').optional(),
    manifest: manifestSchema.optional(),
    throttle: z
      .looseObject({
        host: z.string().meta({ description: 'The registry host.' }),
        at: timestampSchema('When the throttled pull was recorded.'),
        message: z.string().meta({ description: "The kubelet's message." }),
        pull: z.string().meta({ description: 'The pull pod (uid) the registry throttled.' }),
      })
      .optional()
      .meta({
        description:
          'The latest pull of this image the registry throttled (429): the pacer pauses the host from it, whether or not it saw the pull itself.',
      }),
    digests: z.array(digestGroupSchema).optional().meta({
      description:
        'Which digest each cached node holds, by digest; kept while the PullPolicy sets digestCheckInterval.',
      'x-kubernetes-list-type': 'atomic',
    }),
    outdated: z.string().optional().meta({
      description:
        'Cached nodes holding an older digest than the registry names for the tag / target nodes (the OUTDATED column).',
    }),
    collected: z.array(collectedNodeSchema).optional().meta({
      description:
        'Nodes that held the image until the kubelet removed it (garbage collection); they are pulled again, paced, and leave the list once they hold it.',
      'x-kubernetes-list-type': 'atomic',
    }),
    skipped: z.array(skippedGroupSchema).optional().meta({
      description:
        'Nodes that match the placement but are skipped for now, by reason (DiskPressure), the first few named; not counted in READY.',
      'x-kubernetes-list-type': 'atomic',
    }),
    repullNodes: z
      .array(z.string().meta({ description: 'Node name.' }))
      .optional()
      .meta({
        description:
          'Cached nodes still to pull the image again in the current re-pull round (PullPolicy repullInterval).',
        'x-kubernetes-list-type': 'atomic',
      }),
    lastRepullAt: timestampSchema('When the latest re-pull round started.').optional(),
    probeNodes: z
      .array(z.string().meta({ description: 'Node name.' }))
      .optional()
      .meta({
        description:
          'Cached nodes still to probe in the current garbage-collection probe cycle (PullPolicy imageProbeInterval): a pod with imagePullPolicy Never asks the kubelet whether the image is still there.',
        'x-kubernetes-list-type': 'atomic',
      }),
    lastProbeAt: timestampSchema('When the latest garbage-collection probe cycle started.').optional(),
    nextProbeAt: timestampSchema(
      'When the next garbage-collection probe cycle is due (PullPolicy imageProbeInterval).',
    ).optional(),
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
      | 'nodesFailed'
      | 'cachedNodes'
      | 'failedNodes'
      | 'failures'
      | 'waiting'
      | 'conditions'
      | 'observedGeneration'
    >
  >;
export type WaitingGroup = z.output<typeof waitingGroupSchema>;
export type FailureGroup = z.output<typeof failureGroupSchema>;
export type PacingLimitGroup = z.output<typeof pacingLimitSchema>;
export type SkippedGroup = z.output<typeof skippedGroupSchema>;
export type DigestGroup = z.output<typeof digestGroupSchema>;
export type CollectedNode = z.output<typeof collectedNodeSchema>;
export type ManifestRecord = z.output<typeof manifestSchema>;
