// Digest drift against a real registry: moving a tag to a new digest re-pulls exactly the nodes
// that hold the old one, OUTDATED counts down to 0, and an unchanged tag causes no pull.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CachedImage, statusWord } from '../../lib/api/index.ts';
import { paths } from '../../lib/kube/index.ts';
import { createNodes, deleteNodes } from '../controlplane/index.ts';
import { ensureDiscoveryServers } from '../discovery/process.ts';
import { pushImage, startRegistry, type TestRegistry } from '../discovery/registry.ts';
import { NAMESPACE, ping, type RunningDrop, startDrop } from './drop.ts';
import { kubeconfigPath, kubectl, uniqueName, waitFor } from './harness.ts';
import { cachedImage, pullPolicy } from './objects.ts';
import { samplePulls } from './pull-sampler.ts';

describe('digest drift', { timeout: 240_000 }, () => {
  let dir: string;
  let registry: TestRegistry;
  let drop: RunningDrop;
  let nodes: string[] = [];
  let pinging = true;
  let pinger: Promise<void> | undefined;
  const pool = uniqueName('drift');
  const policy = uniqueName('drift-policy');
  const name = uniqueName('drift-image');

  beforeAll(async () => {
    ensureDiscoveryServers();
    dir = mkdtempSync(join(tmpdir(), 'drop-drift-'));
    const storageDir = join(dir, 'storage');
    mkdirSync(storageDir);
    registry = await startRegistry({ dir, name: 'open', storageDir, auth: { kind: 'none' } });
    nodes = await createNodes(3, {
      kubeconfigPath: kubeconfigPath(),
      prefix: pool,
      labels: { 'drop.test/pool': pool },
    });
    drop = await startDrop({ kubeconfigPath: kubeconfigPath(), events: true });
    await drop.kube.create(
      paths.pullPolicies(),
      pullPolicy(policy, {
        maxConcurrentNodes: 3,
        minDelayBetweenPulls: '0s',
        maxConcurrentPullsPerNode: 4,
        digestCheckInterval: '2s',
      }),
    );
    // reconcile-image asks the registry when it runs and the last answer is old enough: the resync
    // ping (every 5 minutes from the PingSource) is sent here every 2 s.
    pinger = (async () => {
      while (pinging) {
        await new Promise((r) => setTimeout(r, 2_000));
        if (pinging) await ping(drop.reconcileImageUrl).catch(() => undefined);
      }
    })();
  });
  afterAll(async () => {
    pinging = false;
    await pinger;
    await drop?.kube.delete(paths.cachedImage(name));
    await drop?.kube.delete(paths.pullPolicy(policy));
    await drop?.stop();
    await deleteNodes(kubeconfigPath(), nodes);
    await registry?.server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = () => drop.kube.get<CachedImage>(paths.cachedImage(name));
  async function until(done: (image: CachedImage) => boolean, what: string, seen?: (i: CachedImage) => void) {
    return waitFor(
      async () => {
        const image = await get();
        if (image) seen?.(image);
        if (image && done(image)) return image;
        throw new Error(JSON.stringify(image?.status));
      },
      { timeoutMs: 120_000, intervalMs: 250, message: what },
    );
  }

  it('a moved tag re-pulls exactly the nodes holding the old digest; OUTDATED counts down; an unchanged tag pulls nothing', async () => {
    const first = await pushImage(registry.url, 'team/drift', ['1.0'], { variant: 'first' });
    await drop.kube.create(
      paths.cachedImages(),
      cachedImage(name, {
        image: `${registry.host}/team/drift`,
        tag: '1.0',
        nodeSelector: { 'drop.test/pool': pool },
        policyRef: { name: policy },
      }),
    );
    const cached = await until(
      (i) =>
        statusWord(i.status) === 'Cached' &&
        i.status?.outdated === '0/3' &&
        i.status?.manifest?.digest === first,
      'Cached, 0/3 outdated',
    );
    expect(cached.status?.digests).toEqual([{ digest: first, nodes: [...nodes].sort() }]);

    const sampler = samplePulls(drop.kube, NAMESPACE);
    const second = await pushImage(registry.url, 'team/drift', ['1.0'], { variant: 'second' });
    expect(second).not.toBe(first);
    const outdatedSeen = new Set<string>();
    const moved = await until(
      (i) =>
        i.status?.manifest?.digest === second &&
        i.status?.outdated === '0/3' &&
        i.status.resolvedDigest === second,
      'every node on the new digest',
      (i) => i.status?.outdated && outdatedSeen.add(i.status.outdated),
    );
    expect(moved.status?.digests).toEqual([{ digest: second, nodes: [...nodes].sort() }]);
    expect([...outdatedSeen].some((o) => o !== '0/3')).toBe(true);
    expect(sampler.startsOf(name)).toHaveLength(3);

    // Unchanged: two more checks later, no pull started.
    const checkedAt = moved.status?.manifest?.checkedAt ?? '';
    await until((i) => (i.status?.manifest?.checkedAt ?? '') > checkedAt, 'another check');
    const again = (await get())?.status?.manifest?.checkedAt ?? '';
    await until((i) => (i.status?.manifest?.checkedAt ?? '') > again, 'one more check');
    await sampler.stop();
    expect(sampler.startsOf(name)).toHaveLength(3);
    const wide = await kubectl(['get', 'cachedimage', name, '-o', 'wide']);
    expect(wide).toMatch(/OUTDATED/);
    expect(wide).toMatch(/\s0\/3\s/);
    expect(await kubectl(['describe', 'cachedimage', name])).toMatch(/DigestChanged/);
  });
});
