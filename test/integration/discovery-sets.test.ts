// The users' discovery examples end to end: discover (fed by the real ApiServerSource adapter)
// writes the DiscoveryPolicy status from a real Prometheus and a real registry, reconcile-set turns
// it into children, and reconcile-image and pace cache them on the fake nodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscoverApp } from '../../functions/discover/index.ts';
import { type CachedImage, type CachedImageSet, IMAGESET_LABEL, statusWord } from '../../lib/api/index.ts';
import { labelValue, paths } from '../../lib/kube/index.ts';
import { type ApiServerSource, KUBELET_CONFIG_SECRET, startApiServerSource } from '../controlplane/index.ts';
import { DATA_END } from '../discovery/data.ts';
import { asYaml, type ExampleObject, prometheusExample, registryExample } from '../discovery/examples.ts';
import { type DiscoveryServers, startDiscoveryServers } from '../discovery/servers.ts';
import { NAMESPACE, type RunningDrop, serveOnLoopback, startDrop } from './drop.ts';
import { kubeconfigPath, kubectl, waitFor } from './harness.ts';

// The backfilled week ends at DATA_END: discover's clock stands just after it, so `lookback: 168h`
// covers the data whenever the test runs.
const NOW = new Date((DATA_END + 30) * 1000);

async function childImages(drop: RunningDrop, set: string): Promise<string[]> {
  const list = await drop.kube.list<CachedImage>(paths.cachedImages(), {
    labelSelector: `${IMAGESET_LABEL}=${labelValue(set)}`,
  });
  return list.items.map((c) => `${c.spec.image}:${c.spec.tag}`).sort();
}

describe('the discovery examples end to end', () => {
  let servers: DiscoveryServers;
  let drop: RunningDrop;
  let discover: Awaited<ReturnType<typeof serveOnLoopback>>;
  let source: ApiServerSource;
  const applied: ExampleObject[][] = [];

  beforeAll(async () => {
    servers = await startDiscoveryServers();
    // The children carry no pull secrets: the nodes log in to the private registry themselves, as
    // a kubelet with credentials in its config.json does (test/controlplane/README.md).
    const { username, password } = servers.registrySecret;
    await kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/dockerconfigjson',
        metadata: KUBELET_CONFIG_SECRET,
        stringData: {
          '.dockerconfigjson': JSON.stringify({
            auths: { [servers.basicRegistry.host]: { username, password } },
          }),
        },
      }),
    });
    drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true });
    discover = await serveOnLoopback(
      createDiscoverApp({ kube: drop.kube, namespace: NAMESPACE, now: () => NOW }),
    );
    source = await startApiServerSource({
      kubeconfigPath: kubeconfigPath(),
      sink: discover.url,
      mode: 'Reference',
      resources: [{ apiVersion: 'drop.corewire.io/v1alpha1', kind: 'DiscoveryPolicy' }],
    });
  });
  afterAll(async () => {
    for (const objects of applied)
      await kubectl(['delete', '-f', '-', '--ignore-not-found'], { input: asYaml(objects) });
    await source?.stop();
    await new Promise((r) => discover?.server.close(r));
    await drop?.stop();
    await servers?.stop();
    await kubectl([
      'delete',
      'secret',
      '-n',
      KUBELET_CONFIG_SECRET.namespace,
      KUBELET_CONFIG_SECRET.name,
      '--ignore-not-found',
    ]);
  });

  async function apply(objects: ExampleObject[]): Promise<void> {
    await kubectl(['delete', '-f', '-', '--ignore-not-found'], { input: asYaml(objects) });
    applied.push(objects);
    await kubectl(['apply', '-f', '-'], { input: asYaml(objects) });
  }

  async function untilAllReady(set: string, managed: number): Promise<CachedImageSet> {
    return waitFor(
      async () => {
        const found = await drop.kube.get<CachedImageSet>(paths.cachedImageSet(set));
        const status = found?.status;
        if (statusWord(status) === 'AllReady' && status?.imagesManaged === managed) return found;
        throw new Error(`${set}: ${statusWord(status)} ${status?.ready} ${status?.message}`);
      },
      { timeoutMs: 120_000, intervalMs: 500, message: `${set} AllReady with ${managed} images` },
    );
  }

  it('discovery-prometheus.yaml: the most used build images become cached children beside the static one', async () => {
    await apply(prometheusExample(servers));
    const set = await untilAllReady('auto-cached-ci-images', 3);
    expect(set.status).toMatchObject({ ready: '3/3', source: 'popular-build-images' });
    expect(await childImages(drop, 'auto-cached-ci-images')).toEqual([
      'docker.io/library/alpine:3.19',
      'registry.example.com/ci/builder:v3.1.0',
      'registry.example.com/ci/node:20',
    ]);
    expect(await kubectl(['get', 'discoverypolicies', 'popular-build-images', '--no-headers'])).toMatch(
      /popular-build-images\s+Synced\s+1\s+2\s/,
    );
  });

  it('discovery-registry.yaml: the newest three v-tags of each repository become cached children', async () => {
    await apply(registryExample(servers));
    await untilAllReady('registry-discovered-apps', 6);
    const images = await childImages(drop, 'registry-discovered-apps');
    expect(images).toHaveLength(6);
    for (const image of images) expect(image).toMatch(/\/team\/(frontend|backend):v\d+\./);
    const policy = await kubectl([
      'get',
      'discoverypolicies',
      'latest-app-tags',
      '-o',
      'jsonpath={.status.discoveredImages[*].image}',
    ]);
    expect(images).toEqual(policy.split(' ').sort());
  });

  it('a pipeline-form policy: its registry query’s newest tags become cached children', async () => {
    const objects: ExampleObject[] = [
      {
        apiVersion: 'drop.corewire.io/v1alpha1',
        kind: 'DiscoveryPolicy',
        metadata: { name: 'pipeline-newest-tags' },
        spec: {
          queries: [
            {
              name: 'tags',
              type: 'registry',
              registry: {
                url: servers.registry.url,
                repositories: ['team/frontend', 'team/backend'],
                tagFilter: '^v[0-9]+\\.',
                topX: 1,
              },
            },
          ],
        },
      },
      {
        apiVersion: 'drop.corewire.io/v1alpha1',
        kind: 'CachedImageSet',
        metadata: { name: 'pipeline-newest-apps' },
        spec: { discoveryPolicyRef: { name: 'pipeline-newest-tags' } },
      },
    ];
    await apply(objects);
    await untilAllReady('pipeline-newest-apps', 2);
    expect(await childImages(drop, 'pipeline-newest-apps')).toEqual([
      `${servers.registry.host}/team/backend:v0.10.1`,
      `${servers.registry.host}/team/frontend:v2.0`,
    ]);
  });
});
