// The simulated kubelet asks a real registry (Debian's docker-registry) when a pull pod's image
// lives in one: the digest and size are the registry's, a missing manifest, an unreachable host, a
// 401 and a 429 fail the pull with the kubelet's words. Images elsewhere keep their conventions.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../lib/kube/index.ts';
import { createNodes, deleteNodes, REGISTRY_RESOLVED_ANNOTATION } from '../controlplane/index.ts';
import { freePorts } from '../controlplane/processes.ts';
import { createPki, type Pki } from '../discovery/pki.ts';
import { ensureDiscoveryServers } from '../discovery/process.ts';
import { pushImage, startRegistry, type TestRegistry } from '../discovery/registry.ts';
import { type RegistryProxy, startRegistryProxy } from '../discovery/registry-proxy.ts';
import { kubeconfigPath, kubectl, kubectlJson, uniqueName, waitFor } from './harness.ts';
import { pullPodLike } from './objects.ts';

const NAMESPACE = 'drop-system';
const LAYER_BYTES = 3000;

describe('pulls from a real registry', () => {
  let dir: string;
  let pki: Pki;
  let registry: TestRegistry;
  let locked: TestRegistry;
  let proxy: RegistryProxy;
  let node: string;
  let digest: string;
  let size: number;
  const created: string[] = [];

  beforeAll(async () => {
    ensureDiscoveryServers();
    dir = mkdtempSync(join(tmpdir(), 'drop-registry-pulls-'));
    pki = createPki(dir);
    const storageDir = join(dir, 'storage');
    mkdirSync(storageDir);
    registry = await startRegistry({ dir, name: 'open', storageDir, auth: { kind: 'none' } });
    locked = await startRegistry({
      dir,
      name: 'locked',
      storageDir,
      auth: { kind: 'htpasswd', users: { puller: 'pull-pw' } },
      tls: pki,
    });
    proxy = await startRegistryProxy(registry.url);
    digest = await pushImage(registry.url, 'team/app', ['1.0'], { layers: [LAYER_BYTES] });
    const manifest = await fetch(`${registry.url}/v2/team/app/manifests/1.0`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    }).then((r) => r.json() as Promise<{ config: { size: number } }>);
    size = manifest.config.size + LAYER_BYTES;
    [node = ''] = await createNodes(1, { kubeconfigPath: kubeconfigPath(), prefix: uniqueName('reg') });
  });
  afterAll(async () => {
    if (created.length) await kubectl(['delete', 'pods', '-n', NAMESPACE, '--ignore-not-found', ...created]);
    if (node) await deleteNodes(kubeconfigPath(), [node]);
    await proxy?.stop();
    await registry?.server.stop();
    await locked?.server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function pull(image: string, pullSecrets: readonly string[] = []): Promise<string> {
    const name = uniqueName('reg-pull');
    const pod = pullPodLike(name, node, image, { labels: { 'app.kubernetes.io/managed-by': 'drop-test' } });
    const withSecrets = {
      ...pod,
      spec: { ...pod.spec!, imagePullSecrets: pullSecrets.map((n) => ({ name: n })) },
    };
    await kubectl(['create', '-f', '-'], { input: JSON.stringify(withSecrets) });
    created.push(name);
    return name;
  }

  const get = (name: string) => kubectlJson<Pod>(['get', 'pod', '-n', NAMESPACE, name]);

  async function untilOutcome(name: string): Promise<Pod> {
    return waitFor(
      async () => {
        const pod = await get(name);
        const container = pod.status?.containerStatuses?.[0];
        const waiting = container?.state?.waiting?.reason;
        return container?.state?.terminated || (waiting && waiting !== 'ContainerCreating') ? pod : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 300, message: `${name} shows an outcome` },
    );
  }

  async function pulledEvent(name: string): Promise<string> {
    return waitFor(
      async () => {
        const events = await kubectlJson<{ items: { reason: string; message: string }[] }>([
          'get',
          'events',
          '-n',
          NAMESPACE,
          '--field-selector',
          `involvedObject.name=${name},reason=Pulled`,
        ]);
        return events.items[0]?.message;
      },
      { timeoutMs: 30_000, message: `the Pulled event of ${name}` },
    );
  }

  it('a pushed tag is pulled with the registry’s digest, and the Pulled event has the manifest’s size', async () => {
    const name = await pull(`${registry.host}/team/app:1.0`);
    const pod = await untilOutcome(name);
    expect(pod.metadata.annotations?.[REGISTRY_RESOLVED_ANNOTATION]).toBe('true');
    expect(pod.status?.containerStatuses?.[0]?.imageID).toBe(`${registry.host}/team/app@${digest}`);
    expect(await pulledEvent(name)).toMatch(new RegExp(`Image size: ${size} bytes\\.$`));
  });

  it('a reference by digest resolves to that digest', async () => {
    const pod = await untilOutcome(await pull(`${registry.host}/team/app@${digest}`));
    expect(pod.status?.containerStatuses?.[0]?.imageID).toBe(`${registry.host}/team/app@${digest}`);
  });

  it('a missing tag fails as ErrImagePull NotFound, then ImagePullBackOff', async () => {
    const image = `${registry.host}/team/app:missing`;
    const name = await pull(image);
    const waiting = (await untilOutcome(name)).status?.containerStatuses?.[0]?.state?.waiting;
    expect(waiting).toEqual({
      reason: 'ErrImagePull',
      message: `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found`,
    });
    await waitFor(
      async () =>
        (await get(name)).status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff',
      { timeoutMs: 30_000, message: 'ImagePullBackOff' },
    );
  });

  it('an unreachable host fails with the dial error', async () => {
    const [port] = await freePorts(1);
    const image = `127.0.0.1:${port}/team/app:1.0`;
    const waiting = (await untilOutcome(await pull(image))).status?.containerStatuses?.[0]?.state?.waiting;
    expect(waiting?.reason).toBe('ErrImagePull');
    expect(waiting?.message).toBe(
      `rpc error: code = Unknown desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": failed to do request: Head "https://127.0.0.1:${port}/v2/team/app/manifests/1.0": dial tcp 127.0.0.1:${port}: connect: connection refused`,
    );
  });

  it('the proxy’s 429 fails the pull with the status in the message; cleared, the same image pulls', async () => {
    const image = `${proxy.host}/team/app:1.0`;
    proxy.refuse({ status: 429, retryAfterSeconds: 30 });
    try {
      const waiting = (await untilOutcome(await pull(image))).status?.containerStatuses?.[0]?.state?.waiting;
      expect(waiting?.reason).toBe('ErrImagePull');
      expect(waiting?.message).toBe(
        `rpc error: code = Unknown desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": unexpected status from HEAD request to http://${proxy.host}/v2/team/app/manifests/1.0: 429 Too Many Requests`,
      );
      expect(proxy.requests.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    } finally {
      proxy.clear();
    }
    const pod = await untilOutcome(await pull(image));
    expect(pod.status?.containerStatuses?.[0]?.imageID).toBe(`${proxy.host}/team/app@${digest}`);
  });

  it('the proxy’s 401 fails an anonymous pull as the kubelet words it', async () => {
    const image = `${proxy.host}/team/app:1.0`;
    proxy.refuse({ status: 401, times: 1 });
    try {
      const waiting = (await untilOutcome(await pull(image))).status?.containerStatuses?.[0]?.state?.waiting;
      expect(waiting?.message).toBe(
        `rpc error: code = Unknown desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials`,
      );
    } finally {
      proxy.clear();
    }
  });

  it('a registry that wants a login pulls with the pod’s pull secret (over TLS), and refuses without', async () => {
    const secret = uniqueName('reg-secret');
    const auth = Buffer.from('puller:pull-pw').toString('base64');
    await kubectl(['create', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/dockerconfigjson',
        metadata: { name: secret, namespace: NAMESPACE },
        stringData: { '.dockerconfigjson': JSON.stringify({ auths: { [locked.host]: { auth } } }) },
      }),
    });
    try {
      const image = `${locked.host}/team/app:1.0`;
      const pulled = await untilOutcome(await pull(image, [secret]));
      expect(pulled.status?.containerStatuses?.[0]?.imageID).toBe(`${locked.host}/team/app@${digest}`);
      const refused = (await untilOutcome(await pull(image))).status?.containerStatuses?.[0]?.state?.waiting;
      expect(refused?.message).toMatch(/authorization failed: no basic auth credentials$/);
    } finally {
      await kubectl(['delete', 'secret', '-n', NAMESPACE, secret]);
    }
  });

  it('an image elsewhere keeps the name conventions: not held, a hash digest, errimagepull by word', async () => {
    const ok = await untilOutcome(await pull('registry.example/team/app:1'));
    expect(ok.metadata.annotations?.[REGISTRY_RESOLVED_ANNOTATION]).toBeUndefined();
    expect(ok.status?.containerStatuses?.[0]?.imageID).toMatch(
      /^registry\.example\/team\/app@sha256:[a-f0-9]{64}$/,
    );
    const failed = await untilOutcome(await pull('registry.example/errimagepull/app:1'));
    expect(failed.status?.containerStatuses?.[0]?.state?.waiting?.message).toMatch(/: not found$/);
  });
});
