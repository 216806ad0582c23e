import { defineConfig } from 'vitest/config';

// The integration files run on this many workers at once, against a control plane per worker
// (test/integration/global-setup.ts) that each file claims for itself (test/integration/claim.ts).
// A cluster given in DROP_TEST_KUBECONFIG is one cluster: its files run one at a time. Three by
// default: the files mostly wait out real clocks (pulls, grace periods, pacing), so on a 2-core
// machine three at once kept the load near 3 and took the integration files from 22 min one at a
// time to 8–9 min (README "Tests").
const integrationWorkers = process.env.DROP_TEST_KUBECONFIG
  ? 1
  : Math.max(1, Number(process.env.DROP_TEST_WORKERS ?? '3') || 1);

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          // Before the integration files (groupOrder 1), not beside them.
          sequence: { groupOrder: 0 },
          // Generous for a busy machine: a unit test is fast or wrong, never judged by vitest's 5 s.
          testTimeout: 60_000,
          include: [
            'lib/**/*.test.ts',
            'functions/**/*.test.ts',
            'scripts/**/*.test.ts',
            'standalone/**/*.test.ts',
            'test/unit/**/*.test.ts',
            'test/chaos/**/*.test.ts',
          ],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          // Each file claims a cluster of its own before its code runs (test/integration/claim.ts).
          setupFiles: ['test/integration/claim-cluster.ts'],
          testTimeout: 120_000,
          // One JSON line per handled event is for operators; in a test run it buries the report.
          env: { DROP_LOG_LEVEL: process.env.DROP_LOG_LEVEL ?? 'warn' },
          hookTimeout: 180_000,
          maxWorkers: integrationWorkers,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
