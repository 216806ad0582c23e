// A watch whose connection goes silent without closing — the API server frozen or gone behind a
// proxy, a half-open TCP connection — is given up and opened again, so the cache catches up
// instead of staying stale for ever (the chaos suite's api-partition fault found it).
import { dirname, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createKube, loadKubeConfig } from '../../lib/kube/index.ts';
import { kubeconfigFor } from '../chaos/env.ts';
import { startApiProxy } from '../chaos/proxies/api-proxy.ts';
import {
  kubeconfigPath,
  loadKubeConfig as loadTestConfig,
  uniqueName,
  waitFor,
  watchConfigMapNames,
} from './harness.ts';

const admin = createKube(loadKubeConfig(kubeconfigPath()), 'drop-test');
const namespace = uniqueName('watch-silence');
const controller = new AbortController();

afterAll(async () => {
  controller.abort();
  await admin.delete(`/api/v1/namespaces/${namespace}`).catch(() => undefined);
});

it('a watch silenced by a partition that never closes its connection catches up once the network is back', async () => {
  await admin.create('/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace },
  });
  const stateDir = dirname(kubeconfigPath());
  const proxy = await startApiProxy(stateDir, loadTestConfig().getCurrentCluster()?.server ?? '');
  try {
    const config = kubeconfigFor(kubeconfigPath(), proxy.url, join(stateDir, `${namespace}.kubeconfig`));
    const kube = createKube(loadKubeConfig(config), 'drop-test-watch');
    const seen = watchConfigMapNames(kube, namespace, controller.signal, { idleMs: 3_000 });
    const configMap = (name: string) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace },
    });
    await admin.create(`/api/v1/namespaces/${namespace}/configmaps`, configMap('before') as never);
    await waitFor(() => seen.has('before'), {
      timeoutMs: 60_000,
      message: 'the watch to see the first ConfigMap',
    });
    // The partition: the open watch goes silent for good; new connections pass again afterwards.
    proxy.stalled = true;
    await new Promise((r) => setTimeout(r, 1_000));
    proxy.stalled = false;
    await admin.create(`/api/v1/namespaces/${namespace}/configmaps`, configMap('after') as never);
    await waitFor(() => seen.has('after'), {
      timeoutMs: 60_000,
      message: 'the watch to give up its silent connection and see the second ConfigMap',
    });
    expect(seen).toContain('after');
  } finally {
    await proxy.close();
  }
});
