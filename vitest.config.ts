import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/test/**/*.test.ts"],
    // `*.solo.test.ts` run alone, after the others: vitest.solo.config.ts.
    exclude: ["**/node_modules/**", "data/**", ".tmp/**", "**/*.solo.test.ts"],
    globalSetup: ["test-support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: integration files run their own brokers and databases.
    maxWorkers: 2,
  },
});
