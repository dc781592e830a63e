import { defineConfig } from 'vitest/config';

// "unit" runs in parallel and needs nothing outside Node; "lab" drives the real two-host lab (sshd,
// QEMU) and runs one file at a time because guests are heavy on 2 cores; "upgrade" and "qemu10"
// run the migration tests with QEMU 10.0 on one or both hosts.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx'],
          // Component tests opt into jsdom with a `// @vitest-environment jsdom` first line.
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          globalSetup: ['test/support/lab-global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
      // The migration tests again on other QEMU pairs (issue 16): each project restarts the lab's
      // hosts with its QEMUs, so each runs in a vitest run of its own (see test/run-all.sh).
      {
        test: {
          name: 'upgrade',
          include: ['test/integration/migration/modes.test.ts', 'test/qemu-versions/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          globalSetup: ['test/support/upgrade-lab-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'qemu10',
          include: ['test/integration/migration/modes.test.ts'],
          environment: 'node',
          fileParallelism: false,
          globalSetup: ['test/support/qemu10-lab-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
