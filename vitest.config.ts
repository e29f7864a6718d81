// Shared machines are slow and noisy: property tests that spawn /bin/sh or grub-script-check a
// few hundred times need more than vitest's 5 s default under load. e2e tests set their own.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
