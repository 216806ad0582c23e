// Drop's own registry client (lib/registry) against the real registry and the refusing proxy:
// the digest a HEAD gives, the size a GET adds up, and what a 404, 401 and 429 mean.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkManifest } from '../../lib/registry/index.ts';
import { freePorts } from '../controlplane/processes.ts';
import { ensureDiscoveryServers } from '../discovery/process.ts';
import { pushImage, startRegistry, type TestRegistry } from '../discovery/registry.ts';
import { type RegistryProxy, startRegistryProxy } from '../discovery/registry-proxy.ts';

describe('lib/registry against a real registry', () => {
  let dir: string;
  let registry: TestRegistry;
  let proxy: RegistryProxy;
  let first: string;

  beforeAll(async () => {
    ensureDiscoveryServers();
    dir = mkdtempSync(join(tmpdir(), 'drop-registry-manifest-'));
    const storageDir = join(dir, 'storage');
    mkdirSync(storageDir);
    registry = await startRegistry({ dir, name: 'open', storageDir, auth: { kind: 'none' } });
    proxy = await startRegistryProxy(registry.url);
    first = await pushImage(registry.url, 'team/app', ['1.0'], { layers: [2000, 48] });
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const ref = (host: string, tag: string) => ({ registry: host, repository: 'team/app', tag });

  it('HEAD gives the digest (over plain HTTP on loopback); GET adds the manifest’s size', async () => {
    const now = new Date();
    expect(await checkManifest({ ref: ref(registry.host, '1.0'), now })).toEqual({ ok: true, digest: first });
    const sized = await checkManifest({ ref: ref(registry.host, '1.0'), now, size: true });
    expect(sized).toMatchObject({ ok: true, digest: first });
    expect(sized.ok && sized.size).toBeGreaterThan(2048);
  });

  it('a moved tag gives the new digest', async () => {
    const moved = await pushImage(registry.url, 'team/app', ['moving'], { variant: 'a' });
    expect(await checkManifest({ ref: ref(registry.host, 'moving'), now: new Date() })).toEqual({
      ok: true,
      digest: moved,
    });
    const again = await pushImage(registry.url, 'team/app', ['moving'], { variant: 'b' });
    expect(again).not.toBe(moved);
    expect(await checkManifest({ ref: ref(registry.host, 'moving'), now: new Date() })).toEqual({
      ok: true,
      digest: again,
    });
  });

  it('a missing tag is NotFound; a closed port Unreachable', async () => {
    expect(await checkManifest({ ref: ref(registry.host, 'missing'), now: new Date() })).toMatchObject({
      ok: false,
      reason: 'NotFound',
    });
    const [port] = await freePorts(1);
    expect(await checkManifest({ ref: ref(`127.0.0.1:${port}`, '1.0'), now: new Date() })).toMatchObject({
      ok: false,
      reason: 'Unreachable',
    });
  });

  it('a 429 is RateLimited with the Retry-After; a 401 without a pull secret is Unauthorized', async () => {
    proxy.refuse({ status: 429, retryAfterSeconds: 42, times: 1 });
    expect(await checkManifest({ ref: ref(proxy.host, '1.0'), now: new Date() })).toMatchObject({
      ok: false,
      reason: 'RateLimited',
      retryAfterMs: 42_000,
    });
    proxy.refuse({ status: 401, times: 1 });
    expect(await checkManifest({ ref: ref(proxy.host, '1.0'), now: new Date() })).toMatchObject({
      ok: false,
      reason: 'Unauthorized',
    });
    expect(await checkManifest({ ref: ref(proxy.host, '1.0'), now: new Date() })).toEqual({
      ok: true,
      digest: first,
    });
  });
});
