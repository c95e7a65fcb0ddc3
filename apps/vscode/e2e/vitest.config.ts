import { defineConfig } from 'vitest/config';

/**
 * The end-to-end tests (`npm run e2e`): a real tickets server, code-server and Chromium. Kept
 * apart from the unit tests' config so those stay fast. One scenario file at a time: each starts
 * its own servers and browser, and the machine has two cores.
 */
export default defineConfig({
  test: {
    root: new URL('.', import.meta.url).pathname,
    include: ['**/*.e2e.ts'],
    globalSetup: ['support/globalSetup.ts'],
    fileParallelism: false,
    // Hang guards, not expectations: each wait inside ends as soon as what it waits for shows.
    testTimeout: 180_000,
    hookTimeout: 240_000,
  },
});
