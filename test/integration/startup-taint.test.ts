// The opt-in startup taint (PullPolicy startupTaint): a node that joins with the taint gets every
// image marked for it, then loses the taint — once warm, or at the deadline when a pull keeps
// failing — with an Event on the Node; without the opt-in role nothing patches a node and the
// images' status says which role to install.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReconcileImageApp } from '../../functions/reconcile-image/index.ts';
import { type CachedImage, statusWord } from '../../lib/api/index.ts';
import { createKube, KubeError, loadKubeConfig, type Node, paths } from '../../lib/kube/index.ts';
import { startupTaintsRemovedTotal } from '../../lib/metrics.ts';
import { functionManifests, grantsOf, readManifests } from '../config/manifests.ts';
import { createNodes, deleteNodes } from '../controlplane/index.ts';
import { auditedKube } from './audited-kube.ts';
import { NAMESPACE, ping, type RunningDrop, serveOnLoopback, startDrop } from './drop.ts';
import { probeUngranted } from './forbidden.ts';
import { kubeconfigPath, kubectl, uniqueName, waitFor } from './harness.ts';
import { cachedImage, pullPolicy } from './objects.ts';
import { functionKubeconfig, STANDALONE, standaloneKubeconfig } from './service-accounts.ts';

const ROLE_FILE = join(new URL('../../', import.meta.url).pathname, 'config/startup-taint/rbac.yaml');

const admin = createKube(loadKubeConfig(kubeconfigPath()), 'startup-taint-test');
const nodes: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await deleteNodes(kubeconfigPath(), nodes);
});

const taintsOf = async (node: string) => (await admin.get<Node>(paths.node(node)))?.spec?.taints ?? [];

function untainted(node: string, key: string, timeoutMs: number) {
  return waitFor(
    async () => {
      const taints = await taintsOf(node);
      return !taints.some((t) => t.key === key) || Promise.reject(new Error(JSON.stringify(taints)));
    },
    { timeoutMs, intervalMs: 500, message: `${node} without ${key}` },
  );
}

/** A PullPolicy with a startupTaint of its own, and CachedImages paced by it on its own pool of nodes. */
async function setUp(prefix: string, timeout: string, images: readonly string[]) {
  const pool = uniqueName(prefix);
  const key = `drop.test/${pool}`;
  await admin.create(
    paths.pullPolicies(),
    pullPolicy(pool, { minDelayBetweenPulls: '0s', startupTaint: { key, timeout } }),
  );
  cleanups.push(() => admin.delete(paths.pullPolicy(pool)));
  const names = images.map((_, i) => `${pool}-${i}`);
  for (const [i, image] of images.entries()) {
    await admin.create(
      paths.cachedImages(),
      cachedImage(names[i] ?? '', {
        image,
        tag: '1',
        nodeSelector: { 'drop.test/pool': pool },
        policyRef: { name: pool },
      }),
    );
    cleanups.push(() => admin.delete(paths.cachedImage(names[i] ?? '')));
  }
  return { pool, key, names };
}

async function joinTainted(pool: string, key: string): Promise<string> {
  const [node = ''] = await createNodes(1, {
    kubeconfigPath: kubeconfigPath(),
    prefix: pool,
    labels: { 'drop.test/pool': pool },
    taints: [{ key, value: 'true', effect: 'NoSchedule' }],
  });
  nodes.push(node);
  return node;
}

// First, and alone: a Drop run as cluster admin keeps its informers and timers in this process a
// while after it stops, and could remove the taint itself.
describe('startup taint, with reconcile-image as its own ServiceAccount', { timeout: 420_000 }, () => {
  it('without the opt-in role nothing patches a node, and the status names the role; with it, the taint goes', async () => {
    const { pool, key, names } = await setUp('st-forbid', '1s', ['registry.example/team/st-any']);
    const node = await joinTainted(pool, key);
    // reconcile-image with its own ServiceAccount (config/reconcile-image/rbac.yaml only), fed by pings.
    const audited = auditedKube(await functionKubeconfig('reconcile-image'), 'reconcile-image');
    const served = await serveOnLoopback(
      createReconcileImageApp({ kube: audited.kube, namespace: NAMESPACE }),
    );
    cleanups.push(() => new Promise((resolve) => served.server.close(resolve)));
    const name = names[0] ?? '';
    const forbidden = await waitFor(
      async () => {
        await ping(served.url);
        const image = await admin.get<CachedImage>(paths.cachedImage(name));
        const condition = image?.status?.conditions?.find((c) => c.type === 'StartupTaint');
        return condition?.reason === 'StartupTaintForbidden' ? condition : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1_000, message: 'StartupTaintForbidden' },
    );
    expect(forbidden).toMatchObject({ status: 'False' });
    expect(forbidden.message).toContain('drop-startup-taint');
    // Past the deadline, still tainted: Drop asked whether it may and did not try.
    expect((await taintsOf(node)).some((t) => t.key === key)).toBe(true);
    const nodeWrites = () =>
      audited.requests.filter((r) => r.resource === 'nodes' && !['get', 'list', 'watch'].includes(r.verb));
    expect(nodeWrites()).toEqual([]);

    await kubectl(['apply', '-f', ROLE_FILE]);
    cleanups.push(() => kubectl(['delete', '-f', ROLE_FILE, '--ignore-not-found']));
    // A permission is believed for a minute: the taint goes at a ping after that.
    await waitFor(
      async () => {
        await ping(served.url);
        return !(await taintsOf(node)).some((t) => t.key === key);
      },
      { timeoutMs: 180_000, intervalMs: 2_000, message: `${node} untainted with the role` },
    );
    expect(nodeWrites().map((r) => [r.verb, r.status])).toEqual([['patch', 200]]);
    // The role grants that one verb and nothing more, to either ServiceAccount it binds.
    const optIn = readManifests('startup-taint/rbac.yaml');
    for (const [serviceAccount, kubeconfig, own] of [
      [
        'drop-reconcile-image',
        await functionKubeconfig('reconcile-image'),
        functionManifests('reconcile-image', 'rbac.yaml'),
      ],
      [STANDALONE, await standaloneKubeconfig(), readManifests('standalone/rbac.yaml')],
    ] as const) {
      const grants = grantsOf([...own, ...optIn], serviceAccount);
      expect(
        grants.some((g) => g.resource === 'nodes' && g.verb === 'patch'),
        serviceAccount,
      ).toBe(true);
      const result = await probeUngranted(kubeconfig, grants);
      expect(result.probed, serviceAccount).toBeGreaterThan(100);
      expect(result.notRefused, serviceAccount).toEqual([]);
    }
    await kubectl(['delete', '-f', ROLE_FILE]);
    await waitFor(
      async () => {
        await ping(served.url);
        const image = await admin.get<CachedImage>(paths.cachedImage(name));
        return image?.status?.conditions?.find((c) => c.type === 'StartupTaint')?.reason === 'Permitted';
      },
      { timeoutMs: 120_000, intervalMs: 1_000, message: 'StartupTaint Permitted' },
    );
  });
});

/** drop_startup_taints_removed_total{reason} as Prometheus would scrape it from this process. */
async function removedTotal(reason: 'warm' | 'deadline'): Promise<number> {
  const { values } = await startupTaintsRemovedTotal.get();
  return values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

/**
 * Waits until the taint is gone from the node, the removal is counted once by its reason, and
 * `kubectl describe node` shows the Event; returns that output.
 */
async function removed(
  node: string,
  key: string,
  reason: 'warm' | 'deadline',
  before: number,
): Promise<string> {
  await untainted(node, key, 180_000);
  // Counted once the patch returned, which may be just after the test saw the node untainted.
  await waitFor(async () => (await removedTotal(reason)) === before + 1, {
    timeoutMs: 30_000,
    intervalMs: 200,
    message: `drop_startup_taints_removed_total{reason="${reason}"} counted the removal`,
  });
  return waitFor(
    async () => {
      const out = await kubectl(['describe', 'node', node]);
      return /StartupTaintRemoved/.test(out) ? out : Promise.reject(new Error(out.slice(-600)));
    },
    { timeoutMs: 60_000, intervalMs: 500, message: 'the Event on the Node' },
  );
}

describe('startup taint, with Drop running as cluster admin', { timeout: 420_000 }, () => {
  let drop: RunningDrop;

  beforeAll(async () => {
    drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true });
  });
  afterAll(async () => {
    await drop?.stop();
  });

  it('a node that joins with the taint gets every marked image, then loses the taint', async () => {
    const { pool, key, names } = await setUp('st-warm', '10m', [
      'registry.example/team/st-app-slow-2s',
      'registry.example/team/st-db-slow-2s',
    ]);
    const warmBefore = await removedTotal('warm');
    const node = await joinTainted(pool, key);
    const described = await removed(node, key, 'warm', warmBefore);
    // The taint went only once both were recorded as cached there.
    for (const name of names) {
      const image = await admin.get<CachedImage>(paths.cachedImage(name));
      expect(image?.status?.cachedNodes).toContain(node);
      expect(statusWord(image?.status)).toBe('Cached');
    }
    expect(described).toMatch(
      new RegExp(
        `Normal +StartupTaintRemoved .*drop-reconcile-image +Removed ${key}:NoSchedule: warm, 2 images cached`,
      ),
    );
  });

  it('the patch removes nothing from a node whose taints changed since they were read (422)', async () => {
    const pool = uniqueName('st-race');
    const key = `drop.test/${pool}`;
    const node = await joinTainted(pool, key);
    const read = await taintsOf(node);
    // Someone adds a taint after Drop read the node.
    const added = { key: `${key}-other`, effect: 'NoSchedule' };
    await admin.jsonPatch(paths.node(node), [{ op: 'add', path: '/spec/taints/-', value: added }]);
    const refused = await admin
      .jsonPatch(paths.node(node), [
        { op: 'test', path: '/spec/taints', value: read },
        { op: 'replace', path: '/spec/taints', value: read.filter((t) => t.key !== key) },
      ])
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(KubeError);
    expect((refused as KubeError).kind).toBe('invalid');
    expect((await taintsOf(node)).map((t) => t.key)).toEqual([key, added.key]);
  });

  it('a pull that keeps failing holds the taint until the deadline, and the Event says which', async () => {
    const { pool, key, names } = await setUp('st-late', '25s', [
      'registry.example/team/st-ok',
      'registry.example/team/st-errimagepull',
    ]);
    const deadlineBefore = await removedTotal('deadline');
    const node = await joinTainted(pool, key);
    const created = Date.parse((await admin.get<Node>(paths.node(node)))?.metadata.creationTimestamp ?? '');
    const described = await removed(node, key, 'deadline', deadlineBefore);
    // Not before the deadline (creationTimestamp has whole seconds).
    expect(Date.now()).toBeGreaterThanOrEqual(created + 25_000);
    expect(described).toMatch(
      new RegExp(
        `Warning +StartupTaintRemoved .*Removed ${key}:NoSchedule: deadline passed with 1 image not cached: ${names[1]}`,
      ),
    );
  });
});
