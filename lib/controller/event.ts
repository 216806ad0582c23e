import { type CloudEvent, HTTP } from 'cloudevents';
import { z } from 'zod';
import type { KubeObject } from '../kube/client.ts';
import type { WatchAction } from '../kube/watch.ts';
import { checkEnvelope, describeSdkError } from './envelope.ts';

/** Which object an event is about; namespace is '' for cluster-scoped objects, as Knative sends it. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
}

interface EventEnvelope {
  readonly id: string;
  readonly source: string;
  readonly time?: string;
}

export type { WatchAction };

/** An ApiServerSource event: Resource mode carries the object, Reference mode only the ref. */
export interface ObjectEvent extends EventEnvelope {
  readonly type: 'object';
  readonly action: WatchAction;
  readonly mode: 'resource' | 'reference';
  readonly ref: ObjectRef;
  readonly object?: KubeObject;
}

/** A PingSource tick. */
export interface PingEvent extends EventEnvelope {
  readonly type: 'ping';
  readonly data: unknown;
}

/** What a function is woken by (docs/design.md §Events). */
export type DropEvent = ObjectEvent | PingEvent;

export type Parsed = { readonly ok: true; readonly event: DropEvent } | Rejected;

type Rejected = { readonly ok: false; readonly message: string; readonly status: 400 | 413 | 415 };

const RESOURCE = /^dev\.knative\.apiserver\.resource\.(add|update|delete)$/;
const REFERENCE = /^dev\.knative\.apiserver\.ref\.(add|update|delete)$/;
const PING = 'dev.knative.sources.ping';

const objectSchema = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().optional() }),
});

const refSchema = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  name: z.string().min(1),
  namespace: z.string().optional(),
});

/** The attributes and data of a CloudEvent, however it arrived. */
interface Received {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly time?: string;
  readonly data: unknown;
  /** An extension attribute (ApiServerSource's Reference mode: apiversion, kind, name, namespace). */
  extension(name: string): unknown;
}

/** Turns an HTTP request into a typed event, or a message saying exactly what is wrong with it. */
export function parseEvent(headers: Readonly<Record<string, string>>, body: string): Parsed {
  const envelope = checkEnvelope(headers, body);
  if (!envelope.ok) return envelope;
  const received = envelope.mode === 'structured' ? viaSdk(headers, body) : binary(headers, envelope.data);
  return 'message' in received ? received : typed(received);
}

/**
 * Binary mode, as ApiServerSource and PingSource send every event: the ce-* headers and the JSON
 * data checkEnvelope has checked and parsed. Read directly, because the SDK's reader costs ten
 * times the rest of the parse (bench/README.md §Scale).
 */
function binary(headers: Readonly<Record<string, string>>, data: unknown): Received {
  const time = headers['ce-time'];
  return {
    id: headers['ce-id']!,
    source: headers['ce-source']!,
    type: headers['ce-type']!,
    ...(time ? { time } : {}),
    data,
    extension: (name) => headers[`ce-${name}`],
  };
}

/** Structured mode (application/cloudevents+json), through the SDK. */
function viaSdk(headers: Readonly<Record<string, string>>, body: string): Received | Rejected {
  let event: CloudEvent<unknown>;
  try {
    const parsed = HTTP.toEvent<unknown>({ headers, body });
    if (Array.isArray(parsed)) return invalid('batched CloudEvents are not supported');
    // The deserializer builds a CloudEvent without validating it (cloudevents/sdk-javascript#597):
    // a missing type would pass, so validate explicitly.
    event = parsed as CloudEvent<unknown>;
    event.validate();
  } catch (error) {
    return invalid(`not a valid CloudEvent: ${describeSdkError(error)}`);
  }
  return {
    id: event.id,
    source: event.source,
    type: event.type,
    ...(event.time ? { time: event.time } : {}),
    data: dataOf(event.data),
    extension: (name) => event[name],
  };
}

/** The event Drop reads, from its type: an object change (Resource or Reference mode) or a ping. */
function typed(event: Received): Parsed {
  const envelope = { id: event.id, source: event.source, ...(event.time ? { time: event.time } : {}) };
  const data = event.data;
  if (event.type === PING) return { ok: true, event: { ...envelope, type: 'ping', data } };

  const resource = RESOURCE.exec(event.type);
  if (resource) {
    let o: z.infer<typeof objectSchema>;
    if (isKubeObject(data)) o = data;
    else {
      const object = objectSchema.safeParse(data);
      if (!object.success)
        return invalid(`${event.type} data is not a Kubernetes object: ${issue(object.error)}`);
      o = object.data;
    }
    const ref: ObjectRef = {
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.metadata.name,
      namespace: o.metadata.namespace ?? '',
    };
    const action = resource[1] as WatchAction;
    return {
      ok: true,
      event: {
        ...envelope,
        type: 'object',
        action,
        mode: 'resource',
        ref,
        object: o as unknown as KubeObject,
      },
    };
  }

  const reference = REFERENCE.exec(event.type);
  if (reference) {
    const ref = refSchema.safeParse(data ?? refFromExtensions(event));
    if (!ref.success) return invalid(`${event.type} data is not an object reference: ${issue(ref.error)}`);
    const r = ref.data;
    const action = reference[1] as WatchAction;
    return {
      ok: true,
      event: {
        ...envelope,
        type: 'object',
        action,
        mode: 'reference',
        ref: { apiVersion: r.apiVersion, kind: r.kind, name: r.name, namespace: r.namespace ?? '' },
      },
    };
  }
  return invalid(
    `unsupported event type ${JSON.stringify(event.type)}: Drop reads dev.knative.apiserver.resource.*, dev.knative.apiserver.ref.* and dev.knative.sources.ping`,
  );
}

/**
 * What objectSchema accepts, checked by hand: nearly every event is well formed, and the schema's
 * parse copies the object to check it (at 1,000 nodes, a pull pod's every change). The schema says
 * what is wrong with the rest.
 */
function isKubeObject(data: unknown): data is z.infer<typeof objectSchema> {
  if (!isRecord(data) || !isRecord(data.metadata)) return false;
  const { name, namespace } = data.metadata;
  return (
    isName(data.apiVersion) &&
    isName(data.kind) &&
    isName(name) &&
    (namespace === undefined || typeof namespace === 'string')
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function invalid(message: string): Rejected {
  return { ok: false, message, status: 400 };
}

/** The first zod issue with where it is: "metadata.name: Invalid input: expected string, received undefined". */
function issue(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return 'it does not match';
  return first.path.length > 0 ? `${first.path.join('.')}: ${first.message}` : first.message;
}

// The SDK parses JSON only for exact content types (src/parsers.ts); anything else arrives as a string.
function dataOf(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

function refFromExtensions(event: Received): unknown {
  const [apiVersion, kind, name, namespace] = ['apiversion', 'kind', 'name', 'namespace'].map(
    event.extension,
  );
  return { apiVersion, kind, name, namespace };
}
