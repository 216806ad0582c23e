import { z } from 'zod';
import { kindSchema } from './core.ts';
import { regexSchema } from './discovery-fields.ts';
import { querySchema } from './discovery-queries.ts';
import { rankingSchema, termSignal } from './discovery-ranking.ts';
import { signalQuery, signalSchema } from './discovery-signals.ts';
import { sourceSchema } from './discovery-sources.ts';
import { discoveryPolicyStatusSchema } from './discovery-status.ts';
import { durationSchema } from './fields.ts';

// A DiscoveryPolicy has one of two forms: sources[] (summed scores), or Go Drop 2.0's pipeline —
// queries[] feed signals[], which feed one ranking. The CRD accepts exactly one per object.

const SIG = '(has(s.query) ? s.query : s.queryRef)';
const TERM = '(has(t.signal) ? t.signal : t.signalRef)';
const signalNamed = (name: string) => `(has(self.signals) && self.signals.exists(s, s.name == ${name}))`;

const SPEC_RULES = [
  {
    rule: 'has(self.sources) != has(self.queries)',
    message: 'set either sources or queries (with signals and ranking), not both',
  },
  {
    rule: '!has(self.sources) || (!has(self.signals) && !has(self.ranking))',
    message: 'signals and ranking go with queries, not with sources',
  },
  {
    rule: `!has(self.signals) || !has(self.queries) || self.signals.all(s, self.queries.exists(q, q.name == ${SIG}))`,
    message: 'every signal must name a query of this policy',
  },
  {
    rule: `!has(self.ranking) || !has(self.ranking.signal) || ${signalNamed('self.ranking.signal')}`,
    message: 'ranking.signal must name a signal of this policy',
  },
  {
    rule: `!has(self.ranking) || !has(self.ranking.weightedSum) || self.ranking.weightedSum.terms.all(t, ${signalNamed(TERM)})`,
    message: 'every weightedSum term must name a signal of this policy',
  },
  {
    rule: `!has(self.ranking) || !has(self.ranking.modelExposure) || (${signalNamed('self.ranking.modelExposure.preWindowUsageSignal')} && ${signalNamed('self.ranking.modelExposure.targetWindowUsageSignal')} && ${signalNamed('self.ranking.modelExposure.pullTimeSignal')})`,
    message: 'modelExposure must name signals of this policy',
  },
] as const;

export const discoveryPolicySpecSchema = z
  .object({
    syncInterval: durationSchema('How often to run the queries (or sources).').default('30m'),
    maxImages: z
      .number()
      .int()
      .min(1)
      .default(50)
      .meta({ description: 'Keep at most this many images after ranking.' }),
    imageFilter: regexSchema(
      'Regular expression the full image reference must match, e.g. registry.example.com/.*. Unset: every image.',
    ).optional(),
    sources: z.array(sourceSchema).min(1).max(16).optional().meta({
      description:
        'The first form: where images are discovered; their scores add up. Use queries instead for signals and a ranking.',
      'x-kubernetes-list-type': 'atomic',
    }),
    queries: z
      .array(querySchema)
      .min(1)
      .max(16)
      .optional()
      .meta({
        description: 'Named sources of raw observations (Prometheus, registry, Loki, Kubernetes Events).',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    signals: z
      .array(signalSchema)
      .max(32)
      .optional()
      .meta({
        description: 'Named numbers per image, each from one query.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    ranking: rankingSchema.optional().meta({
      description:
        'How signals order the images. Unset: by each image’s largest sample (registry tags newest first).',
    }),
  })
  .superRefine((spec, ctx) => {
    for (const problem of specProblems(spec)) ctx.addIssue({ code: 'custom', ...problem });
  })
  .meta({
    description: 'Find the images that matter automatically.',
    'x-kubernetes-validations': [...SPEC_RULES],
  });

type RawSpec = {
  readonly sources?: unknown;
  readonly queries?: readonly z.output<typeof querySchema>[];
  readonly signals?: readonly z.output<typeof signalSchema>[];
  readonly ranking?: z.output<typeof rankingSchema>;
};

// What the CEL rules say, and what they cannot: which signals fit which queries, and unique names
// (an older CRD or a dry run has no map-list check).
function specProblems(spec: RawSpec): { message: string; path: PropertyKey[] }[] {
  const problems: { message: string; path: PropertyKey[] }[] = [];
  if ((spec.sources === undefined) === (spec.queries === undefined))
    problems.push({ message: SPEC_RULES[0].message, path: [] });
  if (spec.sources !== undefined && (spec.signals || spec.ranking))
    problems.push({ message: SPEC_RULES[1].message, path: ['signals'] });
  const queries = new Map((spec.queries ?? []).map((q) => [q.name, q]));
  if (queries.size !== (spec.queries ?? []).length)
    problems.push({ message: 'query names must be unique', path: ['queries'] });
  const signals = new Set((spec.signals ?? []).map((s) => s.name));
  if (signals.size !== (spec.signals ?? []).length)
    problems.push({ message: 'signal names must be unique', path: ['signals'] });
  for (const [i, signal] of (spec.signals ?? []).entries()) {
    const query = queries.get(signalQuery(signal));
    if (!query) {
      if (spec.queries) problems.push({ message: SPEC_RULES[2].message, path: ['signals', i, 'query'] });
      continue;
    }
    const misfit = misfitOf(signal.type, query.type);
    if (misfit)
      problems.push({
        message: `signal ${signal.name} reads query ${query.name}: ${misfit}`,
        path: ['signals', i],
      });
  }
  const named = (name: string) => signals.has(name);
  const ranking = spec.ranking;
  if (ranking?.signal !== undefined && !named(ranking.signal))
    problems.push({ message: SPEC_RULES[3].message, path: ['ranking', 'signal'] });
  if (ranking?.weightedSum && !ranking.weightedSum.terms.every((t) => named(termSignal(t))))
    problems.push({ message: SPEC_RULES[4].message, path: ['ranking', 'weightedSum', 'terms'] });
  const model = ranking?.modelExposure;
  if (
    model &&
    ![model.preWindowUsageSignal, model.targetWindowUsageSignal, model.pullTimeSignal].every(named)
  )
    problems.push({ message: SPEC_RULES[5].message, path: ['ranking', 'modelExposure'] });
  return problems;
}

const EVENT_QUERIES = new Set(['loki', 'kubernetesEvents']);

// Registry queries list tags, not time series; only event queries have pull events (as Go Drop).
function misfitOf(signal: string, query: string): string | undefined {
  if ((signal === 'timeWeightedAggregate' || signal === 'windowAggregate') && query === 'registry')
    return `${signal} needs samples over time; a registry query lists tags`;
  if (signal === 'eventPullTime' && !EVENT_QUERIES.has(query))
    return `eventPullTime needs pull events (a loki or kubernetesEvents query), not ${query}`;
  return undefined;
}

export const discoveryPolicySchema = kindSchema('DiscoveryPolicy', {
  spec: discoveryPolicySpecSchema,
  status: discoveryPolicyStatusSchema,
  description: 'Discovers the images that matter from Prometheus, registries, Loki or Kubernetes Events.',
});

export type DiscoveryPolicySpec = z.output<typeof discoveryPolicySpecSchema>;
export type DiscoveryPolicy = z.output<typeof discoveryPolicySchema>;
