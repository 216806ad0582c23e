import { z } from 'zod';
import { checkTypeFields, onlyFieldOfType, quantitySchema, typeNeedsField } from './discovery-fields.ts';
import { durationSchema } from './fields.ts';

// Stage 2 of the pipeline form: each signal reduces one query's observations to one number per image.

export const SIGNAL_TYPES = [
  'aggregate',
  'timeWeightedAggregate',
  'windowAggregate',
  'eventPullTime',
] as const;
export type SignalType = (typeof SIGNAL_TYPES)[number];

export const AGGREGATION_METHODS = ['sum', 'count', 'avg', 'max', 'min'] as const;
export type AggregationMethod = (typeof AGGREGATION_METHODS)[number];

const methodSchema = z
  .enum(AGGREGATION_METHODS)
  .default('sum')
  .meta({ description: 'sum (default), count, avg, max or min of the samples.' });

/** An IANA time zone name JavaScript knows (the CRD cannot check it; status says InvalidSpec). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const timezoneSchema = (description: string) =>
  z
    .string()
    .min(1)
    .refine(isTimeZone, { message: 'is not an IANA time zone such as Europe/Berlin' })
    .meta({ description });

const HH_MM = '^([01][0-9]|2[0-3]):[0-5][0-9]$';
const timeOfDay = (description: string) =>
  z.string().regex(new RegExp(HH_MM), 'must be HH:MM, 00:00 to 23:59').meta({ description });

const windowRule = {
  rule: 'self.startHour < self.endHour',
  message: 'startHour must be before endHour',
} as const;

export const timeWeightedWindowSchema = z
  .object({
    startHour: z
      .number()
      .int()
      .min(0)
      .max(23)
      .meta({ description: 'First hour of the window (0-23, local).' }),
    endHour: z
      .number()
      .int()
      .min(1)
      .max(24)
      .meta({ description: 'Hour the window ends, exclusive (1-24, local).' }),
    weight: quantitySchema('Factor for samples in this window, e.g. "0.3".'),
  })
  .refine((w) => w.startHour < w.endHour, { message: windowRule.message })
  .meta({ description: 'An hour-of-day window and its weight.', 'x-kubernetes-validations': [windowRule] });

export const aggregateSignalSchema = z
  .object({ method: methodSchema })
  .meta({ description: 'One value from every sample (type aggregate).' });

export const timeWeightedAggregateSchema = z
  .object({
    method: methodSchema,
    timezone: timezoneSchema('IANA time zone the hours are read in, e.g. Europe/Berlin.'),
    defaultWeight: quantitySchema('Weight of samples outside every window, e.g. "0".'),
    windows: z.array(timeWeightedWindowSchema).min(1).max(24).meta({
      description: 'Hour-of-day windows; the first that holds a sample’s hour gives its weight.',
      'x-kubernetes-list-type': 'atomic',
    }),
  })
  .meta({
    description: 'Samples weighted by their hour of day, then aggregated (type timeWeightedAggregate).',
  });

const WINDOW_AGGREGATE_RULES = [
  {
    rule: 'has(self.relativeWindow) != has(self.window)',
    message: 'set either relativeWindow or window, not both',
  },
  { rule: '!has(self.window) || has(self.timezone)', message: 'window needs timezone' },
] as const;

export const windowAggregateSchema = z
  .object({
    method: methodSchema,
    relativeWindow: durationSchema('Only samples this recent, e.g. 2h.').optional(),
    timezone: timezoneSchema('IANA time zone window is read in, e.g. Europe/Berlin.').optional(),
    window: z
      .object({
        start: timeOfDay('Start, inclusive, HH:MM local time.'),
        end: timeOfDay('End, exclusive, HH:MM local time; before start: the window crosses midnight.'),
      })
      .optional()
      .meta({ description: 'A time of day window, counted on every day of the query’s samples.' }),
  })
  .refine((w) => (w.relativeWindow !== undefined) !== (w.window !== undefined), {
    message: WINDOW_AGGREGATE_RULES[0].message,
  })
  .refine((w) => w.window === undefined || w.timezone !== undefined, {
    message: WINDOW_AGGREGATE_RULES[1].message,
  })
  .meta({
    description: 'Only the samples inside a window, aggregated (type windowAggregate).',
    'x-kubernetes-validations': [...WINDOW_AGGREGATE_RULES],
  });

export const EVENT_METRICS = ['pullTime', 'imageSize', 'failure', 'cacheHit'] as const;
export const EVENT_STATISTICS = ['p50', 'p90', 'p95', 'avg', 'max', 'count'] as const;
export type EventMetric = (typeof EVENT_METRICS)[number];
export type EventStatistic = (typeof EVENT_STATISTICS)[number];

export const eventPullTimeSchema = z
  .object({
    metric: z
      .enum(EVENT_METRICS)
      .default('pullTime')
      .meta({ description: 'pullTime (seconds, default), imageSize (bytes), failure or cacheHit (events).' }),
    statistic: z.enum(EVENT_STATISTICS).meta({ description: 'p50, p90, p95, avg, max or count.' }),
    includeCacheHits: z
      .boolean()
      .default(false)
      .meta({ description: 'pullTime: count "already present" events as 0 s pulls.' }),
    durationMode: z.enum(['messageDuration', 'eventPair']).default('messageDuration').meta({
      description:
        'messageDuration: the "in 12.3s" of the message (default); eventPair: Pulled minus Pulling time.',
    }),
  })
  .meta({ description: 'A statistic of pull events (type eventPullTime).' });

const QUERY_RULE = {
  rule: 'has(self.query) != has(self.queryRef)',
  message: 'name the query in query (or queryRef), once',
};
const SIGNAL_RULES = [QUERY_RULE, ...SIGNAL_TYPES.map(typeNeedsField), onlyFieldOfType(SIGNAL_TYPES)];

export const signalSchema = z
  .object({
    name: z.string().min(1).max(63).meta({ description: 'Unique in the policy; the ranking names it.' }),
    query: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'The query whose observations this signal reduces.' }),
    queryRef: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Another spelling of query (Drop’s first pipeline docs).' }),
    type: z
      .enum(SIGNAL_TYPES)
      .meta({ description: 'aggregate, timeWeightedAggregate, windowAggregate or eventPullTime.' }),
    aggregate: aggregateSignalSchema.optional(),
    timeWeightedAggregate: timeWeightedAggregateSchema.optional(),
    windowAggregate: windowAggregateSchema.optional(),
    eventPullTime: eventPullTimeSchema.optional(),
  })
  .superRefine((s, ctx) => {
    if ((s.query === undefined) === (s.queryRef === undefined))
      ctx.addIssue({ code: 'custom', message: QUERY_RULE.message, path: ['query'] });
    checkTypeFields(s, SIGNAL_TYPES, [], ctx);
  })
  .meta({
    description: 'A named number per image, from one query.',
    'x-kubernetes-validations': SIGNAL_RULES,
  });

export type DiscoverySignal = z.output<typeof signalSchema>;
export type TimeWeightedAggregate = z.output<typeof timeWeightedAggregateSchema>;
export type WindowAggregate = z.output<typeof windowAggregateSchema>;
export type EventPullTime = z.output<typeof eventPullTimeSchema>;

/** The query a signal reads, whichever spelling the policy used. */
export function signalQuery(signal: Pick<DiscoverySignal, 'query' | 'queryRef'>): string {
  return signal.query ?? signal.queryRef ?? '';
}
