import { z } from 'zod';
import {
  checkTypeFields,
  httpUrl,
  isRegex,
  onlyFieldOfType,
  regexSchema,
  typeNeedsField,
} from './discovery-fields.ts';
import { secretRefSchema } from './discovery-sources.ts';
import { durationSchema } from './fields.ts';

// Stage 1 of the pipeline form: named queries fetch raw observations (Go Drop's DiscoveryQuery,
// plus kubernetesEvents, which reads the kubelet's pull events from the Events API itself).

export const QUERY_TYPES = ['prometheus', 'registry', 'loki', 'kubernetesEvents'] as const;
export type QueryType = (typeof QUERY_TYPES)[number];

export const prometheusQuerySchema = z
  .object({
    endpoint: httpUrl(
      'Base URL of a Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics), e.g. https://mimir.example.com.',
    ),
    query: z.string().min(1).meta({ description: 'PromQL; every series needs an image label.' }),
    queryType: z.enum(['range', 'instant']).default('range').meta({
      description: 'range: samples over lookback at step (default). instant: one sample per series now.',
    }),
    lookback: durationSchema(
      'How far back a range query reaches (default 24h). Ignored by instant.',
    ).optional(),
    step: durationSchema('Spacing of a range query’s samples.').default('5m'),
  })
  .meta({ description: 'A Prometheus query (type prometheus).' });

/** A regular expression with at least one capture group: group 1 is the version. */
function hasCaptureGroup(pattern: string): boolean {
  return isRegex(pattern) && (new RegExp(`${pattern}|`).exec('')?.length ?? 0) > 1;
}

export const registryQuerySchema = z
  .object({
    url: httpUrl('Base URL of an OCI distribution registry, e.g. https://registry.example.com.'),
    repositories: z
      .array(z.string().min(1).meta({ description: 'Repository path below the registry.' }))
      .min(1)
      .meta({
        description: 'Repositories to list tags from, e.g. team/frontend.',
        'x-kubernetes-list-type': 'atomic',
      }),
    tagFilter: regexSchema(
      'Regular expression a tag must match, e.g. ^v[0-9]+\\. Unset: every tag.',
    ).optional(),
    tagSeek: z.string().min(1).optional().meta({
      description:
        'Start listing after this value (the registry’s last= cursor, lexical): skips earlier tags without fetching them, e.g. x86_64-u~.',
    }),
    topX: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: 'Keep the newest N matching tags per repository. Unset: all.' }),
    maxScan: z
      .number()
      .int()
      .min(1)
      .default(1000)
      .meta({ description: 'Fetch at most this many tags per repository (before tagFilter).' }),
    versionPattern: z
      .string()
      .refine(hasCaptureGroup, { message: 'must be a regular expression with a capture group' })
      .optional()
      .meta({
        description:
          'Regular expression whose first capture group is the version in a tag, e.g. x86_64-v(.+). Unset: the tag, or a version embedded in it.',
      }),
    imageTemplate: z.string().min(1).optional().meta({
      description:
        'The image reference of a tag, from {{.Registry}}, {{.Repository}} and {{.Tag}}. Default {{.Registry}}/{{.Repository}}:{{.Tag}}.',
    }),
  })
  .meta({ description: 'A registry tag listing (type registry).' });

export const lokiParserSchema = z
  .object({
    type: z.enum(['kubernetesEvents']).meta({ description: 'kubernetesEvents: Kubernetes Event records.' }),
    podField: z
      .string()
      .optional()
      .meta({ description: 'Label or JSON field with the pod name (involvedObject_name).' }),
    reasonField: z
      .string()
      .optional()
      .meta({ description: 'Label or JSON field with the event reason (reason).' }),
    messageField: z
      .string()
      .optional()
      .meta({ description: 'Label or JSON field with the event message (message).' }),
    imageField: z.string().optional().meta({
      description: 'Label or field the image is read from; the message field: parsed out of the message.',
    }),
  })
  .meta({ description: 'How log lines become pull events.' });

export const lokiQuerySchema = z
  .object({
    endpoint: httpUrl('Base URL of a Loki HTTP API, e.g. https://loki.example.com.'),
    query: z.string().min(1).meta({ description: 'LogQL log query.' }),
    queryType: z.enum(['range']).default('range').meta({ description: 'range: /loki/api/v1/query_range.' }),
    lookback: durationSchema('How far back the query reaches (default 24h).').optional(),
    parser: lokiParserSchema.optional(),
  })
  .meta({ description: 'A Loki log query (type loki).' });

export const kubernetesEventsQuerySchema = z
  .object({
    namespace: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Only pods in this namespace. Unset: every namespace.' }),
    podNamePattern: regexSchema('Only pods whose name matches, e.g. ^runner-. Unset: every pod.').optional(),
    lookback: durationSchema(
      'Only events this recent (default: all the API server still holds, 1h by default).',
    ).optional(),
  })
  .meta({
    description:
      'The kubelet’s Pulled events from the Kubernetes Events API (type kubernetesEvents); no Loki needed.',
  });

const QUERY_RULES = [
  ...QUERY_TYPES.filter((t) => t !== 'kubernetesEvents').map(typeNeedsField),
  onlyFieldOfType(QUERY_TYPES),
];

export const querySchema = z
  .object({
    name: z.string().min(1).max(63).meta({ description: 'Unique in the policy; signals name it in query.' }),
    type: z
      .enum(QUERY_TYPES)
      .meta({ description: 'prometheus, registry, loki or kubernetesEvents; set the field of that name.' }),
    prometheus: prometheusQuerySchema.optional(),
    registry: registryQuerySchema.optional(),
    loki: lokiQuerySchema.optional(),
    kubernetesEvents: kubernetesEventsQuerySchema.optional(),
    secretRef: secretRefSchema,
  })
  .superRefine((q, ctx) => checkTypeFields(q, QUERY_TYPES, ['kubernetesEvents'], ctx))
  .meta({ description: 'A named source of raw observations.', 'x-kubernetes-validations': QUERY_RULES });

export type DiscoveryQuery = z.output<typeof querySchema>;
export type PrometheusQuery = z.output<typeof prometheusQuerySchema>;
export type RegistryQuery = z.output<typeof registryQuerySchema>;
export type LokiQuery = z.output<typeof lokiQuerySchema>;
export type LokiParser = z.output<typeof lokiParserSchema>;
export type KubernetesEventsQuery = z.output<typeof kubernetesEventsQuerySchema>;
