// The CloudEvent rows of docs/bad-input.md, posted to every function: each is refused with its
// status and a message in words, before anything reaches the API server.
import type { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createDiscoverApp } from '../../functions/discover/index.ts';
import { createPaceApp, createPacer } from '../../functions/pace/index.ts';
import { createReconcileImageApp } from '../../functions/reconcile-image/index.ts';
import { createReconcileSetApp } from '../../functions/reconcile-set/index.ts';
import { EVENT_CASES } from '../bad-input/event-cases.ts';
import { unreachableKube } from '../fixtures/unreachable-kube.ts';

process.env.DROP_LOG_LEVEL = 'silent';

const kube = unreachableKube();
const namespace = 'drop-system';
const apps: Record<string, Hono> = {
  'reconcile-image': createReconcileImageApp({ kube, namespace }),
  'reconcile-set': createReconcileSetApp({ kube }),
  pace: createPaceApp(createPacer({ kube, namespace }), { kube, namespace }),
  discover: createDiscoverApp({ kube, namespace }),
};

describe.each(Object.entries(apps))('%s refuses', (_fn, app) => {
  it.each(EVENT_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const res = await app.request('/', { method: 'POST', headers: c.headers, body: c.body });
    expect(res.status).toBe(c.status);
    const answer = (await res.json()) as { error: string };
    expect(answer.error).toMatch(c.message);
    expect(answer.error).not.toMatch(/\[\]$/);
  });
});
