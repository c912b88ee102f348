import { Redis } from "ioredis";
import type { Cache, SetOptions } from "./cache.ts";

/** Opens a Redis connection that fails commands fast while Redis is down (callers degrade, never wait). */
export async function connectRedis(url: string, name: string): Promise<Redis> {
  const redis = new Redis(url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
  });
  redis.on("error", () => {}); // reconnection is automatic; callers see failed commands
  await redis.connect();
  return redis;
}

/** Compare-and-set of one hash field; ARGV: field, "1" when it must be absent, expected, value. */
const HCAS = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '1' then
  if current then return 0 end
elseif current ~= ARGV[3] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
return 1`;

/** The Cache port on Redis. */
export class RedisCache implements Cache {
  private constructor(private readonly redis: Redis) {}

  static async connect(url: string): Promise<RedisCache> {
    return new RedisCache(await connectRedis(url, "mcs-cache"));
  }

  async get(key: string) {
    return this.redis.get(key);
  }

  async set(key: string, value: string, options: SetOptions = {}) {
    const args: (string | number)[] = [key, value];
    if (options.ttlSeconds) args.push("EX", options.ttlSeconds);
    if (options.onlyIfAbsent) args.push("NX");
    return (await this.redis.call("SET", ...args)) === "OK";
  }

  async del(key: string) {
    await this.redis.del(key);
  }

  async hget(key: string, field: string) {
    return this.redis.hget(key, field);
  }

  async hgetall(key: string) {
    return this.redis.hgetall(key);
  }

  async hset(key: string, entries: Record<string, string>) {
    if (Object.keys(entries).length > 0) await this.redis.hset(key, entries);
  }

  async hdel(key: string, field: string) {
    await this.redis.hdel(key, field);
  }

  async hcompareAndSet(key: string, field: string, expected: string | null, value: string) {
    // A script runs atomically in Redis; WATCH/MULTI would need a connection of its own.
    return (await this.redis.eval(HCAS, 1, key, field, expected === null ? "1" : "0", expected ?? "", value)) === 1;
  }

  async ping() {
    try {
      return (await this.redis.ping()) === "PONG";
    } catch {
      return false;
    }
  }

  async close() {
    this.redis.disconnect();
  }
}
