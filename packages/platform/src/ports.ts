import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Bus } from "./bus/bus.ts";
import { MemoryBus } from "./bus/memory-bus.ts";
import { RedisBus } from "./bus/redis-bus.ts";
import type { Cache } from "./cache/cache.ts";
import { MemoryCache } from "./cache/memory-cache.ts";
import { RedisCache } from "./cache/redis-cache.ts";
import type { Config } from "./config.ts";
import type { Db } from "./db/db.ts";
import { migrate } from "./db/migrate.ts";
import { createPgDb } from "./db/pg-db.ts";
import { createPgliteDb } from "./db/pglite-db.ts";

export interface Ports {
  db: Db;
  cache: Cache;
  bus: Bus;
  close(): Promise<void>;
}

/**
 * The database, cache and bus the configuration names: a URL selects the real service,
 * no URL the embedded one. The schema is migrated before anything uses it.
 */
export async function openPorts(config: Pick<Config, "databaseUrl" | "redisUrl" | "dataDir">): Promise<Ports> {
  let db: Db;
  if (config.databaseUrl) {
    db = createPgDb(config.databaseUrl);
  } else {
    const dir = join(config.dataDir, "pglite");
    await mkdir(dir, { recursive: true });
    db = await createPgliteDb(dir);
  }
  await migrate(db);
  const cache: Cache = config.redisUrl ? await RedisCache.connect(config.redisUrl) : new MemoryCache();
  const bus: Bus = config.redisUrl ? await RedisBus.connect(config.redisUrl) : new MemoryBus();
  return {
    db,
    cache,
    bus,
    async close() {
      await Promise.allSettled([bus.close(), cache.close()]);
      await db.close();
    },
  };
}
