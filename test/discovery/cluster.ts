// What the discovery integration tests do on the cluster: Secrets and DiscoveryPolicies with
// unique names, and the discover function driven by the CloudEvents Knative would send it.
import type { Hono } from 'hono';
import { createDiscoverApp, type DiscoverOptions } from '../../functions/discover/index.ts';
import { SyncSlots } from '../../functions/discover/slots.ts';
import type { DiscoveryPolicy } from '../../lib/api/index.ts';
import { apiServerEvent, pingEvent } from '../../lib/controller/source-events.ts';
import { type Kube, type KubeObject, paths } from '../../lib/kube/index.ts';
import { answerBody } from '../fixtures/knative-events.ts';

export const NAMESPACE = 'drop-system';

const slotsOf = new WeakMap<Hono, SyncSlots>();

/** The discover function as a Hono app, with the options a test needs (a fixed clock, short timeouts). */
export function discoverApp(kube: Kube, options: Partial<DiscoverOptions> = {}): Hono {
  const slots = options.slots ?? new SyncSlots();
  const app = createDiscoverApp({ kube, namespace: NAMESPACE, ...options, slots });
  slotsOf.set(app, slots);
  return app;
}

/** Resolves when every sync the app started in the background has ended. */
export function syncsEnded(app: Hono): Promise<void> {
  return slotsOf.get(app)?.idle() ?? Promise.resolve();
}

/** A PingSource tick; resolves with the function's JSON answer. */
export async function ping(
  app: Hono,
): Promise<{ status: number; body: { detail?: string; error?: string } }> {
  const event = pingEvent(NAMESPACE, 'drop-resync', { resync: true });
  const response = await app.request('/', { method: 'POST', headers: event.headers, body: event.body });
  return { status: response.status, body: await answerBody(response) };
}

/**
 * The event the ApiServerSource adapter sends when a policy changes (Reference mode); resolves
 * with the answer, once the sync it started (if any) has ended, and that sync's own detail.
 */
export async function policyChanged(app: Hono, name: string, action: 'add' | 'update' | 'delete' = 'update') {
  const object = { apiVersion: 'drop.corewire.io/v1alpha1', kind: 'DiscoveryPolicy', metadata: { name } };
  const event = apiServerEvent('https://127.0.0.1', action, object, 'discoverypolicies', 'Reference');
  const response = await app.request('/', { method: 'POST', headers: event.headers, body: event.body });
  const body = await answerBody(response);
  const synced = await slotsOf.get(app)?.ended(name);
  return { status: response.status, body, ...(synced ? { synced: synced.detail } : {}) };
}

interface Secret extends KubeObject {
  readonly stringData: Readonly<Record<string, string>>;
}

/** Creates a Secret in the Drop namespace from plain strings. */
export async function createSecret(
  kube: Kube,
  name: string,
  stringData: Record<string, string>,
): Promise<void> {
  await kube.create<Secret>(paths.secrets(NAMESPACE), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: NAMESPACE },
    stringData,
  });
}

export async function createPolicy(kube: Kube, name: string, spec: Record<string, unknown>): Promise<void> {
  await kube.create(paths.discoveryPolicies(), {
    apiVersion: 'drop.corewire.io/v1alpha1',
    kind: 'DiscoveryPolicy',
    metadata: { name },
    spec,
  } as KubeObject);
}

export async function readPolicy(kube: Kube, name: string): Promise<DiscoveryPolicy> {
  const policy = await kube.get<DiscoveryPolicy>(paths.discoveryPolicy(name));
  if (!policy) throw new Error(`DiscoveryPolicy ${name} does not exist`);
  return policy;
}

/** Changes the spec (a new generation), as `kubectl edit` would. */
export async function patchPolicy(kube: Kube, name: string, spec: Record<string, unknown>): Promise<void> {
  await kube.mergePatch(paths.discoveryPolicy(name), { spec });
}

/** Deletes what a test created; missing objects are fine. */
export async function cleanUp(kube: Kube, created: { policies: string[]; secrets: string[] }): Promise<void> {
  await Promise.all([
    ...created.policies.map((name) => kube.delete(paths.discoveryPolicy(name))),
    ...created.secrets.map((name) => kube.delete(paths.secret(NAMESPACE, name))),
  ]);
}
