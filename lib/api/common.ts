import { z } from 'zod';
import { DURATION_PATTERN } from '../duration.ts';

export const GROUP = 'drop.corewire.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A Go-style duration string; the CRD rejects anything else at `kubectl apply`. */
export const duration = (description: string) =>
  z
    .string()
    .regex(new RegExp(DURATION_PATTERN), 'must be a Go duration such as 30s, 5m or 1h30m')
    .meta({ description });

export const DIGEST_PATTERN = '^sha256:[a-f0-9]{64}$';
const DNS_NAME = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

export const localObjectReference = (description: string) =>
  z
    .object({
      name: z
        .string()
        .min(1)
        .max(253)
        .regex(new RegExp(DNS_NAME))
        .meta({ description: 'Name of the object.' }),
    })
    .meta({ description });

export const imagePullPolicy = z.enum(['Always', 'IfNotPresent', 'Never']).meta({
  description:
    'When the kubelet contacts the registry: Always (default) checks for a newer digest even when the tag is present.',
});

export const imagePullSecrets = z
  .array(
    localObjectReference(
      'A Secret of type kubernetes.io/dockerconfigjson in the Drop namespace (drop-system).',
    ),
  )
  .meta({ description: 'Secrets in the Drop namespace used to pull the image.' });

export const nodeSelector = z
  .record(z.string(), z.string())
  .meta({ description: 'Only nodes with all these labels get the image.' });

export const toleration = z
  .object({
    key: z
      .string()
      .optional()
      .meta({ description: 'Taint key; empty with operator Exists matches every taint.' }),
    operator: z.enum(['Exists', 'Equal']).optional().meta({ description: 'Exists or Equal (default).' }),
    value: z.string().optional().meta({ description: 'Taint value for operator Equal.' }),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])
      .optional()
      .meta({ description: 'Taint effect to match; empty matches all.' }),
    tolerationSeconds: z
      .number()
      .int()
      .optional()
      .meta({ description: 'For NoExecute: how long the pod may stay.' }),
  })
  .meta({ description: 'A core/v1 Toleration.' });

export const tolerations = z
  .array(toleration)
  .meta({ description: 'Lets pull pods run on nodes with these taints.' });

export const condition = z
  .object({
    type: z.string().meta({ description: 'Condition type, e.g. Ready.' }),
    status: z.enum(['True', 'False', 'Unknown']).meta({ description: 'True, False or Unknown.' }),
    reason: z.string().meta({ description: 'One CamelCase word a person can act on (the STATUS column).' }),
    message: z.string().meta({ description: 'What is wrong or happening, in words.' }),
    lastTransitionTime: z.string().meta({ description: 'When status last changed.', format: 'date-time' }),
    observedGeneration: z
      .number()
      .int()
      .optional()
      .meta({ description: 'The generation this condition was computed for.' }),
  })
  .meta({ description: 'A standard metav1.Condition.' });

export const conditions = z
  .array(condition)
  .meta({ description: 'Standard conditions; Ready carries the STATUS word as reason.' });

/** Fields every Drop status has. */
export const statusBase = {
  phase: z.string().optional().meta({ description: 'One word a person can act on (the STATUS column).' }),
  message: z
    .string()
    .optional()
    .meta({ description: 'Details for the STATUS, shown by kubectl get -o wide.' }),
  conditions: conditions.optional(),
  observedGeneration: z
    .number()
    .int()
    .optional()
    .meta({ description: 'The metadata.generation this status describes.' }),
};

export const objectMeta = z.looseObject({
  name: z.string(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  ownerReferences: z
    .array(
      z.looseObject({
        apiVersion: z.string(),
        kind: z.string(),
        name: z.string(),
        uid: z.string(),
        controller: z.boolean().optional(),
      }),
    )
    .optional(),
  finalizers: z.array(z.string()).optional(),
});
