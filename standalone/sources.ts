import { z } from 'zod';
import { API_VERSION, PLURAL } from '../lib/api/index.ts';
import type { EventMode } from '../lib/controller/source-events.ts';
import { parseDuration } from '../lib/duration.ts';
import { filterSchema, type SourceFilter } from './filters.ts';

// The ApiServerSource and PingSource manifests of config/ are the one description of what feeds
// each function: the standalone runner and the end-to-end test read them, so what is deployed on
// Knative is what runs and is tested without it.

/** A watched kind with what a watch and the Knative adapter need to reach it. */
export interface WatchedKind {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

const KINDS: readonly WatchedKind[] = [
  ...Object.entries(PLURAL).map(([kind, plural]) => ({
    apiVersion: API_VERSION,
    kind,
    plural,
    namespaced: false,
  })),
  { apiVersion: 'v1', kind: 'Node', plural: 'nodes', namespaced: false },
  { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
];

export interface SourceResource extends WatchedKind {
  /** A label selector in the API's string form, e.g. `app.kubernetes.io/managed-by=drop`. */
  readonly selector?: string;
}

/** One ApiServerSource: the function it feeds (its sink) and what it watches. */
export interface EventSource {
  readonly name: string;
  /** The namespace of the source: namespaced kinds are watched there only (no namespaceSelector). */
  readonly namespace: string;
  readonly function: string;
  readonly mode: EventMode;
  readonly resources: readonly SourceResource[];
  /** `spec.filters`: which events are sent (standalone/filters.ts); empty sends every event. */
  readonly filters: readonly SourceFilter[];
}

/** One PingSource: the function it ticks, how often, with what data. */
export interface PingTick {
  readonly name: string;
  readonly namespace: string;
  readonly function: string;
  readonly schedule: string;
  readonly everyMs: number;
  /** The body as configured (JSON text with contentType application/json). */
  readonly data: string;
}

const selectorSchema = z.object({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z.object({
        key: z.string(),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});

const sinkSchema = z.object({
  ref: z.object({ apiVersion: z.string(), kind: z.string(), name: z.string() }),
});

const metadataSchema = z.object({ name: z.string(), namespace: z.string().optional() });

const apiServerSourceSchema = z.object({
  kind: z.literal('ApiServerSource'),
  metadata: metadataSchema,
  spec: z.object({
    mode: z.enum(['Resource', 'Reference']).default('Reference'),
    resources: z.array(
      z.object({ apiVersion: z.string(), kind: z.string(), selector: selectorSchema.optional() }),
    ),
    sink: sinkSchema,
    namespaceSelector: selectorSchema.optional(),
    filters: z.array(filterSchema).default([]),
  }),
});

const pingSourceSchema = z.object({
  kind: z.literal('PingSource'),
  metadata: metadataSchema,
  spec: z.object({
    schedule: z.string(),
    data: z.string().default(''),
    contentType: z.string().optional(),
    sink: sinkSchema,
  }),
});

/** Knative Services are named `drop-<function>`; a sink names the function it feeds. */
export const SERVICE_PREFIX = 'drop-';

export interface Sources {
  readonly eventSources: readonly EventSource[];
  readonly pings: readonly PingTick[];
}

/**
 * The ApiServerSources and PingSources among `objects` (every other kind is skipped), with each
 * sink resolved to a function. Throws on what the runner could not honour, naming the object.
 */
export function sourcesOf(objects: readonly unknown[], defaultNamespace: string): Sources {
  const eventSources: EventSource[] = [];
  const pings: PingTick[] = [];
  for (const object of objects) {
    const kind = (object as { kind?: unknown } | null)?.kind;
    if (kind === 'ApiServerSource')
      eventSources.push(eventSourceOf(parse(apiServerSourceSchema, object), defaultNamespace));
    if (kind === 'PingSource') pings.push(pingOf(parse(pingSourceSchema, object), defaultNamespace));
  }
  return { eventSources, pings };
}

function parse<T>(schema: z.ZodType<T>, object: unknown): T {
  const result = schema.safeParse(object);
  if (result.success) return result.data;
  const name = (object as { metadata?: { name?: string } }).metadata?.name ?? '?';
  const issue = result.error.issues[0];
  throw new Error(`source ${name}: ${issue?.path.join('.')}: ${issue?.message}`);
}

function eventSourceOf(
  source: z.output<typeof apiServerSourceSchema>,
  defaultNamespace: string,
): EventSource {
  const name = source.metadata.name;
  if (source.spec.namespaceSelector) {
    throw new Error(
      `ApiServerSource ${name}: namespaceSelector is not supported; Drop watches its own namespace`,
    );
  }
  const resources = source.spec.resources.map((r) => {
    const known = KINDS.find((k) => k.apiVersion === r.apiVersion && k.kind === r.kind);
    if (!known) throw new Error(`ApiServerSource ${name}: cannot watch ${r.apiVersion} ${r.kind}`);
    const selector = r.selector ? selectorString(r.selector) : '';
    return { ...known, ...(selector ? { selector } : {}) };
  });
  return {
    name,
    namespace: source.metadata.namespace ?? defaultNamespace,
    function: functionOf(name, source.spec.sink.ref.name),
    mode: source.spec.mode,
    resources,
    filters: source.spec.filters,
  };
}

function pingOf(source: z.output<typeof pingSourceSchema>, defaultNamespace: string): PingTick {
  const name = source.metadata.name;
  return {
    name,
    namespace: source.metadata.namespace ?? defaultNamespace,
    function: functionOf(name, source.spec.sink.ref.name),
    schedule: source.spec.schedule,
    everyMs: intervalOf(name, source.spec.schedule),
    data: source.spec.data,
  };
}

function functionOf(source: string, sink: string): string {
  if (!sink.startsWith(SERVICE_PREFIX))
    throw new Error(`source ${source}: sink ${sink} is not a Drop function`);
  return sink.slice(SERVICE_PREFIX.length);
}

/** metav1.LabelSelector in the string form list and watch requests (and the adapter) take. */
export function selectorString(selector: z.output<typeof selectorSchema>): string {
  const labels = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  const expressions = (selector.matchExpressions ?? []).map((e) => {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'Exists') return e.key;
    if (e.operator === 'DoesNotExist') return `!${e.key}`;
    return `${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${values})`;
  });
  return [...labels, ...expressions].join(',');
}

/**
 * The period of a PingSource schedule. Drop's ticks are periodic, so only the periodic forms are
 * taken: `@every <duration>`, and cron with every field `*` but minutes (`*` or `*∕N`).
 */
export function intervalOf(source: string, schedule: string): number {
  const every = /^@every\s+(\S+)$/.exec(schedule.trim());
  if (every?.[1]) {
    const ms = parseDuration(every[1]);
    if (ms && ms > 0) return ms;
  }
  const fields = schedule.trim().split(/\s+/);
  const minutes = fields.length === 5 && fields.slice(1).every((f) => f === '*') ? fields[0] : undefined;
  if (minutes === '*') return 60_000;
  const step = minutes ? /^\*\/([1-9][0-9]*)$/.exec(minutes)?.[1] : undefined;
  if (step) return Number(step) * 60_000;
  throw new Error(
    `PingSource ${source}: schedule ${JSON.stringify(schedule)} is not periodic (use */N * * * * or @every 30s)`,
  );
}
