// Least privilege, proven with real tokens: each function runs with its own ServiceAccount (RBAC from
// config/, token from the TokenRequest API) through a scenario that takes every code path that
// reaches the API. Every request it makes is recorded: none is refused, and every verb its roles
// grant is used by at least one (so none is granted for nothing). Then every verb on every resource
// it is not granted is tried for real and refused with 403 — the same for the event sources'
// ServiceAccounts, which may only get, list and watch what they watch.
//
// Like every suite, it needs the cluster to itself (each worker has its own and runs one file at a
// time): another Drop reconciling the same cluster would do part of each scenario's work, and the
// record would no longer be this function's alone.
import type { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { createDiscoverApp } from '../../functions/discover/index.ts';
import { SyncSlots } from '../../functions/discover/slots.ts';
import { createPaceApp, createPacer } from '../../functions/pace/index.ts';
import { createReconcileImageApp } from '../../functions/reconcile-image/index.ts';
import { createReconcileSetApp } from '../../functions/reconcile-set/index.ts';
import {
  type CachedImage,
  type CachedImageSet,
  type DiscoveryPolicy,
  statusWord,
} from '../../lib/api/index.ts';
import { microTime } from '../../lib/controller/lease-holder.ts';
import { apiServerEvent, type HttpEvent, pingEvent } from '../../lib/controller/source-events.ts';
import { KubeHttp } from '../../lib/kube/http.ts';
import type { WatchAction } from '../../lib/kube/index.ts';
import { createKube, type KubeObject, loadKubeConfig, type Pod, paths } from '../../lib/kube/index.ts';
import { createLogger } from '../../lib/log.ts';
import { pullOutcome, pullPodSelectorFor } from '../../lib/pull-pod.ts';
import { exportStatusMetrics } from '../../lib/status-metrics.ts';
import { readSources } from '../../standalone/config-files.ts';
import { startStandalone } from '../../standalone/standalone.ts';
import {
  apiServerSourceOf,
  CONFIG_DIR,
  EVENTS_NAMESPACE,
  FUNCTIONS,
  type FunctionName,
  functionManifests,
  grantKey,
  grantsOf,
  NAMESPACE,
  readManifests,
  selectorString,
  serviceAccountOf,
  sourceServiceAccountOf,
} from '../config/manifests.ts';
import { applyNodes, createNodes, deleteNodes, NODE_SET_LABEL } from '../controlplane/index.ts';
import { type AuditedRequest, auditedKube } from './audited-kube.ts';
import { probeUngranted } from './forbidden.ts';
import { kubeconfigPath, uniqueName, waitFor } from './harness.ts';
import {
  authorizedRules,
  functionKubeconfig,
  ruleOf,
  sourceKubeconfig,
  standaloneKubeconfig,
} from './service-accounts.ts';

process.env.DROP_LOG_LEVEL = 'silent';

const API = 'drop.corewire.io/v1alpha1';
const admin = createKube(loadKubeConfig(kubeconfigPath()), 'drop-test');

/**
 * Granted, yet no request of the function uses it. cachedimagesets/finalizers: the
 * OwnerReferencesPermissionEnforcement admission plugin checks it when a child's ownerReference
 * sets blockOwnerDeletion; this control plane does not enable that plugin (nor do most clusters).
 */
const GRANTED_FOR_ADMISSION: Partial<Record<FunctionName, readonly string[]>> = {
  'reconcile-set': ['update drop.corewire.io/cachedimagesets/finalizers @*'],
  // Withdrawing a pull that collided with another policy's on one node (functions/pace/collisions.ts,
  // unit-tested): only two holders deciding in the same moment make one, which a scenario cannot time.
  pace: ['delete core/pods @drop-system'],
};

const grantsOfFunction = (fn: FunctionName) =>
  grantsOf(functionManifests(fn, 'rbac.yaml'), serviceAccountOf(fn));

/** Every request allowed, every grant used by one (the unused ones by design excepted). */
function expectLeastPrivilege(fn: FunctionName, requests: readonly AuditedRequest[]): void {
  const grants = grantsOfFunction(fn);
  const show = (r: AuditedRequest) => `${r.method} ${r.path}: ${r.status}`;
  expect(requests.filter((r) => r.status === 401 || r.status === 403).map(show)).toEqual([]);
  // Cross-checks attributesOf against the real authorizer: what it allowed, our reading allows too.
  const outside = requests.filter(
    (r) => !grants.some((g) => g.verb === r.verb && g.group === r.group && g.resource === r.resource),
  );
  expect(outside.map(show)).toEqual([]);
  const unused = grants.filter(
    (g) =>
      !requests.some(
        (r) =>
          r.verb === g.verb &&
          r.group === g.group &&
          r.resource === g.resource &&
          (g.scope === '*' || g.scope === r.namespace),
      ),
  );
  expect(unused.map(grantKey)).toEqual(GRANTED_FOR_ADMISSION[fn] ?? []);
}

async function send(app: Hono, event: HttpEvent): Promise<{ status: number; body: string }> {
  const response = await app.request('/', { method: 'POST', headers: event.headers, body: event.body });
  return { status: response.status, body: await response.text() };
}

const SOURCE = 'https://kubernetes.default.svc';
const PLURAL: Readonly<Record<string, string>> = {
  CachedImage: 'cachedimages',
  CachedImageSet: 'cachedimagesets',
  DiscoveryPolicy: 'discoverypolicies',
  PullPolicy: 'pullpolicies',
  Pod: 'pods',
  Node: 'nodes',
};

/** What the adapter sends in Resource mode (the config's mode): the object rides along. */
function resourceEvent(action: WatchAction, object: KubeObject): HttpEvent {
  return apiServerEvent(SOURCE, action, object, PLURAL[object.kind ?? ''] ?? '', 'Resource');
}

/** Reference mode: only the name, so the function reads the object itself (its get verbs). */
function referenceEvent(action: WatchAction, object: KubeObject): HttpEvent {
  return apiServerEvent(SOURCE, action, object, PLURAL[object.kind ?? ''] ?? '', 'Reference');
}

const resync = () => pingEvent(NAMESPACE, 'drop-resync', { resync: true });

async function read<T extends KubeObject>(path: string): Promise<T> {
  const object = await admin.get<T>(path);
  if (!object) throw new Error(`${path} does not exist`);
  return object;
}

function object(kind: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: API, kind, metadata: { name }, spec } as KubeObject;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

describe('each function with its own ServiceAccount token', () => {
  it('reconcile-image and pace cache an image: nothing refused, every granted verb used', async () => {
    const name = uniqueName('rbac-image');
    const busy = `${name}-busy`;
    // One node first, two that join once the first holds the image: outcomes recorded by two
    // status writes, so the later PullSucceeded counts into the first's Event.
    const nodes = await createNodes(1, { kubeconfigPath: kubeconfigPath(), prefix: name });
    const joining = [`${name}-2`, `${name}-3`];
    cleanups.push(() => deleteNodes(kubeconfigPath(), [...nodes, ...joining]));
    cleanups.push(() => admin.delete(paths.cachedImage(name)));
    cleanups.push(() => admin.delete(paths.pullPolicy(name)));
    cleanups.push(() => admin.delete(paths.secret(NAMESPACE, name)));
    cleanups.push(() => admin.delete(paths.lease(NAMESPACE, `drop-pace-${name}`)));
    cleanups.push(() => admin.delete(paths.lease(NAMESPACE, `drop-pace-${busy}`)));
    cleanups.push(() => admin.delete(paths.pullPolicy(busy)));
    await admin.create(paths.secrets(NAMESPACE), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: NAMESPACE },
      type: 'kubernetes.io/dockerconfigjson',
      stringData: { '.dockerconfigjson': '{"auths":{}}' },
    } as KubeObject);
    await admin.create(
      paths.pullPolicies(),
      object('PullPolicy', name, { maxConcurrentNodes: 2, minDelayBetweenPulls: '1s' }),
    );
    await admin.create(
      paths.cachedImages(),
      object('CachedImage', name, {
        image: 'registry.example/rbac/app',
        tag: '1',
        policyRef: { name },
        imagePullSecrets: [{ name }],
        nodeSelector: { [NODE_SET_LABEL]: name },
      }),
    );
    const image = auditedKube(await functionKubeconfig('reconcile-image'), 'reconcile-image');
    const pace = auditedKube(await functionKubeconfig('pace'), 'pace');
    const imageApp = createReconcileImageApp({ kube: image.kube, namespace: NAMESPACE });
    const pacer = createPacer({ kube: pace.kube, namespace: NAMESPACE, windowMs: 3_000 });
    const paceApp = createPaceApp(pacer, { kube: pace.kube, namespace: NAMESPACE });
    try {
      // The image appears: its target nodes wait for a pull (policy and pull Secret read).
      expect((await send(imageApp, resourceEvent('add', await read(paths.cachedImage(name))))).status).toBe(
        200,
      );
      const waiting = await read<CachedImage>(paths.cachedImage(name));
      expect(waiting.status).toMatchObject({ nodesTargeted: 1, nodesWaiting: 1 });
      // Its status update reaches pace, which starts the pull under its Lease.
      expect((await send(paceApp, resourceEvent('update', waiting))).status).toBe(200);
      const finished = (exclude: string) =>
        waitFor(
          async () => {
            const list = await admin.list<Pod>(paths.pods(NAMESPACE), {
              labelSelector: pullPodSelectorFor(name),
            });
            const done = list.items.find(
              (p) => pullOutcome(p).kind === 'cached' && p.spec?.nodeName !== exclude,
            );
            // Items of a core list carry no kind; an event does.
            return done && ({ ...done, apiVersion: 'v1', kind: 'Pod' } as Pod);
          },
          { timeoutMs: 30_000, message: `a finished pull pod not on ${exclude || 'no node'}` },
        );
      const first = await finished('');
      // reconcile-image records a finished pull's outcome (a PullSucceeded Event is created) and
      // deletes the pod; pace is not sent pull pods (config/pace/sources.yaml).
      expect((await send(imageApp, referenceEvent('update', first))).status).toBe(200);
      // Status writes are paced (at most every 5 s per image): the outcome is recorded a moment later.
      await waitFor(async () => (await read<CachedImage>(paths.cachedImage(name))).status?.nodesReady === 1, {
        timeoutMs: 30_000,
        message: 'the first outcome recorded',
      });
      // Two nodes join: reconcile-image sees new targets, and its status update reaches pace, which
      // starts one pull and says why the other waits a second (minDelayBetweenPulls, in
      // status.pacing), then starts it.
      await applyNodes(
        joining.map((node) => ({ name: node, labels: { [NODE_SET_LABEL]: name } })),
        { kubeconfigPath: kubeconfigPath() },
      );
      for (const node of joining) {
        const joined = { ...(await read(paths.node(node))), kind: 'Node', apiVersion: 'v1' };
        expect((await send(imageApp, referenceEvent('update', joined))).status).toBe(200);
      }
      const targeted = await waitFor(
        async () => {
          const current = await read<CachedImage>(paths.cachedImage(name));
          return current.status?.nodesTargeted === 3 && current;
        },
        { timeoutMs: 30_000, message: 'the joining nodes targeted' },
      );
      expect((await send(paceApp, resourceEvent('update', targeted))).status).toBe(200);
      const later = await waitFor(
        async () => {
          const list = await admin.list<Pod>(paths.pods(NAMESPACE), {
            labelSelector: pullPodSelectorFor(name),
          });
          const done = list.items.filter(
            (p) => pullOutcome(p).kind === 'cached' && joining.includes(p.spec?.nodeName ?? ''),
          );
          // Items of a core list carry no kind; an event does.
          return done.length === 2 && done.map((p) => ({ ...p, apiVersion: 'v1', kind: 'Pod' }) as Pod);
        },
        { timeoutMs: 30_000, message: 'the joining nodes pulled' },
      );
      // Recorded like the first: their PullSucceeded counts into the same Event (a patch, written at
      // the end of the recorder's window: lib/controller/events.ts).
      for (const pod of later) expect((await send(imageApp, referenceEvent('update', pod))).status).toBe(200);
      await waitFor(
        () => image.requests.some((r) => r.verb === 'patch' && r.resource === 'events' && r.status === 200),
        { timeoutMs: 30_000, message: 'the second PullSucceeded counted into the first Event' },
      );
      const cached = await waitFor(
        async () => {
          const current = await read<CachedImage>(paths.cachedImage(name));
          return statusWord(current.status) === 'Cached' && current;
        },
        { timeoutMs: 30_000, message: 'both nodes cached' },
      );
      expect(cached.status).toMatchObject({ phase: 'Ready', ready: '3/3' });
      // pace's /metrics carries the gauges read from status, with its own token.
      exportStatusMetrics(pace.kube);
      const metrics = await (await paceApp.request('/metrics')).text();
      expect(metrics).toContain(`drop_nodes_cached{cachedimage="${name}"} 3`);
      // A node changes, the resync ping, and an image event that names the image only.
      const node = await read(paths.node(nodes[0] ?? ''));
      expect(
        (await send(imageApp, referenceEvent('update', { ...node, kind: 'Node', apiVersion: 'v1' }))).status,
      ).toBe(200);
      expect((await send(imageApp, resync())).status).toBe(200);
      expect((await send(imageApp, referenceEvent('update', cached))).status).toBe(200);
      expect((await send(paceApp, referenceEvent('update', cached))).status).toBe(200);
      // The policy is deleted: its delete event has pace remove its Lease once nobody holds it.
      await admin.delete(paths.pullPolicy(name));
      expect((await send(paceApp, resourceEvent('delete', object('PullPolicy', name, {})))).status).toBe(200);
      await waitFor(
        async () => (await admin.get(paths.lease(NAMESPACE, `drop-pace-${name}`))) === undefined,
        {
          timeoutMs: 30_000,
          message: `Lease drop-pace-${name} removed with its policy`,
        },
      );
      // Another replica holds a policy's Lease: pace pokes it (a merge patch) and asks to be retried.
      await admin.create(paths.pullPolicies(), object('PullPolicy', busy, {}));
      const now = new Date();
      await admin.create(paths.leases(NAMESPACE), {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: `drop-pace-${busy}`, namespace: NAMESPACE },
        spec: {
          holderIdentity: 'another-replica',
          leaseDurationSeconds: 60,
          acquireTime: microTime(now),
          renewTime: microTime(now),
        },
      } as KubeObject);
      const poked = await send(paceApp, resourceEvent('add', object('PullPolicy', busy, {})));
      expect(poked.status).toBe(429);
    } finally {
      await pacer.close();
    }
    expect(
      await admin.list<Pod>(paths.pods(NAMESPACE), { labelSelector: pullPodSelectorFor(name) }),
    ).toMatchObject({
      items: [],
    });
    expectLeastPrivilege('reconcile-image', image.requests);
    expectLeastPrivilege('pace', pace.requests);
  });

  it('reconcile-set creates, updates and deletes children: nothing refused, every granted verb used', async () => {
    const name = uniqueName('rbac-set');
    cleanups.push(() => admin.delete(paths.cachedImageSet(name)));
    cleanups.push(() => admin.delete(paths.pullPolicy(name)));
    cleanups.push(() => admin.delete(paths.discoveryPolicy(name)));
    const policy = await admin.create(paths.pullPolicies(), object('PullPolicy', name, {}));
    const discovery = await admin.create(
      paths.discoveryPolicies(),
      object('DiscoveryPolicy', name, {
        sources: [{ type: 'prometheus', prometheus: { endpoint: 'http://127.0.0.1:1', query: 'up' } }],
      }),
    );
    const images = (...tags: string[]) =>
      tags.map((tag) => ({ image: `registry.example/rbac/${tag}`, tag: '1' }));
    await admin.create(
      paths.cachedImageSets(),
      object('CachedImageSet', name, {
        images: images('a', 'b'),
        policyRef: { name },
        discoveryPolicyRef: { name },
      }),
    );
    const set = auditedKube(await functionKubeconfig('reconcile-set'), 'reconcile-set');
    const app = createReconcileSetApp({ kube: set.kube });
    const children = async () =>
      (await admin.list<CachedImage>(paths.cachedImages())).items.filter((c) =>
        c.metadata.ownerReferences?.some((o) => o.name === name),
      );
    cleanups.push(async () => {
      for (const c of await children()) await admin.delete(paths.cachedImage(c.metadata.name));
    });

    expect((await send(app, resourceEvent('add', await read(paths.cachedImageSet(name))))).status).toBe(200);
    expect((await children()).map((c) => c.spec?.image).sort()).toEqual([
      'registry.example/rbac/a',
      'registry.example/rbac/b',
    ]);
    // One image leaves the set and a propagated field changes: one child updated, one deleted.
    await admin.mergePatch(paths.cachedImageSet(name), {
      spec: { images: images('a'), imagePullPolicy: 'IfNotPresent' },
    });
    expect((await send(app, resourceEvent('update', await read(paths.cachedImageSet(name))))).status).toBe(
      200,
    );
    const [child, ...others] = await children();
    expect(others).toEqual([]);
    expect(child?.spec).toMatchObject({ image: 'registry.example/rbac/a', imagePullPolicy: 'IfNotPresent' });
    // A child changes (named only), the policies it references change, the resync ping.
    expect((await send(app, referenceEvent('update', child as CachedImage))).status).toBe(200);
    expect((await send(app, resourceEvent('update', discovery as DiscoveryPolicy))).status).toBe(200);
    expect((await send(app, resourceEvent('add', policy as KubeObject))).status).toBe(200);
    expect((await send(app, resync())).status).toBe(200);
    // The set is deleted (no garbage collector here): its delete event takes the children along.
    const last = await read(paths.cachedImageSet(name));
    await admin.delete(paths.cachedImageSet(name));
    expect((await send(app, resourceEvent('delete', last))).status).toBe(200);
    expect(await children()).toEqual([]);
    expectLeastPrivilege('reconcile-set', set.requests);
  });

  it('discover syncs a policy with a secretRef and forgets it: nothing refused, every granted verb used', async () => {
    const name = uniqueName('rbac-discovery');
    cleanups.push(() => admin.delete(paths.discoveryPolicy(name)));
    cleanups.push(() => admin.delete(paths.secret(NAMESPACE, name)));
    await admin.create(paths.secrets(NAMESPACE), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: NAMESPACE },
      stringData: { token: 'not-a-real-token' },
    } as KubeObject);
    // The pipeline form takes every path to the API: a Secret, the Events API, the nodes.
    await admin.create(
      paths.discoveryPolicies(),
      object('DiscoveryPolicy', name, {
        queries: [
          {
            name: 'usage',
            type: 'prometheus',
            prometheus: { endpoint: 'http://127.0.0.1:1', query: 'up' },
            secretRef: { name },
          },
          { name: 'pulls', type: 'kubernetesEvents' },
        ],
        signals: [
          { name: 'used', query: 'usage', type: 'aggregate', aggregate: { method: 'sum' } },
          { name: 'pull', query: 'pulls', type: 'eventPullTime', eventPullTime: { statistic: 'p95' } },
        ],
        ranking: {
          strategy: 'modelExposure',
          modelExposure: {
            nodes: {
              selector: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] }],
              },
            },
            preWindowUsageSignal: 'used',
            targetWindowUsageSignal: 'used',
            pullTimeSignal: 'pull',
          },
        },
      }),
    );
    const discover = auditedKube(await functionKubeconfig('discover'), 'discover');
    const slots = new SyncSlots();
    const app = createDiscoverApp({
      kube: discover.kube,
      namespace: NAMESPACE,
      requestTimeoutMs: 2_000,
      slots,
    });

    expect((await send(app, resourceEvent('add', await read(paths.discoveryPolicy(name))))).status).toBe(200);
    await slots.idle();
    const synced = await read<DiscoveryPolicy>(paths.discoveryPolicy(name));
    expect(synced.status?.phase).toBe('ConnectionRefused');
    expect(synced.status?.queryResults?.[1]).toMatchObject({ name: 'pulls', status: 'success' });
    expect(await admin.get(paths.lease(NAMESPACE, `drop-discover-${name}`))).toBeDefined();
    expect((await send(app, resync())).status).toBe(200);
    await admin.delete(paths.discoveryPolicy(name));
    expect((await send(app, resourceEvent('delete', synced))).status).toBe(200);
    expect(await admin.get(paths.lease(NAMESPACE, `drop-discover-${name}`))).toBeUndefined();
    expectLeastPrivilege('discover', discover.requests);
  });

  it.each(FUNCTIONS)('%s: every verb on every resource it is not granted is refused (403)', async (fn) => {
    const result = await probeUngranted(await functionKubeconfig(fn), grantsOfFunction(fn));
    expect(result.probed).toBeGreaterThan(100);
    expect(result.notRefused).toEqual([]);
  });

  it.each(FUNCTIONS)('%s: kubectl auth can-i --list shows exactly its grants', async (fn) => {
    await functionKubeconfig(fn);
    for (const namespace of [NAMESPACE, EVENTS_NAMESPACE]) {
      const rules = await authorizedRules(serviceAccountOf(fn), namespace);
      const own = [...rules].filter(
        (r) => !r.includes('.authorization.k8s.io') && !r.includes('.authentication.k8s.io'),
      );
      const granted = grantsOfFunction(fn).filter((g) => g.scope === '*' || g.scope === namespace);
      expect(own.sort(), namespace).toEqual(granted.map(ruleOf).sort());
    }
  });
});

describe('each event source with its own ServiceAccount token', () => {
  it.each(FUNCTIONS)(
    '%s: the adapter may get, list and watch what it watches, and nothing else',
    async (fn) => {
      const kubeconfig = await sourceKubeconfig(fn);
      const http = new KubeHttp(loadKubeConfig(kubeconfig));
      try {
        for (const resource of apiServerSourceOf(fn).spec.resources) {
          const collection = collectionOf(resource.apiVersion, resource.kind);
          const labelSelector = selectorString(resource.selector);
          const list = await http.request<{ items: unknown[] }>('GET', collection, {
            query: { labelSelector, limit: 1 },
          });
          expect(Array.isArray(list.items)).toBe(true);
          // A 404 for an object that does not exist: authorized (the API server checks access first).
          await expect(http.request('GET', `${collection}/drop-rbac-probe-absent`)).rejects.toMatchObject({
            status: 404,
          });
          const watching = new AbortController();
          const stream = await http.stream(
            collection,
            { watch: 'true', labelSelector, timeoutSeconds: '5' },
            watching.signal,
          );
          expect(stream.statusCode).toBe(200);
          watching.abort();
          stream.destroy();
        }
        const grants = grantsOf(functionManifests(fn, 'sources.yaml'), sourceServiceAccountOf(fn));
        const result = await probeUngranted(kubeconfig, grants);
        expect(result.probed).toBeGreaterThan(100);
        expect(result.notRefused).toEqual([]);
      } finally {
        http.close();
      }
    },
  );
});

describe('the standalone ServiceAccount', () => {
  it('runs the standalone runner: a set with a policy ends AllReady, nothing refused', async () => {
    const name = uniqueName('rbac-standalone');
    const nodes = await createNodes(2, { kubeconfigPath: kubeconfigPath(), prefix: name });
    cleanups.push(() => deleteNodes(kubeconfigPath(), nodes));
    cleanups.push(() => admin.delete(paths.pullPolicy(name)));
    cleanups.push(() => admin.delete(paths.lease(NAMESPACE, `drop-pace-${name}`)));
    const children = async () =>
      (await admin.list<CachedImage>(paths.cachedImages())).items.filter((c) =>
        c.metadata.ownerReferences?.some((o) => o.name === name),
      );
    cleanups.push(async () => {
      await admin.delete(paths.cachedImageSet(name));
      for (const c of await children()) await admin.delete(paths.cachedImage(c.metadata.name));
    });
    await admin.create(
      paths.pullPolicies(),
      object('PullPolicy', name, { maxConcurrentNodes: 2, minDelayBetweenPulls: '1s' }),
    );
    await admin.create(
      paths.cachedImageSets(),
      object('CachedImageSet', name, {
        images: ['x', 'y'].map((image) => ({ image: `registry.example/rbac/${image}`, tag: '1' })),
        policyRef: { name },
        nodeSelector: { [NODE_SET_LABEL]: name },
      }),
    );
    const audited = auditedKube(await standaloneKubeconfig(), 'drop-standalone');
    const running = await startStandalone({
      kube: audited.kube,
      namespace: NAMESPACE,
      sources: readSources(CONFIG_DIR, NAMESPACE),
      log: createLogger({ component: 'standalone' }),
      port: 0,
      hostname: '127.0.0.1',
    });
    try {
      await waitFor(
        async () => {
          const set = await read<CachedImageSet>(paths.cachedImageSet(name));
          return (
            set.status?.observedGeneration === set.metadata.generation &&
            statusWord(set.status) === 'AllReady'
          );
        },
        { timeoutMs: 90_000, message: `CachedImageSet ${name} AllReady` },
      );
    } finally {
      await running.stop();
    }
    const show = (r: AuditedRequest) => `${r.method} ${r.path}: ${r.status}`;
    expect(audited.requests.filter((r) => r.status === 401 || r.status === 403).map(show)).toEqual([]);
    const watched = new Set(audited.requests.filter((r) => r.verb === 'watch').map((r) => r.resource));
    const sources = FUNCTIONS.flatMap((fn) =>
      apiServerSourceOf(fn).spec.resources.map((r) => PLURAL[r.kind]),
    );
    expect([...watched].sort()).toEqual([...new Set(sources)].sort());
  });

  it('is refused (403) every verb on every resource it is not granted', async () => {
    const grants = grantsOf(readManifests('standalone/rbac.yaml'), 'drop-standalone');
    const result = await probeUngranted(await standaloneKubeconfig(), grants);
    expect(result.probed).toBeGreaterThan(50);
    expect(result.notRefused).toEqual([]);
  });
});

function collectionOf(apiVersion: string, kind: string): string {
  const plural = PLURAL[kind];
  if (!plural) throw new Error(`no plural known for ${kind}`);
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return kind === 'Pod' ? `${base}/namespaces/${NAMESPACE}/${plural}` : `${base}/${plural}`;
}
