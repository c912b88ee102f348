import type { TestProject } from "vitest/node";
import { startPostgres } from "./postgres.ts";
import { startRedis } from "./redis.ts";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
    redisUrl: string;
  }
}

/**
 * One throwaway PostgreSQL and one Redis for the whole run; each test file makes its own
 * database (see `test-support/databases.ts`) and its own Redis key prefix. A missing
 * service is a failure, never a skip.
 */
export default async function setup(project: TestProject) {
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  project.provide("postgresUrl", postgres.url);
  project.provide("redisUrl", redis.url);
  return async () => {
    postgres.stop();
    await redis.stop();
  };
}
