import { randomBytes } from "node:crypto";
import type { Cache } from "../packages/platform/src/index.ts";

/**
 * The Cache with every key under a prefix of its own: in services mode all test files share
 * one Redis, and one file's keys (a user's session index `mcs:user-sessions:3`, the worker's
 * `mcs:lock:notify`, `alarm:last:…`) must not meet another's.
 */
export function prefixedCache(cache: Cache, prefix = `t${randomBytes(4).toString("hex")}:`): Cache {
  const k = (key: string) => `${prefix}${key}`;
  return {
    get: (key) => cache.get(k(key)),
    set: (key, value, options) => cache.set(k(key), value, options),
    del: (key) => cache.del(k(key)),
    hget: (key, field) => cache.hget(k(key), field),
    hgetall: (key) => cache.hgetall(k(key)),
    hset: (key, entries) => cache.hset(k(key), entries),
    hdel: (key, field) => cache.hdel(k(key), field),
    hcompareAndSet: (key, field, expected, value) => cache.hcompareAndSet(k(key), field, expected, value),
    ping: () => cache.ping(),
    close: () => cache.close(),
  };
}
