import { z } from 'zod';
import { duration, type objectMeta, statusBase } from './common.ts';

export const pullPolicySpecSchema = z
  .object({
    maxConcurrentNodes: z
      .number()
      .int()
      .min(1)
      .default(1)
      .meta({ description: 'Per image: at most this many nodes pull it at once.' }),
    minDelayBetweenPulls: duration('Per image: least time between two successive pull starts.').default(
      '10s',
    ),
    failureBackoff: z
      .object({
        initial: duration('Wait after the first failure.').default('30s'),
        max: duration('Longest wait; the wait doubles per failure up to this.').default('5m'),
      })
      .default({ initial: '30s', max: '5m' })
      .meta({ description: 'Exponential backoff for a failed (image, node).' }),
    maxConcurrentPulls: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: 'Per policy: pulls in flight across all its images. Unset: no cap.' }),
    maxConcurrentPullsPerNode: z.number().int().min(1).default(1).meta({
      description: 'Per node: Drop pulls at once on one node, so images never fight over its bandwidth.',
    }),
    repullInterval: duration(
      'Re-pull cached images this often to pick up new digests. Unset: never.',
    ).optional(),
  })
  .meta({ description: 'Pacing and safety limits shared by the images that reference this policy.' });

export const pullPolicyStatusSchema = z
  .object({ ...statusBase })
  .meta({ description: 'What Drop observed.' });

export type PullPolicySpec = z.output<typeof pullPolicySpecSchema>;
export type PullPolicyStatus = z.output<typeof pullPolicyStatusSchema>;
export interface PullPolicy {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: z.output<typeof objectMeta>;
  readonly spec?: Partial<PullPolicySpec>;
  readonly status?: PullPolicyStatus;
}
