// What a request must carry before the CloudEvents SDK reads it. The SDK (cloudevents 10.x) fills in
// a missing specversion with 1.0, accepts any specversion and any `time`, and says "no cloud event
// detected []" for everything else it cannot read; these checks say, in words, which attribute is
// missing or wrong, so whoever sent the event can fix it.

/** The largest body accepted: etcd refuses a request over 1.5 MiB, so no Kubernetes object (and no
 * ApiServerSource event carrying one) is larger; the rest is room for the envelope. */
export const MAX_EVENT_BYTES = 2 * 1024 * 1024;

/** Why a request is not an event Drop reads, with the HTTP status that says so. */
export interface Rejection {
  readonly status: 400 | 413 | 415;
  readonly message: string;
}

const REQUIRED = ['specversion', 'id', 'source', 'type'] as const;
const STRUCTURED = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';
// RFC 3339 as CloudEvents 1.0 requires for `time`: a date, a time and an offset.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The media type without parameters, lower case; '' when absent. */
function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function isJsonType(type: string): boolean {
  return type === 'application/json' || type === 'text/json' || type.endsWith('+json');
}

/**
 * What checkEnvelope found: why the request is refused, or how to read it — structured mode through
 * the SDK, binary mode from its checked headers and the data parsed here (once: it is most of the
 * request).
 */
export type Envelope =
  | ({ readonly ok: false } & Rejection)
  | { readonly ok: true; readonly mode: 'structured' }
  | { readonly ok: true; readonly mode: 'binary'; readonly data: unknown };

/** A request's CloudEvent envelope checked. */
export function checkEnvelope(headers: Readonly<Record<string, string>>, body: string): Envelope {
  const type = mediaType(headers['content-type']);
  if (type === BATCH)
    return {
      ok: false,
      status: 400,
      message: 'batched CloudEvents are not supported: send one event per request',
    };
  if (type === STRUCTURED) {
    const rejected = checkStructured(body);
    return rejected ? { ok: false, ...rejected } : { ok: true, mode: 'structured' };
  }
  const binary = checkBinary(headers, type, body);
  return 'status' in binary ? { ok: false, ...binary } : { ok: true, mode: 'binary', data: binary.data };
}

function checkStructured(body: string): Rejection | undefined {
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch (error) {
    return {
      status: 400,
      message: `the body (${STRUCTURED}) is not valid JSON: ${(error as Error).message}`,
    };
  }
  if (!event || typeof event !== 'object' || Array.isArray(event))
    return { status: 400, message: `the body (${STRUCTURED}) must be one JSON object, one event` };
  const attributes = event as Record<string, unknown>;
  for (const name of REQUIRED) {
    const value = attributes[name];
    if (value === undefined || value === null || value === '')
      return {
        status: 400,
        message: `the CloudEvent has no "${name}" attribute (structured mode: a "${name}" field in the JSON body)`,
      };
    if (typeof value !== 'string')
      return {
        status: 400,
        message: `the CloudEvent attribute "${name}" must be a string, not ${typeof value}`,
      };
  }
  return checkValues(attributes.specversion as string, attributes.time, '"time" field');
}

function checkBinary(
  headers: Readonly<Record<string, string>>,
  type: string,
  body: string,
): Rejection | { readonly data: unknown } {
  const present = REQUIRED.filter((name) => headers[`ce-${name}`]);
  if (present.length === 0)
    return {
      status: 400,
      message:
        'not a CloudEvent: no ce-specversion, ce-id, ce-source or ce-type header (binary mode) ' +
        `and the content type is ${type ? `"${type}"` : 'not set'}, not ${STRUCTURED} (structured mode)`,
    };
  const missing = REQUIRED.filter((name) => !headers[`ce-${name}`]);
  if (missing.length > 0)
    return {
      status: 400,
      message: `the CloudEvent has no ${missing.map((name) => `ce-${name}`).join(', ')} header${missing.length > 1 ? 's' : ''} (binary mode needs ce-specversion, ce-id, ce-source and ce-type)`,
    };
  const invalid = checkValues(headers['ce-specversion']!, headers['ce-time'], 'ce-time header');
  if (invalid) return invalid;
  // An empty body has no data to read, whatever its type (fetch calls a string body text/plain).
  if (body.trim() && type && !isJsonType(type))
    return {
      status: 415,
      message: `content type "${type}" is not supported: Drop's events carry JSON data (application/json) or are ${STRUCTURED}`,
    };
  if (!body.trim()) return { data: undefined };
  try {
    return { data: JSON.parse(body) };
  } catch (error) {
    return { status: 400, message: `the event's data is not valid JSON: ${(error as Error).message}` };
  }
}

function checkValues(specversion: string, time: unknown, timeField: string): Rejection | undefined {
  if (specversion !== '1.0')
    return {
      status: 400,
      message: `CloudEvents specversion "${specversion}" is not supported: only "1.0" is`,
    };
  if (time !== undefined && (typeof time !== 'string' || !RFC3339.test(time)))
    return {
      status: 400,
      message: `the ${timeField} ${JSON.stringify(time)} is not an RFC 3339 timestamp (e.g. 2024-05-01T12:00:00Z)`,
    };
  return undefined;
}

/** An SDK validation error in words: its ajv errors ("type must be string") rather than their JSON. */
export function describeSdkError(error: unknown): string {
  const errors =
    error && typeof error === 'object' && 'errors' in error ? (error as { errors: unknown }).errors : [];
  if (Array.isArray(errors) && errors.length > 0) {
    return errors
      .map((e: { instancePath?: string; message?: string }) =>
        `${e.instancePath ? e.instancePath.replace(/^\//, '') : 'the event'} ${e.message ?? 'is invalid'}`.trim(),
      )
      .join('; ');
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] || 'it could not be read';
}
