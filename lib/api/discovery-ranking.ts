import { z } from 'zod';
import { quantitySchema } from './discovery-fields.ts';
import { labelKeySchema } from './labels.ts';

// Stage 3 of the pipeline form: one ranking turns the signals into the ordered image list.

export const RANKING_STRATEGIES = ['signal', 'weightedSum', 'modelExposure'] as const;
export type RankingStrategy = (typeof RANKING_STRATEGIES)[number];

const TERM_RULE = {
  rule: 'has(self.signal) != has(self.signalRef)',
  message: 'name the signal in signal (or signalRef), once',
};

export const weightedSumTermSchema = z
  .object({
    signal: z.string().min(1).optional().meta({ description: 'The signal of this term.' }),
    signalRef: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Another spelling of signal (Drop’s first pipeline docs).' }),
    weight: quantitySchema('Factor for the normalised signal, e.g. "0.7" or "700m"; need not sum to 1.'),
  })
  .refine((t) => (t.signal === undefined) !== (t.signalRef === undefined), { message: TERM_RULE.message })
  .meta({ description: 'One signal and its weight.', 'x-kubernetes-validations': [TERM_RULE] });

export const weightedSumSchema = z
  .object({
    normalize: z
      .enum(['minMax'])
      .default('minMax')
      .meta({ description: 'minMax: (x - min) / (max - min); all equal: 1.' }),
    missingSignal: z.enum(['zero', 'drop']).default('zero').meta({
      description: 'An image without a value for a term: zero (the term adds 0, default) or drop (left out).',
    }),
    terms: z.array(weightedSumTermSchema).min(1).max(16).meta({
      description: 'The signals and their weights.',
      'x-kubernetes-list-type': 'atomic',
    }),
  })
  .meta({ description: 'Σ weight × minMax(signal) (strategy weightedSum).' });

const requirementSchema = (what: string) =>
  z
    .object({
      key: labelKeySchema(`The ${what}.`),
      operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']).meta({
        description: 'In, NotIn, Exists, DoesNotExist, Gt or Lt.',
      }),
      values: z
        .array(z.string().meta({ description: 'A value.' }))
        .optional()
        .meta({
          description: 'For In and NotIn: any of these; for Gt and Lt: one integer.',
          'x-kubernetes-list-type': 'atomic',
        }),
    })
    .meta({ description: `A requirement on a node's ${what}.` });

export const nodeSelectorSchema = z
  .object({
    nodeSelectorTerms: z
      .array(
        z
          .object({
            matchExpressions: z.array(requirementSchema('label key')).max(16).optional().meta({
              description: 'Label requirements, all must hold.',
              'x-kubernetes-list-type': 'atomic',
            }),
            matchFields: z.array(requirementSchema('field, metadata.name')).max(16).optional().meta({
              description: 'Field requirements, all must hold.',
              'x-kubernetes-list-type': 'atomic',
            }),
          })
          .meta({ description: 'A term: every requirement holds.' }),
      )
      .max(8)
      .meta({ description: 'Terms, any of which may hold.', 'x-kubernetes-list-type': 'atomic' }),
  })
  .meta({ description: 'A core/v1 NodeSelector, as in node affinity.' });

export const nodeCountSchema = z
  .object({
    count: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: 'A fixed N; with selector, used when counting fails.' }),
    selector: nodeSelectorSchema
      .optional()
      .meta({ description: 'N = the Ready nodes that match, counted at every sync.' }),
  })
  .meta({ description: 'Where N comes from: a fixed count, or Ready nodes matching a selector.' });

const MODEL_EXPOSURE_RULE = {
  rule: 'has(self.nodeCount) || has(self.nodes)',
  message: 'modelExposure needs nodes (count or selector) or nodeCount',
};

export const modelExposureSchema = z
  .object({
    nodeCount: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: 'N, as Drop’s first pipeline release spelled it.' }),
    nodes: nodeCountSchema.optional(),
    preWindowUsageSignal: z.string().min(1).meta({ description: 'J_pre: use before the target window.' }),
    targetWindowUsageSignal: z.string().min(1).meta({ description: 'J_target: use in the target window.' }),
    pullTimeSignal: z.string().min(1).meta({ description: 'p̂: what a cold pull costs.' }),
  })
  .refine((m) => m.nodeCount !== undefined || m.nodes !== undefined, { message: MODEL_EXPOSURE_RULE.message })
  .meta({
    description: 'J_target · (1 − 1/N)^J_pre · p̂ (strategy modelExposure).',
    'x-kubernetes-validations': [MODEL_EXPOSURE_RULE],
  });

const RANKING_RULES = [
  {
    rule: "self.strategy != 'signal' || has(self.signal)",
    message: 'strategy signal needs the signal field',
  },
  {
    rule: "self.strategy != 'weightedSum' || has(self.weightedSum)",
    message: 'strategy weightedSum needs the weightedSum field',
  },
  {
    rule: "self.strategy != 'modelExposure' || has(self.modelExposure)",
    message: 'strategy modelExposure needs the modelExposure field',
  },
] as const;

export const rankingSchema = z
  .object({
    strategy: z.enum(RANKING_STRATEGIES).meta({ description: 'signal, weightedSum or modelExposure.' }),
    signal: z.string().min(1).optional().meta({ description: 'strategy signal: rank by this signal.' }),
    weightedSum: weightedSumSchema.optional(),
    modelExposure: modelExposureSchema.optional(),
  })
  .superRefine((r, ctx) => {
    const missing = RANKING_RULES.find(
      (_, i) => r.strategy === RANKING_STRATEGIES[i] && r[RANKING_STRATEGIES[i]] === undefined,
    );
    if (missing) ctx.addIssue({ code: 'custom', message: missing.message, path: [r.strategy] });
  })
  .meta({
    description: 'How signals become one ordered list.',
    'x-kubernetes-validations': [...RANKING_RULES],
  });

export type DiscoveryRanking = z.output<typeof rankingSchema>;
export type WeightedSum = z.output<typeof weightedSumSchema>;
export type ModelExposure = z.output<typeof modelExposureSchema>;
export type NodeSelector = z.output<typeof nodeSelectorSchema>;

/** The signal a weightedSum term names, whichever spelling the policy used. */
export function termSignal(
  term: Pick<z.output<typeof weightedSumTermSchema>, 'signal' | 'signalRef'>,
): string {
  return term.signal ?? term.signalRef ?? '';
}
