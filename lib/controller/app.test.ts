import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { answerBody, knativeEvent, knativePing, post } from '../../test/fixtures/knative-events.ts';
import { unreachableKube } from '../../test/fixtures/unreachable-kube.ts';
import { KubeError } from '../kube/errors.ts';
import { eventApp } from './app.ts';
import { MAX_EVENT_BYTES } from './envelope.ts';
import type { DropEvent, ObjectEvent } from './event.ts';
import type { Outcome } from './outcome.ts';

process.env.DROP_LOG_LEVEL = 'silent';

const cachedImage = {
  apiVersion: 'drop.corewire.io/v1alpha1',
  kind: 'CachedImage',
  metadata: { name: 'nginx', uid: 'u1', resourceVersion: '7', generation: 1 },
  spec: { image: 'docker.io/library/nginx', tag: '1.25-alpine' },
};

const kube = unreachableKube();

/** An app whose watches wake the named object and record the event; every key gets `outcome`. */
function appRecording(outcome: Outcome | (() => Promise<Outcome>)) {
  const seen: DropEvent[] = [];
  const reconciled: string[] = [];
  const answer = () => (typeof outcome === 'function' ? outcome() : Promise.resolve(outcome));
  const watch = (event: ObjectEvent) => {
    seen.push(event);
    return [event.ref.name];
  };
  const app = eventApp({
    name: 'test',
    kube,
    watches: { CachedImage: watch, Pod: watch },
    reconcile: (name) => {
      reconciled.push(name);
      return answer();
    },
    resync: (_ctx, ping) => {
      seen.push(ping);
      return answer();
    },
  });
  return { app, seen, reconciled };
}

describe('eventApp', () => {
  it('parses a Resource-mode add into the object and its ref', async () => {
    const { app, seen } = appRecording({ result: 'done' });
    const res = await app.request('/', post(knativeEvent('add', cachedImage, { plural: 'cachedimages' })));
    expect(res.status).toBe(200);
    expect(seen[0]).toMatchObject({
      type: 'object',
      action: 'add',
      mode: 'resource',
      ref: { apiVersion: 'drop.corewire.io/v1alpha1', kind: 'CachedImage', name: 'nginx', namespace: '' },
      object: { spec: { tag: '1.25-alpine' } },
    });
  });

  it('parses a Reference-mode delete of a namespaced pod', async () => {
    const { app, seen } = appRecording({ result: 'done' });
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pull-x', namespace: 'drop-system' } };
    const res = await app.request(
      '/',
      post(knativeEvent('delete', pod, { plural: 'pods', mode: 'Reference' })),
    );
    expect(res.status).toBe(200);
    expect(seen[0]).toMatchObject({
      action: 'delete',
      mode: 'reference',
      ref: { kind: 'Pod', name: 'pull-x', namespace: 'drop-system' },
    });
    expect(seen[0]).not.toHaveProperty('object');
  });

  it('reads the reference from the extension headers when a Reference-mode event carries no data', async () => {
    const { app, seen } = appRecording({ result: 'done' });
    const res = await app.request('/', {
      method: 'POST',
      headers: {
        'ce-specversion': '1.0',
        'ce-id': 'ref-1',
        'ce-source': 'https://10.96.0.1:443',
        'ce-type': 'dev.knative.apiserver.ref.update',
        'ce-time': '2026-12-03T17:00:00.123Z',
        'ce-apiversion': 'v1',
        'ce-kind': 'Pod',
        'ce-name': 'pull-y',
        'ce-namespace': 'drop-system',
      },
    });
    expect(res.status).toBe(200);
    expect(seen[0]).toEqual({
      id: 'ref-1',
      source: 'https://10.96.0.1:443',
      time: '2026-12-03T17:00:00.123Z',
      type: 'object',
      action: 'update',
      mode: 'reference',
      ref: { apiVersion: 'v1', kind: 'Pod', name: 'pull-y', namespace: 'drop-system' },
    });
  });

  it('parses a PingSource tick', async () => {
    const { app, seen } = appRecording({ result: 'done' });
    expect((await app.request('/', post(knativePing()))).status).toBe(200);
    expect(seen[0]).toMatchObject({ type: 'ping', data: { resync: true } });
  });

  it('accepts structured mode', async () => {
    const { app, seen } = appRecording({ result: 'done' });
    const body = JSON.stringify({
      specversion: '1.0',
      id: 'abc',
      source: 'https://10.96.0.1:443',
      type: 'dev.knative.apiserver.resource.update',
      datacontenttype: 'application/json',
      data: cachedImage,
    });
    const res = await app.request('/', {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body,
    });
    expect(res.status).toBe(200);
    expect(seen[0]).toMatchObject({ action: 'update', ref: { name: 'nginx' } });
  });

  const binary = {
    'ce-id': '1',
    'ce-source': '/apis/v1/namespaces/drop-system/pingsources/drop-resync',
    'ce-type': 'dev.knative.sources.ping',
    'ce-specversion': '1.0',
    'content-type': 'application/json',
  };
  const without = (name: keyof typeof binary) => {
    const { [name]: _, ...rest } = binary;
    return rest;
  };
  it.each([
    [
      'no CloudEvent headers',
      { 'content-type': 'application/json' },
      '{}',
      /^not a CloudEvent: no ce-specversion/,
    ],
    ['no ce-specversion', without('ce-specversion'), '{}', /^the CloudEvent has no ce-specversion header/],
    ['no ce-id', without('ce-id'), '{}', /^the CloudEvent has no ce-id header/],
    ['no ce-source', without('ce-source'), '{}', /^the CloudEvent has no ce-source header/],
    ['no ce-type', without('ce-type'), '{}', /^the CloudEvent has no ce-type header/],
    ['specversion 0.3', { ...binary, 'ce-specversion': '0.3' }, '{}', /specversion "0.3" is not supported/],
    [
      'a time that is no timestamp',
      { ...binary, 'ce-time': 'yesterday' },
      '{}',
      /"yesterday" is not an RFC 3339/,
    ],
    ['data that is not JSON', binary, '{"resync": tru', /^the event's data is not valid JSON/],
    [
      'an unknown type',
      { ...binary, 'ce-type': 'com.example.other' },
      '{}',
      /^unsupported event type "com.example.other": Drop reads/,
    ],
    [
      'a resource event whose data is no object',
      { ...binary, 'ce-type': 'dev.knative.apiserver.resource.add' },
      '"x"',
      /data is not a Kubernetes object/,
    ],
    [
      'a resource event whose object has no name',
      { ...binary, 'ce-type': 'dev.knative.apiserver.resource.add' },
      '{"apiVersion":"v1","kind":"Pod","metadata":{}}',
      /data is not a Kubernetes object: metadata.name: /,
    ],
    ['a batch', { 'content-type': 'application/cloudevents-batch+json' }, '[]', /^batched CloudEvents/],
    [
      'structured mode that is not JSON',
      { 'content-type': 'application/cloudevents+json' },
      '{"specversion":',
      /^the body \(application\/cloudevents\+json\) is not valid JSON/,
    ],
    [
      'structured mode without a type',
      { 'content-type': 'application/cloudevents+json' },
      '{"specversion":"1.0","id":"1","source":"/s"}',
      /^the CloudEvent has no "type" attribute \(structured mode/,
    ],
  ])(
    'answers 400 with a message in words for %s, without calling the handler',
    async (_name, headers, body, message) => {
      const { app, seen } = appRecording({ result: 'done' });
      const res = await app.request('/', { method: 'POST', headers, body });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
      expect(seen).toEqual([]);
    },
  );

  it('answers 415 for data of a content type that is not JSON', async () => {
    const { app, seen } = appRecording({ result: 'done' });
    const res = await app.request('/', {
      method: 'POST',
      headers: { ...binary, 'content-type': 'text/plain' },
      body: 'resync',
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: string }).error).toMatch(
      /content type "text\/plain" is not supported/,
    );
    expect(seen).toEqual([]);
  });

  it('answers 413 for a body over the limit, without reading it whole', async () => {
    const { app, seen } = appRecording({ result: 'done' });
    const huge = `{"pad":"${'x'.repeat(MAX_EVENT_BYTES)}"}`;
    const res = await app.request('/', { method: 'POST', headers: binary, body: huge });
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
    expect(((await res.json()) as { error: string }).error).toMatch(/larger than 2097152 bytes/);
    expect(seen).toEqual([]);
  });

  it('over a socket, refuses a declared length over the limit before reading the body', async () => {
    const { app, seen } = appRecording({ result: 'done' });
    await withServer(app, async (port) => {
      const answer = await new Promise<{ status: number; connection: string; body: string }>(
        (resolve, reject) => {
          const req = request(
            {
              port,
              host: '127.0.0.1',
              method: 'POST',
              headers: { ...binary, 'content-length': String(MAX_EVENT_BYTES + 1) },
            },
            (res) => {
              let body = '';
              res.on('data', (chunk) => {
                body += chunk;
              });
              res.on('end', () =>
                resolve({ status: res.statusCode ?? 0, connection: res.headers.connection ?? '', body }),
              );
            },
          );
          req.on('error', reject);
          // A first piece only: the answer must not wait for the rest.
          req.write('{"pad":"');
        },
      );
      expect(answer.status).toBe(413);
      expect(answer.connection).toBe('close');
      expect(answer.body).toMatch(/larger than 2097152 bytes/);
    });
    expect(seen).toEqual([]);
  });

  it('over a socket, reads an event of a declared length', async () => {
    const { app, seen } = appRecording({ result: 'done' });
    const event = post(knativeEvent('update', cachedImage, { plural: 'cachedimages' }));
    await withServer(app, async (port) => {
      const res = await fetch(`http://127.0.0.1:${port}/`, event);
      expect(res.status).toBe(200);
      // No body, so a sender that closes the answer unread (Go's) can send its next event down the
      // same connection.
      expect(res.headers.get('content-length')).toBe('0');
      expect(res.headers.get('connection')).toBe('keep-alive');
      expect(await res.text()).toBe('');
    });
    expect(seen).toMatchObject([{ action: 'update', object: { spec: { tag: '1.25-alpine' } } }]);
  });

  it("over a socket, reads the attributes from headers named as Go's client names them", async () => {
    const { app, seen } = appRecording({ result: 'done' });
    const event = knativeEvent('update', cachedImage, { plural: 'cachedimages' });
    const sent = event.headers as Record<string, string>;
    // Go's net/http writes Ce-Id, Ce-Source, Content-Type: canonical case, never lower case.
    const canonical = Object.fromEntries(
      Object.entries(sent).map(([name, value]) => [
        name.replace(/(^|-)([a-z])/g, (m) => m.toUpperCase()),
        value,
      ]),
    );
    expect(Object.keys(canonical)).toContain('Ce-Id');
    await withServer(app, async (port) => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ port, host: '127.0.0.1', method: 'POST', headers: canonical }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(event.body);
      });
      expect(status).toBe(200);
    });
    expect(seen).toMatchObject([
      {
        id: sent['ce-id'],
        source: sent['ce-source'],
        action: 'update',
        ref: { name: cachedImage.metadata.name },
      },
    ]);
  });

  it("carries a handled event's result and detail in headers, any character readable back", async () => {
    const detail = `50% of ${'nodé → ✓ '.repeat(80)}`;
    const { app } = appRecording({ result: 'done', detail });
    const res = await app.request('/', post(knativeEvent('update', cachedImage, { plural: 'cachedimages' })));
    expect(res.headers.get('drop-result')).toBe('done');
    expect(res.headers.get('drop-detail')).toMatch(/^50%25 of nod%C3%A9 %E2%86%92 /);
    const read = await answerBody(res);
    expect(read.result).toBe('done');
    expect(read.detail).toBe(`${detail.slice(0, 509)}...`);
  });

  it('accepts an event just under the limit', async () => {
    const { app, seen } = appRecording({ result: 'done' });
    const body = JSON.stringify({ resync: true, pad: 'x'.repeat(MAX_EVENT_BYTES - 100) });
    expect((await app.request('/', { method: 'POST', headers: binary, body })).status).toBe(200);
    expect(seen).toHaveLength(1);
  });

  it('answers 429 with Retry-After when the handler says busy', async () => {
    const { app } = appRecording({
      result: 'retry',
      status: 429,
      retryAfterSeconds: 3,
      detail: 'lease held',
    });
    const res = await app.request('/', post(knativePing()));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
  });

  it('maps a Kubernetes conflict to 503 so the sender retries', async () => {
    const { app } = appRecording(async () => {
      throw new KubeError('conflict', 409, 'the object has been modified');
    });
    expect((await app.request('/', post(knativePing()))).status).toBe(503);
  });

  it('answers 503 for a bug in a handler and keeps serving', async () => {
    let calls = 0;
    const app = eventApp({
      name: 'test',
      kube,
      watches: {},
      reconcile: async () => ({ result: 'done' }),
      resync: async () => {
        calls++;
        if (calls === 1) throw new TypeError('boom');
        return { result: 'done' };
      },
    });
    expect((await app.request('/', post(knativePing()))).status).toBe(503);
    expect((await app.request('/', post(knativePing()))).status).toBe(200);
  });

  it('serves /healthz and /metrics with event counts', async () => {
    const { app } = appRecording({ result: 'ignored', detail: 'nothing to do' });
    await app.request('/', post(knativePing()));
    expect((await app.request('/healthz')).status).toBe(200);
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toMatch(/drop_events_total\{function="test",result="ignored"\} \d+/);
  });

  it('is not ready while the API server cannot be reached, and says so', async () => {
    const { app } = appRecording({ result: 'done' });
    const res = await app.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      status: 'not ready',
      reason: expect.stringMatching(/^the API server cannot be reached/),
    });
    // Alive all the same: a restart would not help.
    expect((await app.request('/healthz')).status).toBe(200);
  });

  it('answers an event of a kind no watch names as not handled, reconciling nothing', async () => {
    const { app, reconciled } = appRecording({ result: 'done' });
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } };
    const res = await app.request('/', post(knativeEvent('update', node, { plural: 'nodes' })));
    expect(res.status).toBe(200);
    expect(await answerBody(res)).toMatchObject({
      result: 'ignored',
      detail: 'kind Node is not handled by test',
    });
    expect(reconciled).toEqual([]);
  });

  it("answers a skipped event with the watch's reason, reconciling nothing", async () => {
    const reconciled: string[] = [];
    const app = eventApp({
      name: 'test',
      kube,
      watches: { CachedImage: () => ({ skip: 'status update of a settled spec' }) },
      reconcile: async (name) => {
        reconciled.push(name);
        return { result: 'done' };
      },
      resync: async () => ({ result: 'done' }),
    });
    const res = await app.request('/', post(knativeEvent('update', cachedImage, { plural: 'cachedimages' })));
    expect(await answerBody(res)).toMatchObject({
      result: 'ignored',
      detail: 'status update of a settled spec',
    });
    expect(reconciled).toEqual([]);
  });

  it('reconciles every key an event wakes and answers the first that asks for a retry', async () => {
    const reconciled: string[] = [];
    const app = eventApp({
      name: 'test',
      kube,
      watches: { Node: () => ['a', 'b', 'c'] },
      reconcile: async (name) => {
        reconciled.push(name);
        return name === 'b'
          ? { result: 'retry', status: 429, retryAfterSeconds: 2, detail: 'b busy' }
          : { result: 'done' };
      },
      resync: async () => ({ result: 'done' }),
    });
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } };
    const res = await app.request('/', post(knativeEvent('update', node, { plural: 'nodes' })));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(reconciled).toEqual(['a', 'b', 'c']);
  });
});

/** Serves the app as the functions do (@hono/node-server) on a loopback port for the length of `use`. */
async function withServer(app: Hono, use: (port: number) => Promise<void>): Promise<void> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
  });
  try {
    await use((server.address() as AddressInfo).port);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}
