import { z } from 'zod';
import { normaliseImageLabel } from './normalise.ts';
import { ObservationsBuilder, type QueryData, type Sample } from './observations.ts';
import { failure, type SourceFailure } from './reasons.ts';

// The Prometheus HTTP API envelope (prometheus.io/docs/prometheus/latest/querying/api/), which
// Thanos, Mimir and VictoriaMetrics answer too. Sample values are strings: "NaN", "+Inf" included.
// A week at 5m is 2,017 samples per series: zod checks the envelope and each series' labels, and
// samplesOf checks the samples in a plain loop (a zod tuple per sample took 4x JSON.parse's time).
const sampleSchema = z.tuple([z.number(), z.string()]);
const labelsSchema = z.record(z.string(), z.string());
const dataSchema = z.discriminatedUnion('resultType', [
  z.object({
    resultType: z.literal('vector'),
    result: z.array(z.object({ metric: labelsSchema, value: sampleSchema })),
  }),
  z.object({
    resultType: z.literal('matrix'),
    result: z.array(z.object({ metric: labelsSchema, values: z.custom<unknown[]>(Array.isArray) })),
  }),
  z.object({ resultType: z.literal('scalar'), result: sampleSchema }),
  z.object({ resultType: z.literal('string'), result: sampleSchema }),
]);
const bodySchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('success'), data: dataSchema }),
  z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string().optional() }),
]);

/** One series of a query result: its labels, and its samples' times (Unix seconds) and values. */
export interface Series {
  readonly labels: Readonly<Record<string, string>>;
  readonly times: readonly number[];
  readonly values: readonly string[];
}

export type PrometheusAnswer =
  | { readonly ok: true; readonly series: readonly Series[] }
  | { readonly ok: false; readonly failure: SourceFailure };

const MESSAGE_LIMIT = 300;

/** Reads an HTTP answer of /api/v1/query or /api/v1/query_range into series, or says what went wrong. */
export function readPrometheusAnswer(status: number, body: string, endpoint: string): PrometheusAnswer {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    const fallback = failureForStatus(status, endpoint, undefined);
    if (fallback) return { ok: false, failure: fallback };
    return invalid(
      `${endpoint} answered HTTP ${status} with a body that is not JSON: is it a Prometheus API?`,
    );
  }
  const parsed = bodySchema.safeParse(json);
  if (!parsed.success) {
    const fallback = failureForStatus(status, endpoint, undefined);
    if (fallback) return { ok: false, failure: fallback };
    return invalid(`${endpoint} answered JSON that is not a Prometheus query result`);
  }
  const answer = parsed.data;
  if (answer.status === 'error') {
    const detail = (answer.error ?? 'no error message').slice(0, MESSAGE_LIMIT);
    return {
      ok: false,
      failure: failureForError(answer.errorType, status, endpoint, detail),
    };
  }
  if (status < 200 || status >= 300) {
    return {
      ok: false,
      failure: failureForStatus(status, endpoint, undefined) ?? httpFailure(status, endpoint),
    };
  }
  const data = answer.data;
  switch (data.resultType) {
    case 'vector':
      return {
        ok: true,
        series: data.result.map((r) => ({ labels: r.metric, times: [r.value[0]], values: [r.value[1]] })),
      };
    case 'matrix': {
      const series: Series[] = [];
      for (const r of data.result) {
        const samples = samplesOf(r.values);
        if (!samples)
          return invalid(`${endpoint} answered a matrix whose samples are not [time, "value"] pairs`);
        series.push({ labels: r.metric, ...samples });
      }
      return { ok: true, series };
    }
    default:
      return {
        ok: false,
        failure: failure(
          'InvalidQuery',
          `the query returned a ${data.resultType}, not series: it must return series with an image label, e.g. count(...) by (image)`,
        ),
      };
  }
}

function samplesOf(samples: readonly unknown[]): { times: number[]; values: string[] } | undefined {
  const times: number[] = new Array(samples.length);
  const values: string[] = new Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const sample = samples[i];
    if (!Array.isArray(sample) || typeof sample[0] !== 'number' || typeof sample[1] !== 'string')
      return undefined;
    times[i] = sample[0];
    values[i] = sample[1];
  }
  return { times, values };
}

function invalid(message: string): PrometheusAnswer {
  return { ok: false, failure: failure('InvalidResponse', message) };
}

// Prometheus' errorType values (web/api/v1/api.go): bad_data 400, execution 422, timeout and
// canceled 503, internal 500, unavailable 503, not_found 404.
function failureForError(
  errorType: string | undefined,
  status: number,
  endpoint: string,
  detail: string,
): SourceFailure {
  switch (errorType) {
    case 'bad_data':
    case 'execution':
      return failure('InvalidQuery', `Prometheus rejected the query: ${detail}`);
    case 'timeout':
    case 'canceled':
      return failure('Timeout', `the query did not finish in time on the server: ${detail}`);
    default:
      return (
        failureForStatus(status, endpoint, detail) ??
        failure('InvalidResponse', `${endpoint} answered HTTP ${status} (${errorType ?? 'error'}): ${detail}`)
      );
  }
}

function failureForStatus(
  status: number,
  endpoint: string,
  detail: string | undefined,
): SourceFailure | undefined {
  const suffix = detail ? `: ${detail}` : '';
  if (status === 401)
    return failure(
      'Unauthorized',
      `${endpoint} answered 401: check token or username/password in the Secret${suffix}`,
    );
  if (status === 403)
    return failure('Forbidden', `${endpoint} answered 403: the credentials may not run queries${suffix}`);
  if (status === 404)
    return failure(
      'NotFound',
      `${endpoint} answered 404: endpoint must be the base URL of the Prometheus API (the part before /api/v1)${suffix}`,
    );
  if (status === 429) return failure('RateLimited', `${endpoint} answered 429 Too Many Requests${suffix}`);
  if (status === 400 || status === 422)
    return failure('InvalidQuery', `Prometheus rejected the query${suffix}`);
  if (status === 408 || status === 504)
    return failure('Timeout', `${endpoint} answered ${status}: gateway timeout${suffix}`);
  return undefined;
}

function httpFailure(status: number, endpoint: string): SourceFailure {
  return failure('InvalidResponse', `${endpoint} answered HTTP ${status}`);
}

/** What a result observed per image, and what it had to skip and why. */
export interface PrometheusObservations {
  readonly data: QueryData;
  readonly series: number;
  readonly skipped: {
    readonly withoutImage: number;
    readonly nonFinite: number;
    readonly unparsable: number;
  };
  /** The first unparsable label and why, so the message can show an example. */
  readonly unparsableExample?: string;
}

const NUMBER_RE = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** A sample value as a finite number, or undefined for NaN, ±Inf and anything unreadable. */
export function sampleValue(text: string): number | undefined {
  if (!NUMBER_RE.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Each series' finite samples under its image's normalised reference; series naming the same
 * image pool their samples. NaN and ±Inf samples are ignored; a series with no finite sample, no
 * `image` label or an unparsable one is skipped.
 */
export function observeSeries(series: readonly Series[]): PrometheusObservations {
  const builder = new ObservationsBuilder();
  let withoutImage = 0;
  let nonFinite = 0;
  let unparsable = 0;
  let unparsableExample: string | undefined;
  for (const one of series) {
    const label = one.labels.image;
    // Prometheus treats an empty label as an absent one.
    if (!label) {
      withoutImage++;
      continue;
    }
    const samples: Sample[] = [];
    one.values.forEach((text, i) => {
      const value = sampleValue(text);
      if (value !== undefined) samples.push({ at: one.times[i] ?? 0, value });
    });
    if (samples.length === 0) {
      nonFinite++;
      continue;
    }
    const normalised = normaliseImageLabel(label);
    if (!normalised.ok) {
      unparsable++;
      unparsableExample ??= normalised.why;
      continue;
    }
    builder.samples(normalised.ref, samples);
  }
  return {
    data: builder.build(),
    series: series.length,
    skipped: { withoutImage, nonFinite, unparsable },
    ...(unparsableExample !== undefined ? { unparsableExample } : {}),
  };
}

/** A query whose series all lack the image label is a mistake in the query, not an empty result. */
export function missingImageLabel(observed: PrometheusObservations): SourceFailure | undefined {
  if (observed.series === 0 || observed.skipped.withoutImage < observed.series) return undefined;
  return failure(
    'InvalidQuery',
    `the query returned ${observed.series} series and none has an image label: aggregate by image, e.g. count(...) by (image)`,
  );
}

/** The numbers behind a Prometheus query's result, in words. */
export function describeSeries(observed: PrometheusObservations): string {
  const { withoutImage, nonFinite, unparsable } = observed.skipped;
  const skipped = [
    withoutImage ? `${withoutImage} without an image label` : '',
    nonFinite ? `${nonFinite} with only NaN/Inf values` : '',
    unparsable ? `${unparsable} with an unparsable image (${observed.unparsableExample})` : '',
  ].filter(Boolean);
  const base = `${observed.data.size} images from ${observed.series} series`;
  return skipped.length ? `${base}; skipped ${skipped.join(', ')}` : base;
}
