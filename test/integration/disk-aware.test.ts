// Disk-aware caching on the control plane: a node with DiskPressure is skipped (the status says so)
// and gets the image once the pressure clears; maxImageSize, the image's or its policy's, is checked
// against the size a real registry lists for the manifest.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CachedImage, statusWord } from '../../lib/api/index.ts';
import { type Pod, paths } from '../../lib/kube/index.ts';
import { pullPodSelectorFor } from '../../lib/pull-pod.ts';
import { createNodes, deleteNodes } from '../controlplane/index.ts';
import { ensureDiscoveryServers } from '../discovery/process.ts';
import { pushImage, startRegistry, type TestRegistry } from '../discovery/registry.ts';
import { NAMESPACE, type RunningDrop, startDrop } from './drop.ts';
import { kubeconfigPath, kubectl, uniqueName, waitFor } from './harness.ts';
import { cachedImage, pullPolicy } from './objects.ts';

const LAYER_BYTES = 3000;

describe('disk-aware caching', () => {
  let dir: string;
  let registry: TestRegistry;
  let drop: RunningDrop;
  let nodes: string[] = [];
  const pool = uniqueName('disk');
  const policy = uniqueName('disk-policy');
  const created: string[] = [];

  beforeAll(async () => {
    ensureDiscoveryServers();
    dir = mkdtempSync(join(tmpdir(), 'drop-disk-aware-'));
    const storageDir = join(dir, 'storage');
    mkdirSync(storageDir);
    registry = await startRegistry({ dir, name: 'open', storageDir, auth: { kind: 'none' } });
    await pushImage(registry.url, 'team/app', ['1.0'], { layers: [LAYER_BYTES] });
    nodes = await createNodes(2, {
      kubeconfigPath: kubeconfigPath(),
      prefix: pool,
      labels: { 'drop.test/pool': pool },
    });
    drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true });
    await drop.kube.create(
      paths.pullPolicies(),
      pullPolicy(policy, { maxConcurrentNodes: 4, minDelayBetweenPulls: '0s', maxConcurrentPullsPerNode: 4 }),
    );
  });
  afterAll(async () => {
    for (const name of created) await drop?.kube.delete(paths.cachedImage(name));
    await drop?.kube.delete(paths.pullPolicy(policy));
    await drop?.stop();
    await deleteNodes(kubeconfigPath(), nodes);
    await registry?.server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function create(name: string, spec: Record<string, unknown>): Promise<void> {
    created.push(name);
    await drop.kube.create(
      paths.cachedImages(),
      cachedImage(name, {
        image: `${registry.host}/team/app`,
        tag: '1.0',
        nodeSelector: { 'drop.test/pool': pool },
        policyRef: { name: policy },
        ...spec,
      }),
    );
  }

  async function until(
    name: string,
    done: (image: CachedImage) => boolean,
    what: string,
  ): Promise<CachedImage> {
    return waitFor(
      async () => {
        const image = await drop.kube.get<CachedImage>(paths.cachedImage(name));
        if (image?.status?.observedGeneration === image?.metadata.generation && image && done(image))
          return image;
        throw new Error(JSON.stringify(image?.status));
      },
      { timeoutMs: 90_000, intervalMs: 300, message: `${name}: ${what}` },
    );
  }

  async function diskPressure(node: string, on: boolean): Promise<void> {
    const condition = {
      type: 'DiskPressure',
      status: on ? 'True' : 'False',
      reason: on ? 'KubeletHasDiskPressure' : 'KubeletHasNoDiskPressure',
      message: on ? 'kubelet has disk pressure' : 'kubelet has no disk pressure',
      lastHeartbeatTime: new Date().toISOString(),
      lastTransitionTime: new Date().toISOString(),
    };
    // A strategic merge patch merges conditions by type: the others stay as kwok keeps them.
    await kubectl([
      'patch',
      'node',
      node,
      '--subresource=status',
      '--type=strategic',
      '-p',
      JSON.stringify({ status: { conditions: [condition] } }),
    ]);
  }

  async function podsOn(name: string, node: string): Promise<Pod[]> {
    const list = await drop.kube.list<Pod>(paths.pods(NAMESPACE), {
      labelSelector: pullPodSelectorFor(name),
    });
    return list.items.filter((p) => p.spec?.nodeName === node);
  }

  it('a node with DiskPressure is skipped, said so in status and Events, and warmed once it clears', async () => {
    const [healthy = '', pressed = ''] = nodes;
    await diskPressure(pressed, true);
    const name = uniqueName('disk-skip');
    await create(name, {});
    const skipped = await until(name, (i) => statusWord(i.status) === 'Cached', 'Cached on the healthy node');
    expect(skipped.status?.ready).toBe('1/1');
    expect(skipped.status?.cachedNodes).toEqual([healthy]);
    expect(skipped.status?.skipped).toEqual([
      expect.objectContaining({ reason: 'DiskPressure', nodes: 1, examples: [pressed] }),
    ]);
    expect(skipped.status?.message).toMatch(/1 node skipped: DiskPressure/);
    expect(await podsOn(name, pressed)).toEqual([]);
    const table = await kubectl(['describe', 'cachedimage', name]);
    expect(table).toMatch(/NodesSkipped/);

    await diskPressure(pressed, false);
    const resumed = await until(name, (i) => i.status?.ready === '2/2', 'Cached on both nodes');
    expect(resumed.status?.skipped ?? []).toEqual([]);
    expect([...(resumed.status?.cachedNodes ?? [])].sort()).toEqual([healthy, pressed].sort());
  });

  it('an image over its maxImageSize is refused with the sizes; one within its policy’s is cached', async () => {
    const name = uniqueName('too-large');
    await create(name, { maxImageSize: '1Ki' });
    const refused = await until(name, (i) => statusWord(i.status) === 'ImageTooLarge', 'ImageTooLarge');
    expect(refused.status?.message).toMatch(
      new RegExp(
        `${registry.host}/team/app:1\\.0 is 3\\.\\d KiB \\(\\d+ bytes, as its registry lists the manifest\\), over maxImageSize 1Ki \\(spec\\.maxImageSize\\)`,
      ),
    );
    expect(refused.status?.manifest).toMatchObject({ reference: `${registry.host}/team/app:1.0` });
    expect(refused.status?.manifest?.size).toBeGreaterThan(LAYER_BYTES);
    expect(refused.status?.ready).toMatch(/^0\//);
    for (const node of nodes) expect(await podsOn(name, node)).toEqual([]);
    expect(await kubectl(['describe', 'cachedimage', name])).toMatch(/ImageTooLarge/);

    const fits = uniqueName('fits');
    await drop.kube.mergePatch(paths.pullPolicy(policy), { spec: { maxImageSize: '1Mi' } });
    await create(fits, {});
    const cached = await until(
      fits,
      (i) => statusWord(i.status) === 'Cached',
      'Cached under the policy’s 1Mi',
    );
    expect(cached.status?.manifest?.size).toBeGreaterThan(LAYER_BYTES);
  });
});
