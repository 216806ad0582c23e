// Drop as deployed on Knative, without Knative: each function its own HTTP server, running as its
// own ServiceAccount (the RBAC of config/), fed by the real ApiServerSource adapter configured from
// the ApiServerSource manifests in config/, and ticked as its PingSource would tick it.
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscoverApp } from '../../functions/discover/index.ts';
import { createPaceApp, createPacer } from '../../functions/pace/index.ts';
import { createReconcileImageApp } from '../../functions/reconcile-image/index.ts';
import { createReconcileSetApp } from '../../functions/reconcile-set/index.ts';
import { type CachedImageSet, statusWord } from '../../lib/api/index.ts';
import { createKube, type Kube, loadKubeConfig, paths } from '../../lib/kube/index.ts';
import { readSources } from '../../standalone/config-files.ts';
import type { Sources } from '../../standalone/sources.ts';
import type { FunctionName } from '../config/manifests.ts';
import {
  type ApiServerSource,
  createNodes,
  deleteNodes,
  optionsOfSource,
  startApiServerSource,
} from '../controlplane/index.ts';
import { NAMESPACE, ping, serveOnLoopback } from './drop.ts';
import { kubeconfigPath, kubectl, uniqueName, waitFor } from './harness.ts';
import { functionKubeconfig } from './service-accounts.ts';

const CONFIG = new URL('../../config/', import.meta.url).pathname;
// The PingSources tick every minute; a test cannot wait that long, so the same event comes faster.
const TICK_MS = 3_000;

type Served = Awaited<ReturnType<typeof serveOnLoopback>>;

function appFor(fn: FunctionName, kube: Kube): Hono {
  switch (fn) {
    case 'reconcile-image':
      return createReconcileImageApp({ kube, namespace: NAMESPACE });
    case 'reconcile-set':
      return createReconcileSetApp({ kube });
    case 'pace':
      return createPaceApp(createPacer({ kube, namespace: NAMESPACE, windowMs: 20_000 }), {
        kube,
        namespace: NAMESPACE,
      });
    case 'discover':
      return createDiscoverApp({ kube, namespace: NAMESPACE });
  }
}

describe('Drop end to end, as config/ deploys it', () => {
  const sources: Sources = readSources(CONFIG, NAMESPACE);
  const servers = new Map<string, Served>();
  const adapters: ApiServerSource[] = [];
  const ticks: NodeJS.Timeout[] = [];
  const pool = uniqueName('e2e');
  let nodes: string[] = [];

  beforeAll(async () => {
    const functions = [...new Set(sources.eventSources.map((s) => s.function))] as FunctionName[];
    for (const fn of functions) {
      const kube = createKube(loadKubeConfig(await functionKubeconfig(fn)), fn);
      servers.set(fn, await serveOnLoopback(appFor(fn, kube)));
    }
    for (const source of sources.eventSources) {
      const sink = servers.get(source.function);
      if (!sink)
        throw new Error(`ApiServerSource ${source.name} feeds ${source.function}, which has no server`);
      adapters.push(await startApiServerSource(optionsOfSource(source, kubeconfigPath(), sink.url)));
    }
    for (const tick of sources.pings) {
      const sink = servers.get(tick.function);
      if (sink) ticks.push(setInterval(() => void ping(sink.url).catch(() => undefined), TICK_MS));
    }
    nodes = await createNodes(3, {
      kubeconfigPath: kubeconfigPath(),
      prefix: pool,
      labels: { 'drop.test/pool': pool },
    });
  });

  afterAll(async () => {
    for (const tick of ticks) clearInterval(tick);
    await Promise.all(adapters.map((a) => a.stop()));
    await Promise.all([...servers.values()].map((s) => new Promise((r) => s.server.close(r))));
    await deleteNodes(kubeconfigPath(), nodes);
  });

  it('config/ feeds every function, each from its own ApiServerSource and PingSource', () => {
    const fed = (kind: 'eventSources' | 'pings') => new Set(sources[kind].map((s) => s.function));
    expect([...fed('eventSources')].sort()).toEqual(['discover', 'pace', 'reconcile-image', 'reconcile-set']);
    expect([...fed('pings')].sort()).toEqual(['discover', 'pace', 'reconcile-image', 'reconcile-set']);
    expect(sources.eventSources.every((s) => s.mode === 'Resource')).toBe(true);
  });

  it('a CachedImageSet with a PullPolicy ends AllReady, pulled on every node of its pool', async () => {
    const name = uniqueName('e2e-set');
    const policy = uniqueName('e2e-policy');
    const manifests = [
      {
        apiVersion: 'drop.corewire.io/v1alpha1',
        kind: 'PullPolicy',
        metadata: { name: policy },
        spec: { maxConcurrentNodes: 2, minDelayBetweenPulls: '500ms' },
      },
      {
        apiVersion: 'drop.corewire.io/v1alpha1',
        kind: 'CachedImageSet',
        metadata: { name },
        spec: {
          policyRef: { name: policy },
          nodeSelector: { 'drop.test/pool': pool },
          images: [
            { image: 'registry.example/e2e/builder', tag: 'v1' },
            { image: 'registry.example/e2e/runner', tag: 'v2' },
          ],
        },
      },
    ];
    await kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests }),
    });
    const admin = createKube(loadKubeConfig(kubeconfigPath()), 'e2e-test');
    const set = await waitFor(
      async () => {
        const found = await admin.get<CachedImageSet>(paths.cachedImageSet(name));
        if (statusWord(found?.status) === 'AllReady' && found?.status?.imagesManaged === 2) return found;
        throw new Error(`${statusWord(found?.status)} ${found?.status?.ready} ${found?.status?.message}`);
      },
      { timeoutMs: 90_000, intervalMs: 500, message: `${name} AllReady 2/2` },
    );
    expect(set.status?.ready).toBe('2/2');
    const children = await kubectl([
      'get',
      'cachedimages',
      '-l',
      `drop.corewire.io/imageset=${name}`,
      '--no-headers',
    ]);
    const rows = children.trim().split('\n');
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(/\sCached\s+3\/3\s/);
    await kubectl(['delete', 'cachedimageset', name]);
    await kubectl(['delete', 'pullpolicy', policy]);
  });
});
