// The bad-input table, part 3: CloudEvents a function refuses, with the HTTP status and the
// message of its JSON answer. test/unit/bad-input-events.test.ts posts each to every function.
import { MAX_EVENT_BYTES } from '../../lib/controller/envelope.ts';

export interface EventCase {
  /** The row's name in docs/bad-input.md. */
  readonly name: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly status: 400 | 413 | 415;
  readonly message: RegExp;
}

const binary = {
  'ce-specversion': '1.0',
  'ce-id': 'e1',
  'ce-source': '/apis/v1/namespaces/drop-system/pingsources/drop-resync',
  'ce-type': 'dev.knative.sources.ping',
  'content-type': 'application/json',
} as const;
const without = (name: keyof typeof binary): Record<string, string> =>
  Object.fromEntries(Object.entries(binary).filter(([key]) => key !== name));
const structured = { 'content-type': 'application/cloudevents+json' };
const envelope = { specversion: '1.0', id: 'e1', source: '/s', type: 'dev.knative.sources.ping' };
const leaveOut = (name: keyof typeof envelope) =>
  JSON.stringify(Object.fromEntries(Object.entries(envelope).filter(([key]) => key !== name)));
const resource = { ...binary, 'ce-type': 'dev.knative.apiserver.resource.update' };

export const EVENT_CASES: readonly EventCase[] = [
  ...(['ce-specversion', 'ce-id', 'ce-source', 'ce-type'] as const).map(
    (header): EventCase => ({
      name: `binary event without ${header}`,
      headers: without(header),
      body: '{}',
      status: 400,
      message: new RegExp(`^the CloudEvent has no ${header} header`),
    }),
  ),
  ...(['specversion', 'id', 'source', 'type'] as const).map(
    (attribute): EventCase => ({
      name: `structured event without ${attribute}`,
      headers: structured,
      body: leaveOut(attribute),
      status: 400,
      message: new RegExp(`^the CloudEvent has no "${attribute}" attribute \\(structured mode`),
    }),
  ),
  {
    name: 'a plain JSON POST, no CloudEvent at all',
    headers: { 'content-type': 'application/json' },
    body: '{"resync": true}',
    status: 400,
    message: /^not a CloudEvent: no ce-specversion, ce-id, ce-source or ce-type header/,
  },
  {
    name: 'specversion 0.3',
    headers: { ...binary, 'ce-specversion': '0.3' },
    body: '{}',
    status: 400,
    message: /CloudEvents specversion "0.3" is not supported: only "1.0" is/,
  },
  {
    name: 'a time that is no timestamp',
    headers: { ...binary, 'ce-time': 'yesterday' },
    body: '{}',
    status: 400,
    message: /the ce-time header "yesterday" is not an RFC 3339 timestamp/,
  },
  {
    name: 'data that is not JSON',
    headers: binary,
    body: '{"resync": tru',
    status: 400,
    message: /^the event's data is not valid JSON/,
  },
  {
    name: 'a structured body that is not JSON',
    headers: structured,
    body: '{"specversion":',
    status: 400,
    message: /^the body \(application\/cloudevents\+json\) is not valid JSON/,
  },
  {
    name: 'data of content type text/plain',
    headers: { ...binary, 'content-type': 'text/plain' },
    body: 'resync please',
    status: 415,
    message: /content type "text\/plain" is not supported/,
  },
  {
    name: 'a body over 2 MiB',
    headers: binary,
    body: `{"pad":"${'x'.repeat(MAX_EVENT_BYTES)}"}`,
    status: 413,
    message: /the event is larger than 2097152 bytes/,
  },
  {
    name: 'a batch of events',
    headers: { 'content-type': 'application/cloudevents-batch+json' },
    body: `[${JSON.stringify(envelope)}]`,
    status: 400,
    message: /^batched CloudEvents are not supported: send one event per request/,
  },
  {
    name: 'an event type Drop does not read',
    headers: { ...binary, 'ce-type': 'com.example.deploy' },
    body: '{}',
    status: 400,
    message: /^unsupported event type "com.example.deploy": Drop reads/,
  },
  {
    name: 'a resource event whose object has no name',
    headers: resource,
    body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: {} }),
    status: 400,
    message: /data is not a Kubernetes object: metadata.name: /,
  },
  {
    name: 'a resource event whose data is not an object',
    headers: resource,
    body: '"a string"',
    status: 400,
    message: /data is not a Kubernetes object/,
  },
];
