// One control plane for every integration suite. Set DROP_TEST_KUBECONFIG to run the suites against
// a cluster you already have (e.g. the one `npm run cluster:up` started) instead.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureBinaries, startControlPlane } from '../controlplane/index.ts';

const log = (line: string) => console.error(line);

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  // kubectl and the ApiServerSource adapter are needed whichever cluster the tests use.
  await ensureBinaries(log);
  const external = process.env.DROP_TEST_KUBECONFIG;
  if (external) {
    log(`drop: integration tests use the cluster in DROP_TEST_KUBECONFIG=${external}`);
    project.provide('kubeconfig', external);
    return undefined;
  }
  // A fresh state dir per run: never the user's .drop/ cluster, never another run's.
  const stateDir = mkdtempSync(join(tmpdir(), 'drop-test-cluster-'));
  const started = Date.now();
  // A failure here fails the run with the reason and the components' log tails: tests never skip.
  const plane = await startControlPlane({ stateDir, log });
  log(`drop: test control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${stateDir})`);
  project.provide('kubeconfig', plane.kubeconfigPath);
  return async () => {
    await plane.stop();
    if (process.env.DROP_KEEP_TEST_CLUSTER) log(`drop: kept ${stateDir} (DROP_KEEP_TEST_CLUSTER)`);
    else rmSync(stateDir, { recursive: true, force: true });
  };
}
