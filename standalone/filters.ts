import { z } from 'zod';

// An ApiServerSource's `spec.filters` (Knative's SubscriptionsAPI filters) decide in the adapter,
// before anything is sent, which events reach the function. The runner honours the same filters so
// that a function sees in one process what it sees on Knative. Knative's rules, kept here
// (knative.dev/eventing pkg/eventfilter/subscriptionsapi): every filter of the list must pass; a
// filter object uses one dialect; `exact`, `prefix` and `suffix` name one attribute; an attribute
// the event lacks fails the match.

/** One filter of `spec.filters`, in the dialects the runner evaluates (not `cesql`). */
export type SourceFilter =
  | { readonly exact: Readonly<Record<string, string>> }
  | { readonly prefix: Readonly<Record<string, string>> }
  | { readonly suffix: Readonly<Record<string, string>> }
  | { readonly all: readonly SourceFilter[] }
  | { readonly any: readonly SourceFilter[] }
  | { readonly not: SourceFilter };

const DIALECTS = ['exact', 'prefix', 'suffix', 'all', 'any', 'not', 'cesql'] as const;

const oneAttribute = z
  .record(z.string().min(1), z.string().min(1))
  .refine((m) => Object.keys(m).length === 1, 'names exactly one attribute, e.g. {type: dev.example}');

export const filterSchema: z.ZodType<SourceFilter> = z.lazy(() =>
  z
    .strictObject({
      exact: oneAttribute.optional(),
      prefix: oneAttribute.optional(),
      suffix: oneAttribute.optional(),
      all: z.array(filterSchema).min(1).optional(),
      any: z.array(filterSchema).min(1).optional(),
      not: filterSchema.optional(),
      cesql: z.string().optional(),
    })
    .superRefine((filter, ctx) => {
      const used = DIALECTS.filter((d) => filter[d] !== undefined);
      if (used.includes('cesql'))
        ctx.addIssue({
          code: 'custom',
          message:
            'cesql filters are not evaluated by the standalone runner; use exact, prefix, suffix, all, any or not',
        });
      else if (used.length !== 1)
        ctx.addIssue({
          code: 'custom',
          message: `a filter uses exactly one of ${DIALECTS.slice(0, 6).join(', ')} (this one: ${used.join(', ') || 'none'})`,
        });
    }),
) as z.ZodType<SourceFilter>;

/** The CloudEvent attributes a filter reads: `type`, `kind`, `name`, `namespace`, `apiversion`, … */
export type EventAttributes = Readonly<Record<string, string>>;

/** Whether an event with these attributes passes every filter of the list (an empty list passes all). */
export function passes(filters: readonly SourceFilter[], attributes: EventAttributes): boolean {
  return filters.every((filter) => matches(filter, attributes));
}

function matches(filter: SourceFilter, attributes: EventAttributes): boolean {
  if ('exact' in filter) return test(filter.exact, attributes, (value, want) => value === want);
  if ('prefix' in filter) return test(filter.prefix, attributes, (value, want) => value.startsWith(want));
  if ('suffix' in filter) return test(filter.suffix, attributes, (value, want) => value.endsWith(want));
  if ('all' in filter) return filter.all.every((f) => matches(f, attributes));
  if ('any' in filter) return filter.any.some((f) => matches(f, attributes));
  return !matches(filter.not, attributes);
}

function test(
  wanted: Readonly<Record<string, string>>,
  attributes: EventAttributes,
  compare: (value: string, want: string) => boolean,
): boolean {
  return Object.entries(wanted).every(([name, want]) => {
    const value = attributes[name];
    return value !== undefined && compare(value, want);
  });
}
