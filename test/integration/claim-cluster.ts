// The integration project's setup file (vitest.config.ts): runs in each file's process before the
// file's own code, and claims the cluster the file will use (claim.ts).
import { claimCluster } from './harness.ts';

await claimCluster();
