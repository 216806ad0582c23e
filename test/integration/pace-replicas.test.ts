import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createPaceApp, createPacer, type Pacer } from '../../functions/pace/index.ts';
import { createReconcileImageApp } from '../../functions/reconcile-image/index.ts';
import { type CachedImage, statusWord } from '../../lib/api/index.ts';
import { createKube, loadKubeConfig, paths } from '../../lib/kube/index.ts';
import { PULL_POD_SELECTOR } from '../../lib/pull-pod.ts';
import { createNodes, deleteNodes, startApiServerSource } from '../controlplane/index.ts';
import { NAMESPACE, ping, serveOnLoopback } from './drop.ts';
import { kubeconfigPath, uniqueName, waitFor } from './harness.ts';
import { maxPerKey, samplePulls } from './pull-sampler.ts';

const REPLICAS = 4;

/** Forwards every event it receives to all replicas at once, twice: duplicated and concurrent. */
function fanOut(targets: readonly string[]): Hono {
  const app = new Hono();
  app.post('/', async (c) => {
    const body = await c.req.text();
    const headers = Object.fromEntries(c.req.raw.headers);
    const sends = [...targets, ...targets].map((url) =>
      fetch(url, { method: 'POST', headers, body }).catch(() => undefined),
    );
    await Promise.all(sends);
    return c.body(null, 204);
  });
  return app;
}

describe('four pace replicas under duplicated and concurrent events', () => {
  it('never exceed a limit and never create two pull pods for one (image, node)', async () => {
    const kube = createKube(loadKubeConfig(kubeconfigPath()), 'drop-test');
    const pool = uniqueName('replicas');
    const name = uniqueName('shared');
    const nodes = await createNodes(4, {
      kubeconfigPath: kubeconfigPath(),
      prefix: pool,
      labels: { 'drop.test/pool': pool },
    });
    const pacers: Pacer[] = Array.from({ length: REPLICAS }, (_, i) =>
      createPacer({ kube, namespace: NAMESPACE, identity: `replica-${i}`, windowMs: 20_000 }),
    );
    const replicas = await Promise.all(
      pacers.map((p) => serveOnLoopback(createPaceApp(p, { kube, namespace: NAMESPACE }))),
    );
    const reconcile = await serveOnLoopback(createReconcileImageApp({ kube, namespace: NAMESPACE }));
    const paceSink = await serveOnLoopback(fanOut(replicas.map((r) => r.url)));
    const sources = await Promise.all([
      startApiServerSource({
        kubeconfigPath: kubeconfigPath(),
        sink: reconcile.url,
        mode: 'Resource',
        namespaces: [NAMESPACE],
        resources: [
          { apiVersion: 'drop.corewire.io/v1alpha1', kind: 'CachedImage' },
          { apiVersion: 'v1', kind: 'Pod', selector: PULL_POD_SELECTOR },
        ],
      }),
      startApiServerSource({
        kubeconfigPath: kubeconfigPath(),
        sink: paceSink.url,
        mode: 'Resource',
        namespaces: [NAMESPACE],
        resources: [
          { apiVersion: 'drop.corewire.io/v1alpha1', kind: 'CachedImage' },
          { apiVersion: 'drop.corewire.io/v1alpha1', kind: 'PullPolicy' },
          { apiVersion: 'v1', kind: 'Pod', selector: PULL_POD_SELECTOR },
        ],
      }),
    ]);
    const storm = setInterval(() => {
      for (const replica of replicas) void ping(replica.url).catch(() => undefined);
    }, 300);
    const sampler = samplePulls(kube, NAMESPACE);
    const images = ['a', 'b', 'c'].map((s) => `${name}-${s}`);
    try {
      await kube.create(paths.pullPolicies(), {
        apiVersion: 'drop.corewire.io/v1alpha1',
        kind: 'PullPolicy',
        metadata: { name },
        spec: {
          maxConcurrentNodes: 2,
          minDelayBetweenPulls: '0s',
          maxConcurrentPulls: 3,
          maxConcurrentPullsPerNode: 1,
        },
      } as never);
      for (const [i, image] of images.entries()) {
        await kube.create(paths.cachedImages(), {
          apiVersion: 'drop.corewire.io/v1alpha1',
          kind: 'CachedImage',
          metadata: { name: image },
          spec: {
            image: `registry.example/ci/slow-1s-r${i}`,
            tag: 'v1',
            nodeSelector: { 'drop.test/pool': pool },
            policyRef: { name },
          },
        } as never);
      }
      await waitFor(
        async () => {
          for (const image of images) {
            const status = (await kube.get<CachedImage>(paths.cachedImage(image)))?.status;
            if (statusWord(status) !== 'Cached')
              throw new Error(`${image}: ${statusWord(status)} ${status?.ready}`);
          }
          return true;
        },
        { timeoutMs: 120_000, intervalMs: 250 },
      );
    } finally {
      clearInterval(storm);
      await sampler.stop();
      await Promise.all(sources.map((s) => s.stop()));
      await Promise.all(pacers.map((p) => p.close()));
      for (const s of [...replicas, reconcile, paceSink]) s.server.close();
    }
    const mine = sampler.samples.map((s) => ({ ...s, pods: s.pods.filter((p) => images.includes(p.image)) }));
    const most = (count: (s: (typeof mine)[number]) => number) => Math.max(0, ...mine.map(count));
    expect(mine.length).toBeGreaterThan(20);
    expect(most((s) => maxPerKey(s, (p) => p.image))).toBeLessThanOrEqual(2);
    expect(most((s) => maxPerKey(s, (p) => p.node))).toBeLessThanOrEqual(1);
    expect(most((s) => s.pods.length)).toBeLessThanOrEqual(3);
    expect(most((s) => maxPerKey(s, (p) => `${p.image}@${p.node}`))).toBeLessThanOrEqual(1);
    // The limits were actually reached, so the checks above could have failed.
    expect(most((s) => s.pods.length)).toBe(3);
    for (const image of images) await kube.delete(paths.cachedImage(image));
    await kube.delete(paths.pullPolicy(name));
    await deleteNodes(kubeconfigPath(), nodes);
  });
});
