// Where pulls land, end to end with the real ApiServerSource adapter: tolerations open tainted
// nodes, imagePullSecrets reach the pull pod, and a node that leaves leaves READY.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CachedImage } from '../../lib/api/index.ts';
import { type KubeObject, type Pod, paths } from '../../lib/kube/index.ts';
import { pullPodSelectorFor } from '../../lib/pull-pod.ts';
import { createNodes, deleteNodes } from '../controlplane/index.ts';
import { NAMESPACE, type RunningDrop, startDrop } from './drop.ts';
import { kubeconfigPath, uniqueName, waitFor } from './harness.ts';
import { cachedImage, pullPolicy } from './objects.ts';

async function statusOf(drop: RunningDrop, name: string) {
  return (await drop.kube.get<CachedImage>(paths.cachedImage(name)))?.status;
}

async function untilReady(drop: RunningDrop, name: string, ready: string) {
  return waitFor(
    async () => {
      const status = await statusOf(drop, name);
      if (status?.ready === ready) return status;
      throw new Error(JSON.stringify(status));
    },
    { timeoutMs: 120_000, message: `${name} READY ${ready}` },
  );
}

async function podsOf(drop: RunningDrop, image: string): Promise<readonly Pod[]> {
  return (await drop.kube.list<Pod>(paths.pods(NAMESPACE), { labelSelector: pullPodSelectorFor(image) }))
    .items;
}

describe('placement', () => {
  let drop: RunningDrop;
  const pool = uniqueName('place');
  const fast = uniqueName('place-fast');
  let plain: string[] = [];
  let tainted: string[] = [];
  const selector = { 'drop.test/pool': pool };
  const taint = { key: 'dedicated', value: 'ci', effect: 'NoSchedule' as const };

  beforeAll(async () => {
    drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true });
    await drop.kube.create(
      paths.pullPolicies(),
      pullPolicy(fast, { maxConcurrentNodes: 4, minDelayBetweenPulls: '0s' }),
    );
    plain = await createNodes(3, { kubeconfigPath: kubeconfigPath(), prefix: `${pool}-p`, labels: selector });
    tainted = await createNodes(1, {
      kubeconfigPath: kubeconfigPath(),
      prefix: `${pool}-t`,
      labels: selector,
      taints: [taint],
    });
  });
  afterAll(async () => {
    await drop?.kube.delete(paths.pullPolicy(fast));
    await drop?.stop();
    await deleteNodes(kubeconfigPath(), [...plain, ...tainted]);
  });

  it('a toleration lets a pull land on a tainted node; without it the node is not a target', async () => {
    const without = uniqueName('no-toleration');
    const withIt = uniqueName('toleration');
    await drop.kube.create(
      paths.cachedImages(),
      cachedImage(without, {
        image: 'registry.example/place/a',
        tag: 'v1',
        nodeSelector: selector,
        policyRef: { name: fast },
      }),
    );
    await drop.kube.create(
      paths.cachedImages(),
      cachedImage(withIt, {
        image: 'registry.example/place/b-slow-3s',
        tag: 'v1',
        nodeSelector: selector,
        policyRef: { name: fast },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ci', effect: 'NoSchedule' }],
      }),
    );
    // The pull pod on the tainted node carries the toleration, as the scheduler would require.
    const onTainted = await waitFor(
      async () => (await podsOf(drop, withIt)).find((p) => p.spec?.nodeName === tainted[0]),
      { timeoutMs: 120_000, message: 'a pull pod on the tainted node' },
    );
    expect(onTainted.spec?.tolerations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'dedicated', operator: 'Equal', value: 'ci', effect: 'NoSchedule' }),
      ]),
    );
    const tolerated = await untilReady(drop, withIt, '4/4');
    expect(tolerated.cachedNodes).toEqual(expect.arrayContaining([tainted[0]]));
    const untolerated = await untilReady(drop, without, '3/3');
    expect(untolerated.cachedNodes ?? []).not.toContain(tainted[0]);
    expect((await podsOf(drop, without)).filter((p) => p.spec?.nodeName === tainted[0])).toEqual([]);
    await drop.kube.delete(paths.cachedImage(without));
    await drop.kube.delete(paths.cachedImage(withIt));
  });

  it('imagePullSecrets reach the pull pod', async () => {
    const name = uniqueName('pull-secret');
    await drop.kube.create(paths.secrets(NAMESPACE), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: NAMESPACE },
      type: 'kubernetes.io/dockerconfigjson',
      stringData: { '.dockerconfigjson': '{"auths":{"registry.example":{"auth":"dTpw"}}}' },
    } as KubeObject);
    try {
      await drop.kube.create(
        paths.cachedImages(),
        cachedImage(name, {
          image: 'registry.example/place/private-slow-3s',
          tag: 'v1',
          nodeSelector: selector,
          policyRef: { name: fast },
          imagePullSecrets: [{ name }],
        }),
      );
      const pod = await waitFor(async () => (await podsOf(drop, name))[0], {
        timeoutMs: 120_000,
        message: 'a pull pod',
      });
      expect(pod.spec?.imagePullSecrets).toEqual([{ name }]);
      const status = await untilReady(drop, name, '3/3');
      expect(status.conditions?.find((c) => c.type === 'PullSecretsFound')).toMatchObject({ status: 'True' });
      await drop.kube.delete(paths.cachedImage(name));
    } finally {
      await drop.kube.delete(paths.secret(NAMESPACE, name));
    }
  });

  it('a node that leaves drops out of READY: n/n becomes n−1/n−1', async () => {
    const name = uniqueName('leaving');
    const extra = await createNodes(1, {
      kubeconfigPath: kubeconfigPath(),
      prefix: `${pool}-x`,
      labels: selector,
    });
    await drop.kube.create(
      paths.cachedImages(),
      cachedImage(name, {
        image: 'registry.example/place/c',
        tag: 'v1',
        nodeSelector: selector,
        policyRef: { name: fast },
      }),
    );
    await untilReady(drop, name, '4/4');
    await deleteNodes(kubeconfigPath(), extra);
    const after = await untilReady(drop, name, '3/3');
    expect(after.cachedNodes ?? []).not.toContain(extra[0]);
    expect(after.nodesTargeted).toBe(3);
    await drop.kube.delete(paths.cachedImage(name));
  });
});
