import { inject } from "vitest";
import { createPgDb, createPgliteDb, MemoryBus, MemoryCache, migrate, RedisBus, RedisCache, type Ports } from "../packages/platform/src/index.ts";
import { createTestDatabase } from "./databases.ts";
import { prefixedCache } from "./prefixed-cache.ts";

export type Mode = "services" | "embedded";
export const MODES: Mode[] = ["services", "embedded"];

/**
 * The ports of one mode for a test: real PostgreSQL (a fresh database) and real Redis, or
 * PGlite in memory with the in-memory cache and bus. Migrated, ready to use.
 */
export async function openTestPorts(mode: Mode): Promise<Ports> {
  const db = mode === "services" ? createPgDb(await createTestDatabase("w")) : await createPgliteDb();
  await migrate(db);
  // One Redis for every test file, each with a database of its own: the keys get a prefix of their own too.
  const cache = mode === "services" ? prefixedCache(await RedisCache.connect(inject("redisUrl"))) : new MemoryCache();
  const bus = mode === "services" ? await RedisBus.connect(inject("redisUrl")) : new MemoryBus();
  return {
    db, cache, bus,
    async close() {
      await Promise.allSettled([bus.close(), cache.close()]);
      await db.close();
    },
  };
}
