// Kubernetes Events on CachedImages, as a person debugging with `kubectl describe cachedimage`
// sees them: the real pinned kubectl against the real API server, Drop fed by the real
// ApiServerSource adapter, pulls run by kwok (an image whose name says errimagepull fails).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CachedImage, statusWord } from '../../lib/api/index.ts';
import type { KubeObject } from '../../lib/kube/index.ts';
import { paths } from '../../lib/kube/index.ts';
import { createNodes, deleteNodes } from '../controlplane/index.ts';
import { type RunningDrop, startDrop } from './drop.ts';
import { kubeconfigPath, kubectl, uniqueName, waitFor } from './harness.ts';
import { cachedImage, pullPolicy } from './objects.ts';

interface CoreEvent extends KubeObject {
  readonly reason: string;
  readonly type: string;
  readonly note?: string;
  readonly message?: string;
  readonly series?: { readonly count: number };
  readonly count?: number;
}

const NODES = 4;

describe('Kubernetes Events on a CachedImage', () => {
  let drop: RunningDrop;
  let pool: string;
  let nodes: string[];
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true });
    pool = uniqueName('events');
    nodes = await createNodes(NODES, {
      kubeconfigPath: kubeconfigPath(),
      prefix: pool,
      labels: { 'drop.test/pool': pool },
    });
    // Every node at once, a second apart: the test needs no pacing, only pulls.
    await drop.kube.create(
      paths.pullPolicies(),
      pullPolicy(pool, { maxConcurrentNodes: NODES, minDelayBetweenPulls: '1s' }),
    );
    cleanups.push(() => deleteNodes(kubeconfigPath(), nodes));
    cleanups.push(() => drop.kube.delete(paths.pullPolicy(pool)));
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await drop?.stop();
  });

  /** Creates a CachedImage on the pool's nodes and waits until its status satisfies `done`. */
  async function cache(
    image: string,
    done: (image: CachedImage) => boolean,
  ): Promise<{ name: string; image: CachedImage }> {
    const name = uniqueName('described');
    cleanups.push(() => drop.kube.delete(paths.cachedImage(name)));
    await drop.kube.create(
      paths.cachedImages(),
      cachedImage(name, {
        image,
        tag: '1.0',
        policyRef: { name: pool },
        nodeSelector: { 'drop.test/pool': pool },
      }),
    );
    const settled = await waitFor(
      async () => {
        const found = await drop.kube.get<CachedImage>(paths.cachedImage(name));
        return found && done(found) ? found : undefined;
      },
      { timeoutMs: 90_000, message: `${name} to settle` },
    );
    return { name, image: settled };
  }

  /** The Events about an object, as kubectl describe finds them (every namespace, by uid). */
  async function eventsOf(uid: string): Promise<CoreEvent[]> {
    const list = await drop.kube.list<CoreEvent>('/api/v1/events', {
      fieldSelector: `involvedObject.uid=${uid}`,
    });
    return [...list.items];
  }

  it('kubectl describe cachedimage shows a real pull: started and cached on every node, one line each', async () => {
    const { name, image } = await cache('docker.io/library/alpine', (i) => statusWord(i.status) === 'Cached');
    const uid = image.metadata.uid ?? '';
    // The pacer's PullStarted and reconcile-image's PullSucceeded both count all four nodes.
    const counted = await waitFor(
      async () => {
        const events = await eventsOf(uid);
        const count = (reason: string) =>
          events
            .filter((e) => e.reason === reason)
            .reduce((n, e) => n + (e.series?.count ?? e.count ?? 1), 0);
        return count('PullStarted') === NODES && count('PullSucceeded') === NODES && events;
      },
      { timeoutMs: 30_000, message: `${NODES} PullStarted and PullSucceeded events on ${name}` },
    );
    // Aggregated as client-go's recorder does: one Event per reason, its series counting the nodes.
    expect(counted.filter((e) => e.reason === 'PullStarted')).toHaveLength(1);
    expect(counted.filter((e) => e.reason === 'PullSucceeded')).toHaveLength(1);
    const described = await kubectl(['describe', 'cachedimage', name]);
    const events = described.slice(described.indexOf('Events:'));
    expect(events).toMatch(/Type\s+Reason\s+Age\s+From\s+Message/);
    expect(events).toMatch(
      new RegExp(
        `Normal\\s+PullStarted\\s+.*\\(x${NODES} over .*\\)\\s+drop-pace\\s+Started pulling docker\\.io/library/alpine:1\\.0 on a node`,
      ),
    );
    expect(events).toMatch(
      new RegExp(
        `Normal\\s+PullSucceeded\\s+.*\\(x${NODES} over .*\\)\\s+drop-reconcile-image\\s+Cached docker\\.io/library/alpine:1\\.0 on a node`,
      ),
    );
    expect(events).toMatch(
      /Normal\s+Cached\s+.*drop-reconcile-image\s+docker\.io\/library\/alpine:1\.0 is cached on every target node \(4\/4\)/,
    );
  });

  it('kubectl describe cachedimage shows a failing pull: the kubelet reason, its message and the backoff', async () => {
    const { name, image } = await cache(
      'registry.example/team/errimagepull-app',
      (i) => (i.status?.failedNodes?.length ?? 0) === NODES,
    );
    // Every node's failure counted (repeats are written together, at most every 5 s).
    await waitFor(
      async () => {
        const failed = (await eventsOf(image.metadata.uid ?? '')).filter((e) => e.reason === 'PullFailed');
        return failed.reduce((n, e) => n + (e.series?.count ?? e.count ?? 1), 0) === NODES;
      },
      { timeoutMs: 30_000, message: `${NODES} PullFailed counted on ${name}` },
    );
    const described = await kubectl(['describe', 'cachedimage', name]);
    const events = described.slice(described.indexOf('Events:'));
    expect(events).toMatch(
      new RegExp(
        `Warning\\s+PullFailed\\s+.*\\(x${NODES} over .*\\)\\s+drop-reconcile-image\\s+(ErrImagePull|ImagePullBackOff) pulling registry\\.example/team/errimagepull-app:1\\.0: .*errimagepull-app`,
      ),
    );
    expect(events).toMatch(
      /Normal\s+BackOff\s+.*Next attempt on that node in 30s \(failureBackoff: 30s, doubling up to 5m\)/,
    );
    // The status above the events says which nodes, the Events say what happened: no node names there.
    for (const node of nodes) expect(events).not.toContain(node);
    expect((await eventsOf(image.metadata.uid ?? '')).filter((e) => e.reason === 'PullFailed')).toHaveLength(
      1,
    );
  });

  it('puts Events about a cluster-scoped object in default, the only namespace besides kube-system the API server takes', async () => {
    const { image } = await cache('docker.io/library/busybox', (i) => statusWord(i.status) === 'Cached');
    const namespaces = new Set((await eventsOf(image.metadata.uid ?? '')).map((e) => e.metadata.namespace));
    expect([...namespaces]).toEqual(['default']);
    const elsewhere = await drop.kube
      .create(paths.kubeEvents('drop-system'), {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: uniqueName('refused'), namespace: 'drop-system' },
        eventTime: new Date().toISOString().replace('Z', '000Z'),
        reportingController: 'drop-test',
        reportingInstance: 'drop-test',
        action: 'Test',
        reason: 'Test',
        type: 'Normal',
        note: 'would Drop namespace do?',
        regarding: {
          apiVersion: image.apiVersion,
          kind: 'CachedImage',
          name: image.metadata.name,
          uid: image.metadata.uid,
        },
      } as KubeObject)
      .then(
        () => 'created',
        (error: Error) => error.message,
      );
    expect(elsewhere).toMatch(/does not match event\.namespace/);
  });
});
