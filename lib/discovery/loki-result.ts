import { z } from 'zod';
import type { LokiParser } from '../api/index.ts';
import { normaliseImageLabel } from './normalise.ts';
import { ObservationsBuilder, type QueryData } from './observations.ts';
import { type RawPullEvent, readPullMessage } from './pull-events.ts';
import { failure, type SourceFailure } from './reasons.ts';

// Loki's query_range answer for a log query (grafana.com/docs/loki/latest/reference/loki-http-api/):
// {"status":"success","data":{"resultType":"streams","result":[{"stream":{labels},
//  "values":[["<unix ns>","<line>"], …]}],"stats":{…}}}. A metric query answers a "matrix" instead.

const streamSchema = z.object({
  stream: z.record(z.string(), z.string()),
  values: z.array(z.tuple([z.string(), z.string()]).rest(z.unknown())),
});
const bodySchema = z.object({
  status: z.string(),
  data: z.object({ resultType: z.string(), result: z.array(z.unknown()) }),
});

export interface LokiEntry {
  readonly labels: Readonly<Record<string, string>>;
  /** Unix seconds. */
  readonly at: number;
  readonly line: string;
}

export type LokiAnswer =
  | { readonly ok: true; readonly entries: readonly LokiEntry[] }
  | { readonly ok: false; readonly failure: SourceFailure };

/** Reads a 200 answer of /loki/api/v1/query_range into entries, or says what is wrong with it. */
export function readLokiAnswer(body: string, endpoint: string): LokiAnswer {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return {
      ok: false,
      failure: failure('InvalidResponse', `${endpoint} answered a body that is not JSON: is it a Loki API?`),
    };
  }
  const parsed = bodySchema.safeParse(json);
  if (!parsed.success || parsed.data.status !== 'success')
    return {
      ok: false,
      failure: failure('InvalidResponse', `${endpoint} answered JSON that is not a Loki query result`),
    };
  const { resultType, result } = parsed.data.data;
  if (resultType !== 'streams')
    return {
      ok: false,
      failure: failure(
        'InvalidQuery',
        `the query returned a ${resultType}, not log lines: use a log query such as {job="kubernetes-events"} | json`,
      ),
    };
  const entries: LokiEntry[] = [];
  for (const raw of result) {
    const stream = streamSchema.safeParse(raw);
    if (!stream.success)
      return {
        ok: false,
        failure: failure('InvalidResponse', `${endpoint} answered a stream that is not {stream, values}`),
      };
    for (const [ns, line] of stream.data.values)
      entries.push({ labels: stream.data.stream, at: Number(ns) / 1e9, line });
  }
  return { ok: true, entries };
}

/**
 * The pull events in Loki entries, as Go Drop's kubernetesEvents parser reads them: each field
 * from the stream labels, else from the line as JSON (with Alloy's and the event exporter's
 * spellings as fallbacks), else the line itself is the message; the image is parsed out of the
 * message unless imageField names another field.
 */
export function lokiPullEvents(entries: readonly LokiEntry[], parser: LokiParser): RawPullEvent[] {
  const podField = parser.podField || 'involvedObject_name';
  const reasonField = parser.reasonField || 'reason';
  const messageField = parser.messageField || 'message';
  const imageField = parser.imageField || 'message';
  const events: RawPullEvent[] = [];
  for (const entry of entries) {
    const json = jsonObject(entry.line);
    const field = (...keys: string[]) =>
      keys.map((k) => entry.labels[k] || stringField(json, k)).find(Boolean);
    const message = field(messageField, 'message', 'msg') ?? (json ? undefined : entry.line);
    if (!message) continue;
    const fromField = imageField === messageField || imageField === 'message' ? undefined : field(imageField);
    const read = readPullMessage(field(reasonField, 'reason'), message, ...(fromField ? [fromField] : []));
    if (!read) continue;
    const pod = field(podField, 'involvedObject_name', 'name');
    events.push({ at: entry.at, message: read, ...(pod ? { pod } : {}) });
  }
  return events;
}

function jsonObject(line: string): Readonly<Record<string, unknown>> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function stringField(json: Readonly<Record<string, unknown>> | undefined, key: string): string | undefined {
  const value = json?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Without a parser (Go Drop's generic reading): one sample of 1 per line, under the stream's image label. */
export function lokiImageLines(entries: readonly LokiEntry[]): { data: QueryData; withoutImage: number } {
  const builder = new ObservationsBuilder();
  let withoutImage = 0;
  for (const entry of entries) {
    const normalised = entry.labels.image ? normaliseImageLabel(entry.labels.image) : undefined;
    if (!normalised?.ok) {
      withoutImage++;
      continue;
    }
    builder.samples(normalised.ref, [{ at: entry.at, value: 1 }]);
  }
  return { data: builder.build(), withoutImage };
}
