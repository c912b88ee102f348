import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

/**
 * Tests that measure what a user feels (a page's long tasks), run after the others and
 * alone: on two shared cores a parallel suite would measure the machine's load instead.
 */
export default defineConfig({
  test: { ...base.test, include: ["**/test/**/*.solo.test.ts"], exclude: ["**/node_modules/**"], maxWorkers: 1 },
});
