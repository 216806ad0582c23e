import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
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
          testTimeout: 120_000,
          // One JSON line per handled event is for operators; in a test run it buries the report.
          env: { DROP_LOG_LEVEL: process.env.DROP_LOG_LEVEL ?? 'warn' },
          hookTimeout: 180_000,
          // One shared control plane; suites isolate by unique names, not by process.
          fileParallelism: false,
        },
      },
    ],
  },
});
