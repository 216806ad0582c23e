import { z } from 'zod';
import { API_VERSION } from './group.ts';
import { labelKeySchema } from './labels.ts';
import { patternString } from './patterns.ts';

// Kubernetes core/meta shapes that Drop's kinds embed, with the validation Kubernetes itself
// applies where a pull pod would otherwise be rejected later, far from the user's manifest.

/** RFC 1123 subdomain: what Kubernetes requires of object names (Secrets, our own kinds). */
export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** A reference to an object by name (core/v1 LocalObjectReference); give each use its own description. */
export const localObjectReferenceSchema = z
  .object({
    name: patternString({
      pattern: DNS_SUBDOMAIN_PATTERN,
      maxLength: 253,
      problem:
        'is not an object name: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit (RFC 1123), e.g. my-secret',
      description: 'Name of the referenced object.',
    }),
  })
  .meta({ description: 'A reference to an object by name.', 'x-kubernetes-map-type': 'atomic' });

export const tolerationSchema = z
  .object({
    // The lengths Kubernetes allows for a label key (qualified name) and value.
    key: labelKeySchema('Taint key to tolerate; empty with operator Exists tolerates every taint.', {
      allowEmpty: true,
    }).optional(),
    operator: z
      .enum(['Exists', 'Equal'])
      .optional()
      .meta({ description: 'Exists (any value) or Equal (default): how key and value are compared.' }),
    value: z.string().max(63).optional().meta({ description: 'Taint value to match with operator Equal.' }),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])
      .optional()
      .meta({ description: 'Taint effect to match; empty matches every effect.' }),
    tolerationSeconds: z
      .number()
      .int()
      .optional()
      .meta({ description: 'For effect NoExecute: how long the pod may stay after the taint appears.' }),
  })
  .refine((t) => t.operator !== 'Exists' || !t.value, {
    message: 'a toleration with operator Exists must not have a value',
  })
  .refine((t) => t.key || t.operator === 'Exists', {
    message: 'a toleration without a key must use operator Exists',
  })
  .refine((t) => t.tolerationSeconds === undefined || t.effect === 'NoExecute', {
    message: 'tolerationSeconds needs effect NoExecute',
  })
  .meta({
    description: 'A core/v1 Toleration, as in a Pod spec.',
    // The same checks the API server applies to Pod tolerations (core/v1 validation).
    'x-kubernetes-validations': [
      {
        rule: "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''",
        message: 'a toleration with operator Exists must not have a value',
      },
      {
        rule: "(has(self.key) && self.key != '') || (has(self.operator) && self.operator == 'Exists')",
        message: 'a toleration without a key must use operator Exists',
      },
      {
        rule: "!has(self.tolerationSeconds) || (has(self.effect) && self.effect == 'NoExecute')",
        message: 'tolerationSeconds needs effect NoExecute',
      },
    ],
  });

/** An RFC 3339 time in status, e.g. lastTransitionTime. */
export const timestampSchema = (description: string) => z.string().meta({ description, format: 'date-time' });

/** A metav1.Condition. */
export const conditionSchema = z
  .looseObject({
    type: z.string().min(1).meta({ description: 'Condition type in CamelCase, e.g. Ready.' }),
    status: z.enum(['True', 'False', 'Unknown']).meta({ description: 'True, False or Unknown.' }),
    reason: z.string().meta({ description: 'One CamelCase word a person can act on (the STATUS column).' }),
    message: z.string().meta({ description: 'What is wrong or happening, in words.' }),
    lastTransitionTime: timestampSchema('When status last changed between True, False and Unknown.'),
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ description: 'The metadata.generation this condition was computed for.' }),
  })
  .meta({ description: 'A standard metav1.Condition.' });

/** The metadata Drop reads; everything else the API server sends is kept. */
export const objectMetaSchema = z.looseObject({
  name: z.string(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
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
        blockOwnerDeletion: z.boolean().optional(),
      }),
    )
    .optional(),
  finalizers: z.array(z.string()).optional(),
});

export type LocalObjectReference = z.output<typeof localObjectReferenceSchema>;
export type Toleration = z.output<typeof tolerationSchema>;
export type Condition = z.output<typeof conditionSchema>;
export type ObjectMeta = z.output<typeof objectMetaSchema>;

/** A whole Drop object: apiVersion and kind (defaulted), metadata, spec and optional status. */
export function kindSchema<K extends string, Spec extends z.ZodType, Status extends z.ZodType>(
  kind: K,
  parts: { readonly spec: Spec; readonly status: Status; readonly description: string },
) {
  return z
    .object({
      apiVersion: z.literal(API_VERSION).default(API_VERSION),
      kind: z.literal(kind).default(kind),
      metadata: objectMetaSchema,
      spec: parts.spec,
      status: parts.status.optional(),
    })
    .meta({ description: parts.description });
}
