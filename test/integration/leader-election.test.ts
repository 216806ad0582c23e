// Standalone replicas with leader election (the chart's replicaCount > 1): exactly one runs Drop,
// the others only ask for the Lease; the standby takes over when the leader stops (at once, as it
// releases the Lease) or crashes (once the Lease expires); and the entrypoint the image runs turns
// it on from DROP_LEADER_ELECTION. All with the standalone ServiceAccount's own token.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { CachedImage, CachedImageSet } from '../../lib/api/index.ts';
import { type Lease, microTime } from '../../lib/controller/lease-holder.ts';
import { createKube, loadKubeConfig, paths } from '../../lib/kube/index.ts';
import { createLogger } from '../../lib/log.ts';
import { readSources } from '../../standalone/config-files.ts';
import { LEADER_LEASE } from '../../standalone/leader.ts';
import { type Standalone, startStandalone } from '../../standalone/standalone.ts';
import { CONFIG_DIR, NAMESPACE } from '../config/manifests.ts';
import { createNodes, deleteNodes, NODE_SET_LABEL } from '../controlplane/index.ts';
import { freePorts, isRunning, startProcess, stopProcess } from '../controlplane/processes.ts';
import { type AuditedKube, auditedKube } from './audited-kube.ts';
import { kubeconfigPath, uniqueName, waitFor } from './harness.ts';
import { cachedImage, cachedImageSet, isReady } from './objects.ts';
import { standaloneKubeconfig } from './service-accounts.ts';

const admin = createKube(loadKubeConfig(kubeconfigPath()), 'drop-test');
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function holderOf(lease: string): Promise<string | undefined> {
  return (await admin.get<Lease>(paths.lease(NAMESPACE, lease)))?.spec?.holderIdentity;
}

async function replica(
  identity: string,
  lease: string,
): Promise<{ running: Standalone; audit: AuditedKube }> {
  const audit = auditedKube(await standaloneKubeconfig(), 'drop-standalone');
  const running = await startStandalone({
    kube: audit.kube,
    namespace: NAMESPACE,
    sources: readSources(CONFIG_DIR, NAMESPACE),
    log: createLogger({ component: identity }),
    port: 0,
    hostname: '127.0.0.1',
    leaderElection: { identity, lease },
  });
  cleanups.push(() => running.stop());
  return { running, audit };
}

/** A CachedImage on a fresh node of its own; resolves once it is cached there. */
async function cacheOnNewNodes(name: string): Promise<void> {
  const nodes = await createNodes(1, { kubeconfigPath: kubeconfigPath(), prefix: name });
  cleanups.push(() => deleteNodes(kubeconfigPath(), nodes));
  cleanups.push(() => admin.delete(paths.cachedImage(name)));
  await admin.create(
    paths.cachedImages(),
    cachedImage(name, {
      image: `registry.example/leader/${name}`,
      tag: '1',
      nodeSelector: { [NODE_SET_LABEL]: name },
    }),
  );
  await waitFor(async () => isReady(await admin.get<CachedImage>(paths.cachedImage(name))), {
    timeoutMs: 90_000,
    message: `CachedImage ${name} ready`,
  });
}

describe('standalone replicas with leader election', () => {
  it('one runs Drop and the other only asks for the Lease; the standby takes over when the leader stops', async () => {
    const lease = uniqueName('drop-standalone-test');
    cleanups.push(() => admin.delete(paths.lease(NAMESPACE, lease)));
    const a = await replica('replica-a', lease);
    await waitFor(() => a.running.leading(), { timeoutMs: 30_000, message: 'replica-a leading' });
    const b = await replica('replica-b', lease);
    const leaseRequests = (audit: AuditedKube) => audit.requests.filter((r) => r.resource === 'leases');
    await waitFor(() => leaseRequests(b.audit).length >= 3, {
      timeoutMs: 60_000,
      message: 'replica-b asked for the Lease a few times',
    });
    expect(b.running.leading()).toBe(false);
    expect(await holderOf(lease)).toBe('replica-a');

    const name = uniqueName('leader-set');
    const nodes = await createNodes(1, { kubeconfigPath: kubeconfigPath(), prefix: name });
    cleanups.push(() => deleteNodes(kubeconfigPath(), nodes));
    cleanups.push(async () => {
      await admin.delete(paths.cachedImageSet(name));
      for (const c of (await admin.list<CachedImage>(paths.cachedImages())).items)
        if (c.metadata.labels?.['drop.corewire.io/imageset'] === name)
          await admin.delete(paths.cachedImage(c.metadata.name));
    });
    await admin.create(
      paths.cachedImageSets(),
      cachedImageSet(name, {
        images: [{ image: 'registry.example/leader/x', tag: '1' }],
        nodeSelector: { [NODE_SET_LABEL]: name },
      }),
    );
    await waitFor(async () => isReady(await admin.get<CachedImageSet>(paths.cachedImageSet(name))), {
      timeoutMs: 90_000,
      message: `CachedImageSet ${name} ready`,
    });
    // The standby opened no watch and touched nothing but the Lease.
    expect(b.audit.requests.filter((r) => r.resource !== 'leases')).toEqual([]);
    expect(a.audit.requests.some((r) => r.verb === 'watch')).toBe(true);

    await a.running.stop();
    expect(a.running.leading()).toBe(false);
    await waitFor(() => b.running.leading(), { timeoutMs: 30_000, message: 'replica-b took over' });
    expect(await holderOf(lease)).toBe('replica-b');
    await cacheOnNewNodes(uniqueName('after-handover'));
    expect(b.audit.requests.some((r) => r.verb === 'watch')).toBe(true);
    const refused = [...a.audit.requests, ...b.audit.requests].filter(
      (r) => r.status === 401 || r.status === 403,
    );
    expect(refused).toEqual([]);
  });

  it('takes the Lease of a replica that crashed only once that Lease has expired', async () => {
    const lease = uniqueName('drop-standalone-crashed');
    cleanups.push(() => admin.delete(paths.lease(NAMESPACE, lease)));
    const renewed = new Date();
    await admin.create(paths.leases(NAMESPACE), {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: lease, namespace: NAMESPACE },
      spec: {
        holderIdentity: 'crashed-replica',
        leaseDurationSeconds: 5,
        acquireTime: microTime(renewed),
        renewTime: microTime(renewed),
      },
    } as Lease);
    const c = await replica('replica-c', lease);
    await waitFor(() => c.audit.requests.filter((r) => r.resource === 'leases').length >= 1, {
      message: 'replica-c asked for the Lease',
    });
    await waitFor(() => c.running.leading(), { timeoutMs: 30_000, message: 'replica-c took over' });
    // Never before the crashed holder's Lease ran out (the API server stores renewTime in µs).
    expect(Date.now() - renewed.getTime()).toBeGreaterThanOrEqual(5_000);
    expect(await holderOf(lease)).toBe('replica-c');
    await c.running.stop();
    expect(await holderOf(lease)).toBeUndefined();
  });
});

describe('the standalone entrypoint (standalone/main.ts) with DROP_LEADER_ELECTION=true', () => {
  it('holds the Lease drop-standalone while it runs and releases it on SIGTERM', async () => {
    await admin.delete(paths.lease(NAMESPACE, LEADER_LEASE));
    cleanups.push(() => admin.delete(paths.lease(NAMESPACE, LEADER_LEASE)));
    const [port] = await freePorts(1);
    const dir = mkdtempSync(join(tmpdir(), 'drop-leader-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const main = new URL('../../standalone/main.ts', import.meta.url).pathname;
    const pid = startProcess(process.execPath, ['--import', loader, main], {
      logFile: join(dir, 'standalone.log'),
      detached: false,
      env: {
        ...process.env,
        KUBECONFIG: await standaloneKubeconfig(),
        DROP_NAMESPACE: NAMESPACE,
        DROP_CONFIG_DIR: CONFIG_DIR,
        DROP_LEADER_ELECTION: 'true',
        HOST: '127.0.0.1',
        PORT: String(port),
      },
    });
    cleanups.push(() => stopProcess(pid));
    await waitFor(async () => (await holderOf(LEADER_LEASE))?.includes(`-${pid}-`), {
      timeoutMs: 60_000,
      message: `the runner (pid ${pid}) holds ${LEADER_LEASE}`,
    });
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    await stopProcess(pid, 30_000);
    expect(isRunning(pid)).toBe(false);
    expect(await holderOf(LEADER_LEASE)).toBeUndefined();
  });
});
