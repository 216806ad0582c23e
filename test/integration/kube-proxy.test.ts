// A kubeconfig whose cluster names a proxy-url (kubectl's field, e.g. an API server reachable only
// through a bastion): Drop's requests and watches go through that proxy, as kubectl's do. Until
// this test they went around it, straight to the server, and failed wherever that is not allowed.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createKube, type KubeObject, loadKubeConfig } from '../../lib/kube/index.ts';
import { kubeconfigPath, uniqueName, waitFor, watchConfigMapNames } from './harness.ts';

const admin = createKube(loadKubeConfig(kubeconfigPath()), 'drop-test');
const namespace = uniqueName('kube-proxy');
const controller = new AbortController();

afterAll(async () => {
  controller.abort();
  await admin.delete(`/api/v1/namespaces/${namespace}`).catch(() => undefined);
});

/** An HTTP proxy that tunnels CONNECT requests and records each tunnel's target. */
async function startConnectProxy(): Promise<{ url: string; tunnels: string[]; close(): Promise<void> }> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((_, res) => res.writeHead(405).end());
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    tunnels.push(target);
    const at = target.lastIndexOf(':');
    const upstream = connect(Number(target.slice(at + 1)), target.slice(0, at), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    close: () =>
      new Promise((resolve) => {
        // A tunnel is no longer the HTTP server's to close: end each one here.
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

it("requests and watches go through the kubeconfig's proxy-url", async () => {
  await admin.create('/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace },
  });
  const proxy = await startConnectProxy();
  try {
    const config = parse(readFileSync(kubeconfigPath(), 'utf8')) as {
      clusters: { cluster: Record<string, unknown> }[];
    };
    for (const entry of config.clusters) entry.cluster['proxy-url'] = proxy.url;
    const path = join(dirname(kubeconfigPath()), `${namespace}.kubeconfig`);
    writeFileSync(path, stringify(config), { mode: 0o600 });
    const kube = createKube(loadKubeConfig(path), 'drop-test-proxy');
    const server = new URL(kube.transport.serverUrl);

    // The namespace may hold kube-root-ca.crt by now (kube-controller-manager publishes it).
    const list = await kube.list<KubeObject>(`/api/v1/namespaces/${namespace}/configmaps`);
    expect(list.items.map((item) => item.metadata.name)).not.toContain('through-the-proxy');
    expect(proxy.tunnels).toContain(server.host);

    const seen = watchConfigMapNames(kube, namespace, controller.signal);
    await kube.create(`/api/v1/namespaces/${namespace}/configmaps`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'through-the-proxy', namespace },
    } as never);
    await waitFor(() => seen.has('through-the-proxy'), {
      timeoutMs: 60_000,
      message: 'the watch through the proxy to see the ConfigMap',
    });
    // The list, the create, and the watch's own list and stream: each its own tunnel. The watch
    // may have seen the ConfigMap in its list, before its stream opened.
    await waitFor(() => proxy.tunnels.filter((t) => t === server.host).length >= 4, {
      timeoutMs: 60_000,
      message: `four tunnels to ${server.host} through the proxy`,
    });
  } finally {
    controller.abort();
    await proxy.close();
  }
});
