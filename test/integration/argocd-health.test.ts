// Drop's Argo CD health checks (charts/drop/files/argocd/*.lua) run in Argo CD's Lua VM
// (gopher-lua, test/argocd/) on objects exactly as the API server returns them after a real run of
// the standalone runner, and the kubectl columns beside them: what a user sees in Argo CD and in
// `kubectl get` for the same objects.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DiscoveryPolicy, statusWord } from '../../lib/api/index.ts';
import { createKube, type KubeObject, loadKubeConfig, paths } from '../../lib/kube/index.ts';
import type { Standalone } from '../../standalone/standalone.ts';
import { argoHealth, ensureLuaHealth, runHealthScript } from '../argocd/lua-health.ts';
import { createNodes, deleteNodes } from '../controlplane/index.ts';
import { startStandaloneOnLoopback } from './drop.ts';
import { kubeconfigPath, kubectl, uniqueName, waitFor } from './harness.ts';
import { cachedImage, cachedImageSet, pullPolicy } from './objects.ts';

describe("Argo CD health of Drop's objects after a real run", () => {
  const kube = createKube(loadKubeConfig(kubeconfigPath()), 'drop-argocd-test');
  const pool = uniqueName('argocd');
  const onPool = { policyRef: { name: pool }, nodeSelector: { 'drop.test/pool': pool } };
  let lua = '';
  let nodes: string[] = [];
  let drop: Standalone | undefined;
  const cleanups: string[] = [];

  beforeAll(async () => {
    lua = await ensureLuaHealth();
    nodes = await createNodes(2, {
      kubeconfigPath: kubeconfigPath(),
      prefix: pool,
      labels: { 'drop.test/pool': pool },
    });
    await kube.create(
      paths.pullPolicies(),
      pullPolicy(pool, { maxConcurrentNodes: 2, minDelayBetweenPulls: '1s' }),
    );
    cleanups.push(paths.pullPolicy(pool));
    drop = await startStandaloneOnLoopback(kube);
  });
  afterAll(async () => {
    for (const path of cleanups.reverse()) await kube.delete(path).catch(() => undefined);
    await drop?.stop();
    await deleteNodes(kubeconfigPath(), nodes).catch(() => undefined);
  });

  /** Creates the object and returns it once `settled` holds, as the API server returns it. */
  async function settle<T extends KubeObject>(
    collection: string,
    path: string,
    object: T,
    settled: (o: T) => boolean,
  ) {
    await kube.create(collection, object);
    cleanups.push(path);
    return waitFor(
      async () => {
        const found = await kube.get<T>(path);
        return found && settled(found) ? found : undefined;
      },
      { timeoutMs: 90_000, message: `${path} to settle` },
    );
  }

  it('a CachedImage cached on every node is Healthy, and kubectl shows Cached with its tag', async () => {
    const name = `${pool}-nginx`;
    const image = await settle(
      paths.cachedImages(),
      paths.cachedImage(name),
      cachedImage(name, { ...onPool, image: 'docker.io/library/nginx', tag: '1.25-alpine' }),
      (i) => statusWord(i.status) === 'Cached',
    );
    expect(image.status?.phase).toBe('Ready');
    expect(await argoHealth(lua, 'CachedImage', image)).toEqual({
      status: 'Healthy',
      message: 'cached on 2/2 nodes',
    });
    expect(await kubectl(['get', 'cachedimage', name])).toMatch(
      new RegExp(`${name}\\s+docker\\.io/library/nginx\\s+1\\.25-alpine\\s+Cached\\s+2/2`),
    );
  });

  it('a CachedImage without a tag shows latest in the TAG column', async () => {
    const name = `${pool}-untagged`;
    await settle(
      paths.cachedImages(),
      paths.cachedImage(name),
      cachedImage(name, { ...onPool, image: 'docker.io/library/alpine' }),
      (i) => statusWord(i.status) === 'Cached',
    );
    expect(await kubectl(['get', 'cachedimage', name])).toMatch(
      new RegExp(`${name}\\s+docker\\.io/library/alpine\\s+latest\\s+Cached\\s+2/2`),
    );
  });

  it('a CachedImage whose pulls fail is Degraded with the kubelet reason, and kubectl shows it', async () => {
    const name = `${pool}-broken`;
    const image = await settle(
      paths.cachedImages(),
      paths.cachedImage(name),
      cachedImage(name, { ...onPool, image: 'registry.example/team/errimagepull-app', tag: 'v1' }),
      (i) => (i.status?.failedNodes?.length ?? 0) > 0,
    );
    expect(image.status?.phase).toBe('Degraded');
    const health = await argoHealth(lua, 'CachedImage', image);
    expect(health.status).toBe('Degraded');
    expect(health.message).toMatch(/ErrImagePull|ImagePullBackOff/);
    expect(await kubectl(['get', 'cachedimage', name])).toMatch(
      new RegExp(
        `${name}\\s+registry\\.example/team/errimagepull-app\\s+v1\\s+(ErrImagePull|ImagePullBackOff)\\s+0/2`,
      ),
    );
  });

  it('a CachedImage Drop has not reported on yet is Progressing', async () => {
    const fresh = cachedImage('not-yet-reconciled', { image: 'docker.io/library/busybox' });
    expect(
      await argoHealth(lua, 'CachedImage', { ...fresh, metadata: { ...fresh.metadata, generation: 1 } }),
    ).toEqual({
      status: 'Progressing',
      message: 'Waiting for Drop to report a status',
    });
  });

  it('a CachedImageSet whose every child is cached is Healthy; one with a failing child is Degraded', async () => {
    const ready = await settle(
      paths.cachedImageSets(),
      paths.cachedImageSet(`${pool}-ready`),
      cachedImageSet(`${pool}-ready`, {
        ...onPool,
        images: [{ image: 'docker.io/library/golang', tag: '1.22' }],
      }),
      (s) => statusWord(s.status) === 'AllReady',
    );
    expect(ready.status?.phase).toBe('Ready');
    expect(await argoHealth(lua, 'CachedImageSet', ready)).toMatchObject({ status: 'Healthy' });
    const degraded = await settle(
      paths.cachedImageSets(),
      paths.cachedImageSet(`${pool}-degraded`),
      cachedImageSet(`${pool}-degraded`, {
        ...onPool,
        images: [
          { image: 'docker.io/library/node', tag: '20-alpine' },
          { image: 'registry.example/team/errimagepull-tool', tag: 'v2' },
        ],
      }),
      (s) => statusWord(s.status) === 'Degraded',
    );
    expect(degraded.status?.phase).toBe('Degraded');
    const health = await argoHealth(lua, 'CachedImageSet', degraded);
    expect(health.status).toBe('Degraded');
    expect(health.message).toMatch(/errimagepull-tool/);
    const table = await kubectl(['get', 'cachedimagesets', `${pool}-ready`, `${pool}-degraded`]);
    expect(table).toMatch(/^NAME\s+STATUS\s+READY\s+MANAGED\s+SOURCE\s+AGE/);
    expect(table).toMatch(new RegExp(`${pool}-ready\\s+AllReady\\s+1/1\\s+1\\s`));
    expect(table).toMatch(new RegExp(`${pool}-degraded\\s+Degraded\\s+\\d/2\\s+2\\s`));
  });

  it('a DiscoveryPolicy whose source fails is Degraded with the reason; a PullPolicy is Healthy', async () => {
    const name = `${pool}-discovery`;
    const policy = await settle(
      paths.discoveryPolicies(),
      paths.discoveryPolicy(name),
      {
        apiVersion: 'drop.corewire.io/v1alpha1',
        kind: 'DiscoveryPolicy',
        metadata: { name },
        // Nothing listens on port 1: the sync fails as ConnectionRefused.
        spec: {
          sources: [{ type: 'prometheus', prometheus: { endpoint: 'http://127.0.0.1:1', query: 'up' } }],
        },
      } as DiscoveryPolicy,
      (p) => p.status?.phase !== undefined,
    );
    const health = await argoHealth(lua, 'DiscoveryPolicy', policy);
    expect(health).toMatchObject({ status: 'Degraded' });
    expect(health.message).toMatch(/^ConnectionRefused: /);
    const pullPolicyObject = await kube.get(paths.pullPolicy(pool));
    expect(await argoHealth(lua, 'PullPolicy', pullPolicyObject)).toMatchObject({ status: 'Healthy' });
  });

  it('runs only the Lua Argo CD can: a check that reaches for a library Argo CD does not open fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drop-lua-'));
    const script = join(dir, 'uses-string.lua');
    writeFileSync(script, 'return { status = "Healthy", message = string.format("%d nodes", 2) }\n');
    await expect(runHealthScript(lua, script, { metadata: {} })).rejects.toThrow(/format/);
    rmSync(dir, { recursive: true, force: true });
  });
});
