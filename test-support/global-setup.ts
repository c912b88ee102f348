import type { TestProject } from "vitest/node";
import { buildFrontendIfStale } from "../frontend/scripts/build-if-stale.ts";
import { startPostgres } from "./postgres.ts";
import { startRedis } from "./redis.ts";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
    redisUrl: string;
    /** Why the frontend could not be built for this run; empty when it was (see `requireBuiltSite`). */
    frontendBuildError: string;
  }
}

/**
 * One throwaway PostgreSQL and one Redis for the whole run; each test file makes its own
 * database (see `test-support/databases.ts`) and its own Redis key prefix. A missing
 * service is a failure, never a skip.
 *
 * The frontend is built here, once, before any file runs (the browser tests read
 * `frontend/dist`; five files building it at once raced). A failed build does not stop the
 * run: every browser test then fails with the build's error, the other files run as usual.
 */
export default async function setup(project: TestProject) {
  const [postgres, redis, frontendBuildError] = await Promise.all([
    startPostgres(),
    startRedis(),
    buildFrontendIfStale({ quiet: true }).then(() => "", (error: Error) => error.message),
  ]);
  if (frontendBuildError) console.error(`global set-up: ${frontendBuildError}`);
  project.provide("postgresUrl", postgres.url);
  project.provide("redisUrl", redis.url);
  project.provide("frontendBuildError", frontendBuildError);
  return async () => {
    postgres.stop();
    await redis.stop();
  };
}
