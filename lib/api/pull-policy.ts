import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from '../duration.ts';
import { kindSchema } from './core.ts';
import { quantitySchema } from './discovery-fields.ts';
import { durationSchema, statusFields } from './fields.ts';
import { labelKeySchema } from './labels.ts';

// A malformed duration is its own field's error: comparing it would only add "type conversion
// error from 'string' to 'google.protobuf.Duration'" to the message.
const valid = (field: string) => `self.${field}.matches(r'${DURATION_PATTERN}')`;
const INITIAL_NOT_ABOVE_MAX = {
  // CEL's duration() parses the same Go duration strings (cel-go uses time.ParseDuration).
  rule: `!has(self.initial) || !has(self.max) || !${valid('initial')} || !${valid('max')} || duration(self.initial) <= duration(self.max)`,
  message: 'failureBackoff.initial must not be longer than failureBackoff.max',
} as const;

const failureBackoffSchema = z
  .object({
    initial: durationSchema('Wait after the first failure on a node.').default('30s'),
    max: durationSchema('Longest wait; the wait doubles with each failure up to this.').default('5m'),
  })
  .refine((b) => (parseDuration(b.initial) ?? 0) <= (parseDuration(b.max) ?? Number.POSITIVE_INFINITY), {
    message: INITIAL_NOT_ABOVE_MAX.message,
  })
  .meta({
    description: 'Exponential backoff before a failed (image, node) pair is tried again.',
    'x-kubernetes-validations': [INITIAL_NOT_ABOVE_MAX],
  });

const atLeastOne = (description: string) => z.number().int().min(1).meta({ description });

const registryCapSchema = z
  .object({
    host: z
      .string()
      .min(1)
      .regex(
        /^[a-z0-9.-]+(:[0-9]+)?$|^\[[0-9a-f:]+\](:[0-9]+)?$/,
        'must be a registry host such as docker.io or registry.example:5000',
      )
      .meta({
        description:
          'The registry host as image references name it, e.g. docker.io, ghcr.io, registry.example:5000.',
      }),
    maxConcurrentPulls: atLeastOne(
      'At most this many Drop pulls from the host at once, cluster-wide.',
    ).optional(),
    maxPullsPerHour: atLeastOne(
      'At most this many Drop pulls from the host started in any hour, cluster-wide.',
    ).optional(),
  })
  .meta({
    description:
      'A cap on one registry host, across every policy and replica (the strictest of all policies holds; kept in the Lease drop-registry-<host>).',
  });

// PreferNoSchedule is left out: it keeps no workload off a node, so there is nothing to wait for.
const startupTaintSchema = z
  .object({
    key: labelKeySchema(
      'The taint key the node template sets, e.g. drop.corewire.io/warming (any value matches).',
    ),
    effect: z
      .enum(['NoSchedule', 'NoExecute'])
      .default('NoSchedule')
      .meta({ description: 'The taint effect (default NoSchedule).' }),
    timeout: durationSchema(
      "Remove the taint this long after the node's creationTimestamp even if some image is not cached, so a broken registry never strands a node (default 10m).",
    ).default('10m'),
  })
  .meta({
    description:
      "Nodes that join with this taint get every image this policy paces (their pull pods tolerate it), then Drop removes the taint: once all are cached there, or at the timeout. Needs the opt-in role drop-startup-taint (Helm startupTaint.enabled); without it the images' status says StartupTaintForbidden.",
  });

export const pullPolicySpecSchema = z
  .object({
    maxConcurrentNodes: atLeastOne(
      'Per image: at most this many nodes pull it at once (the MAXNODES column).',
    ).default(1),
    minDelayBetweenPulls: durationSchema(
      'Per image: the least time between two successive pull starts (the MINDELAY column).',
    ).default('10s'),
    // The whole default, not {}: the API server checks a default against the CEL rule as written.
    failureBackoff: failureBackoffSchema.default({ initial: '30s', max: '5m' }),
    maxConcurrentPulls: atLeastOne(
      'Per policy: at most this many pulls in flight across all its images (the MAXPULLS column). Unset: no cap.',
    ).optional(),
    maxConcurrentPullsPerNode: atLeastOne(
      'Per node: at most this many Drop pulls at once on one node, so images never fight over its bandwidth.',
    ).default(1),
    repullInterval: durationSchema(
      'Pull cached images again this often, to pick up a new digest behind the same tag. Unset: never.',
    ).optional(),
    digestCheckInterval: durationSchema(
      "Ask the registry this often which digest each image's tag names now (a manifest HEAD with the image's pull secrets), and re-pull, paced, only the nodes that hold another. Only for tags pulled with imagePullPolicy Always. Unset: never.",
    ).optional(),
    registries: z
      .array(registryCapSchema)
      .optional()
      .meta({
        description: 'Caps per registry host, e.g. at most 100 pulls per hour from docker.io.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['host'],
      }),
    imageProbeInterval: durationSchema(
      "How often Drop checks that a cached image is still on a node whose kubelet cannot say so in node.status.images (it lists the kubelet's maximum of 50, or none): a pod with imagePullPolicy Never, paced like a pull, which pulls nothing and ends ErrImageNeverPull when the image was garbage-collected. 0s: never. Unset: 6h.",
    ).optional(),
    newNodeWindow: durationSchema(
      'A node that joined less than this long ago is warmed first: within each priority its pulls take the slots before the rest of a rollout, re-pulls and re-warms on older nodes. 0s: no node is served first. Unset: 15m.',
    ).optional(),
    startupTaint: startupTaintSchema.optional(),
    maxImageSize: quantitySchema(
      'Refuse to cache an image whose manifest (config and layers, as the registry lists them) is larger, e.g. 2Gi; an image may set its own. Unset: no limit.',
    ).optional(),
  })
  .meta({ description: 'Pacing and safety limits shared by the images that reference this policy.' });

export const pullPolicyStatusSchema = z
  .looseObject({
    conditions: statusFields.conditions,
    observedGeneration: statusFields.observedGeneration,
  })
  .meta({ description: 'What Drop observed.' });

export const pullPolicySchema = kindSchema('PullPolicy', {
  // Every field has a default, so a PullPolicy without spec is the default limits.
  spec: pullPolicySpecSchema.prefault({}),
  status: pullPolicyStatusSchema,
  description: 'Pacing and safety settings shared by images: how many pulls, how fast, how often.',
});

export type PullPolicySpec = z.output<typeof pullPolicySpecSchema>;
export type PullPolicyStatus = z.output<typeof pullPolicyStatusSchema>;
export type PullPolicy = z.output<typeof pullPolicySchema>;
