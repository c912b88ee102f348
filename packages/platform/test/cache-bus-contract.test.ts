import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { uniquePrefix } from "../../../test-support/databases.ts";
import type { Bus } from "../src/bus/bus.ts";
import { MemoryBus } from "../src/bus/memory-bus.ts";
import { RedisBus } from "../src/bus/redis-bus.ts";
import type { Cache } from "../src/cache/cache.ts";
import { MemoryCache } from "../src/cache/memory-cache.ts";
import { RedisCache } from "../src/cache/redis-cache.ts";

const caches: [string, () => Promise<Cache>][] = [
  ["memory", async () => new MemoryCache()],
  ["Redis", () => RedisCache.connect(inject("redisUrl"))],
];

describe.each(caches)("the Cache port on %s", (_name, open) => {
  let cache: Cache;
  const p = uniquePrefix();
  beforeAll(async () => { cache = await open(); });
  afterAll(() => cache.close());

  it("gets what was set, and null for what was not", async () => {
    expect(await cache.set(`${p}a`, "1")).toBe(true);
    expect(await cache.get(`${p}a`)).toBe("1");
    expect(await cache.get(`${p}missing`)).toBeNull();
    await cache.del(`${p}a`);
    expect(await cache.get(`${p}a`)).toBeNull();
  });

  it("sets only if absent when asked (the alarm debounce's SET NX)", async () => {
    expect(await cache.set(`${p}nx`, "first", { onlyIfAbsent: true, ttlSeconds: 600 })).toBe(true);
    expect(await cache.set(`${p}nx`, "second", { onlyIfAbsent: true, ttlSeconds: 600 })).toBe(false);
    expect(await cache.get(`${p}nx`)).toBe("first");
  });

  it("forgets a key after its time to live", async () => {
    await cache.set(`${p}ttl`, "x", { ttlSeconds: 1 });
    expect(await cache.get(`${p}ttl`)).toBe("x");
    await new Promise((r) => setTimeout(r, 1100));
    expect(await cache.get(`${p}ttl`)).toBeNull();
  });

  it("keeps hashes field by field", async () => {
    await cache.hset(`${p}h`, { A001: "1", A002: "2" });
    await cache.hset(`${p}h`, { A002: "3" });
    expect(await cache.hget(`${p}h`, "A002")).toBe("3");
    expect(await cache.hgetall(`${p}h`)).toEqual({ A001: "1", A002: "3" });
    await cache.hdel(`${p}h`, "A001");
    expect(await cache.hgetall(`${p}h`)).toEqual({ A002: "3" });
    expect(await cache.hgetall(`${p}none`)).toEqual({});
    expect(await cache.ping()).toBe(true);
  });

  it("compares and sets one hash field: only the caller that saw the current value changes it", async () => {
    expect(await cache.hcompareAndSet(`${p}cas`, "A001", null, "online")).toBe(true);
    expect(await cache.hcompareAndSet(`${p}cas`, "A001", null, "other")).toBe(false);
    expect(await cache.hcompareAndSet(`${p}cas`, "A001", "offline", "other")).toBe(false);
    expect(await cache.hget(`${p}cas`, "A001")).toBe("online");
    // Two workers that both read "online" race to "offline": exactly one wins.
    const results = await Promise.all([1, 2, 3].map(() => cache.hcompareAndSet(`${p}cas`, "A001", "online", "offline")));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await cache.hget(`${p}cas`, "A001")).toBe("offline");
    expect(await cache.hcompareAndSet(`${p}cas`, "A002", "", "x")).toBe(false);
    expect(await cache.hgetall(`${p}cas`)).toEqual({ A001: "offline" });
  });
});

const buses: [string, () => Promise<Bus>][] = [
  ["memory", async () => new MemoryBus()],
  ["Redis", () => RedisBus.connect(inject("redisUrl"))],
];

describe.each(buses)("the Bus port on %s", (_name, open) => {
  let bus: Bus;
  const p = uniquePrefix();
  beforeAll(async () => { bus = await open(); });
  afterAll(() => bus.close());

  it("delivers a JSON message to every subscriber of the channel, in order", async () => {
    const a: unknown[] = [];
    const b: unknown[] = [];
    const offA = await bus.subscribe(`${p}readings`, (m) => a.push(m));
    const offB = await bus.subscribe(`${p}readings`, (m) => b.push(m));
    await bus.subscribe(`${p}other`, () => { throw new Error("wrong channel"); });
    await bus.publish(`${p}readings`, { sn: "A001", ppm: 1 });
    await bus.publish(`${p}readings`, [{ sn: "A002" }]);
    await expect.poll(() => b.length).toBe(2);
    expect(a).toEqual([{ sn: "A001", ppm: 1 }, [{ sn: "A002" }]]);
    await offA();
    await bus.publish(`${p}readings`, "after");
    await expect.poll(() => b.length).toBe(3);
    expect(a).toHaveLength(2);
    await offB();
  });
});

describe("Redis down", () => {
  it("fails a cache command fast instead of queueing it (ingest degrades, never waits)", async () => {
    const cache = await RedisCache.connect(inject("redisUrl"));
    const admin = new Redis(inject("redisUrl"));
    // Kill our own connection; the next command must fail or succeed promptly, not hang.
    await admin.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
    const started = Date.now();
    await cache.get("x").catch(() => null);
    expect(Date.now() - started).toBeLessThan(5000);
    admin.disconnect();
    await cache.close();
  });
});
