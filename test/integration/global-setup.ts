// A control plane for each integration worker. Set DROP_TEST_KUBECONFIG to run the suites against
// a cluster you already have (e.g. the one `npm run cluster:up` started) instead.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import {
  ensureBinaries,
  startControlPlane,
  startImageStore,
  startRegistryPulls,
} from '../controlplane/index.ts';

const log = (line: string) => console.error(line);

/**
 * The simulated kubelet's helpers for one cluster, for every suite: its registry client (pulls from
 * a local test registry resolve against it: test/controlplane/README.md "Pulls from a real
 * registry") and its image store (pods with imagePullPolicy Never ask it whether the image is still
 * on their node: "Images the kubelet removed"). A second of each on a cluster is harmless: the
 * first answer written on a pod stays.
 */
function startKubeletHelpers(kubeconfigPath: string): { stop(): Promise<void> } {
  const pulls = startRegistryPulls({ kubeconfigPath });
  const store = startImageStore({ kubeconfigPath });
  return {
    async stop() {
      await pulls.stop();
      await store.stop();
    },
  };
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  // kubectl and the ApiServerSource adapter are needed whichever cluster the tests use.
  await ensureBinaries(log);
  const external = process.env.DROP_TEST_KUBECONFIG;
  if (external) {
    log(`drop: integration tests use the cluster in DROP_TEST_KUBECONFIG=${external}`);
    project.provide('kubeconfigs', [external]);
    return startKubeletHelpers(external).stop;
  }
  // One control plane per worker (vitest.config.ts runs the integration files on several at once);
  // each file claims one no other running file holds (claim.ts), as when they ran one at a time.
  // A fresh state dir for each: never the user's .drop/ cluster, never another run's.
  const count = Math.max(1, Number(project.config.maxWorkers) || 1);
  const started = Date.now();
  const settled = await Promise.allSettled(
    Array.from({ length: count }, async () => {
      const stateDir = mkdtempSync(join(tmpdir(), 'drop-test-cluster-'));
      // A failure here fails the run with the reason and the components' log tails: tests never skip.
      const plane = await startControlPlane({ stateDir, log });
      return { stateDir, plane, helpers: startKubeletHelpers(plane.kubeconfigPath) };
    }),
  );
  const planes = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const stop = async () => {
    await Promise.all(
      planes.map(async ({ stateDir, plane, helpers }) => {
        await helpers.stop();
        await plane.stop();
        if (process.env.DROP_KEEP_TEST_CLUSTER) log(`drop: kept ${stateDir} (DROP_KEEP_TEST_CLUSTER)`);
        else rmSync(stateDir, { recursive: true, force: true });
      }),
    );
  };
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) {
    // The planes that did start are stopped: a failed setup leaves no processes behind.
    await stop();
    throw failed.reason;
  }
  const dirs = planes.map(({ stateDir }) => stateDir).join(', ');
  log(
    `drop: ${count} test control plane(s) ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${dirs})`,
  );
  project.provide(
    'kubeconfigs',
    planes.map(({ plane }) => plane.kubeconfigPath),
  );
  return stop;
}
