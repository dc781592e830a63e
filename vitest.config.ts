import { defineConfig } from 'vitest/config';

// Two projects: "unit" runs in parallel and needs nothing outside Node; "lab" drives the real
// two-host lab (sshd, QEMU) and runs one file at a time because guests are heavy on 2 cores.
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
    ],
  },
});
