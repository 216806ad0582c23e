// Each function's Hono app fed the exact CloudEvents Knative's adapters send (test/fixtures):
// what it answers without reaching the API, and that an unreachable API server is a 503 the
// adapter retries — never a 500, which it would drop. The API server here is a closed port on
// loopback, not an imitation: nothing answers.

import type { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createDiscoverApp } from '../../functions/discover/index.ts';
import { createPaceApp, createPacer } from '../../functions/pace/index.ts';
import { createReconcileImageApp } from '../../functions/reconcile-image/index.ts';
import { createReconcileSetApp } from '../../functions/reconcile-set/index.ts';
import { answerBody, knativeEvent, knativePing, post } from '../fixtures/knative-events.ts';
import { unreachableKube } from '../fixtures/unreachable-kube.ts';

process.env.DROP_LOG_LEVEL = 'silent';

const kube = unreachableKube('contract-test');
const namespace = 'drop-system';
const apps: Record<string, Hono> = {
  'reconcile-image': createReconcileImageApp({ kube, namespace }),
  'reconcile-set': createReconcileSetApp({ kube }),
  pace: createPaceApp(createPacer({ kube, namespace }), { kube, namespace }),
  discover: createDiscoverApp({ kube, namespace }),
};

const cachedImage = {
  apiVersion: 'drop.corewire.io/v1alpha1',
  kind: 'CachedImage',
  metadata: { name: 'nginx', generation: 2 },
  spec: { image: 'docker.io/library/nginx', tag: '1.25-alpine' },
  status: { observedGeneration: 1 },
};

function pullPod(state: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'pull-nginx-1234567890',
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'drop', 'drop.corewire.io/policy': 'default' },
      annotations: { 'drop.corewire.io/cachedimage': 'nginx' },
      ...extra,
    },
    spec: { nodeName: 'n1', containers: [{ name: 'pull', image: 'nginx' }] },
    status: { phase: 'Pending', containerStatuses: [{ name: 'pull', state }] },
  };
}

describe.each(Object.entries(apps))('%s', (_name, app) => {
  it('answers a request that is not a CloudEvent with 400 and a JSON error', async () => {
    const res = await app.request('/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: expect.stringContaining('not a CloudEvent: no ce-specversion'),
    });
  });

  it('answers an event of an unknown type with 400', async () => {
    const ping = knativePing();
    const res = await app.request(
      '/',
      post({ ...ping, headers: { ...ping.headers, 'ce-type': 'com.example.other' } }),
    );
    expect(res.status).toBe(400);
  });

  it('answers a resync ping with 503 while the API server is unreachable, so it is retried', async () => {
    const res = await app.request('/', post(knativePing()));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: expect.stringMatching(/Kubernetes API|internal error/) });
  });

  it('serves /healthz and /metrics without the API server', async () => {
    expect((await app.request('/healthz')).status).toBe(200);
    expect(await (await app.request('/metrics')).text()).toContain('drop_events_total');
  });
});

describe('events a function has nothing to do for are answered at once, without the API', () => {
  const cases: [string, string, ReturnType<typeof knativeEvent>][] = [
    [
      'reconcile-image',
      'a pull pod being deleted',
      knativeEvent(
        'update',
        pullPod({ waiting: { reason: 'ContainerCreating' } }, { deletionTimestamp: '2026-01-01T00:00:00Z' }),
        { plural: 'pods' },
      ),
    ],
    [
      'reconcile-image',
      'a recorded pod deleted',
      knativeEvent('delete', pullPod({ terminated: { exitCode: 0 } }), { plural: 'pods' }),
    ],
    [
      'reconcile-image',
      'its own status write',
      knativeEvent(
        'update',
        { ...cachedImage, status: { observedGeneration: 2 } },
        { plural: 'cachedimages' },
      ),
    ],
    // Its source sends none (config/pace/sources.yaml); any image change wakes its policy.
    ['pace', 'a pull pod', knativeEvent('update', pullPod({}), { plural: 'pods' })],
    [
      'reconcile-set',
      "a PullPolicy's settings",
      knativeEvent(
        'update',
        { apiVersion: 'drop.corewire.io/v1alpha1', kind: 'PullPolicy', metadata: { name: 'p' } },
        { plural: 'pullpolicies' },
      ),
    ],
    [
      'reconcile-set',
      'a CachedImage that no set controls',
      knativeEvent('update', cachedImage, { plural: 'cachedimages' }),
    ],
  ];
  it.each(cases)('%s: %s', async (fn, _what, event) => {
    const res = await apps[fn]!.request('/', post(event));
    expect(res.status).toBe(200);
    expect(await answerBody(res)).toMatchObject({ result: 'ignored' });
  });
});

describe('an event that needs the API while it is unreachable', () => {
  it('is answered 503 (retried by the adapter), not 500 (dropped)', async () => {
    const added = knativeEvent('add', cachedImage, { plural: 'cachedimages' });
    const res = await apps['reconcile-image']!.request('/', post(added));
    expect(res.status).toBe(503);
  });
});
