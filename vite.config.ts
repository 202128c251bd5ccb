import { sveltekit } from '@sveltejs/kit/vite';
import tailwindcss from '@tailwindcss/vite';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [tailwindcss(), sveltekit()],
  // The Agora video SDK (~1.5 MB) is its own chunk, loaded only when a live class hands out a video token.
  build: { chunkSizeWarningLimit: 1800 },
  environments: {
    client: {
      build: {
        rolldownOptions: {
          output: {
            codeSplitting: {
              groups: [
                { name: 'framework', test: /node_modules[\\/](svelte|@sveltejs[\\/]kit|esm-env|devalue|clsx)[\\/]/, priority: 2 },
                {
                  name: 'socket',
                  test: /node_modules[\\/](socket\.io-client|socket\.io-parser|engine\.io-client|engine\.io-parser|@socket\.io|debug|ms|xmlhttprequest-ssl)[\\/]/,
                  priority: 1,
                },
              ],
            },
          },
        },
      },
    },
  },
  test: {
    // Test files mostly wait on PostgreSQL, Redis, sockets and the browser rather than on the CPU, and each worker has a
    // database of its own (test/db.ts): three at once even on two cores (Vitest's default there is one) halves the run.
    maxWorkers: Math.max(3, availableParallelism() - 1),
    projects: [
      {
        extends: true,
        test: {
          name: 'server',
          environment: 'node',
          include: ['{contracts,domain,orm,api,realtime,server,scripts}/**/*.test.ts'],
          globalSetup: ['test/globalSetup.ts'],
          setupFiles: ['test/workerSetup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
      {
        extends: true,
        test: {
          name: 'web',
          environment: 'node',
          include: ['web/src/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          environment: 'node',
          include: ['web/e2e/**/*.test.ts'],
          globalSetup: ['test/globalSetup.ts'],
          testTimeout: 90_000,
          hookTimeout: 180_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
    ],
  },
});
