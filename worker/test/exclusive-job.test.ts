import { afterAll, describe, expect, inject, it } from "vitest";
import { MemoryCache, RedisCache, type Cache } from "@mcs/platform";
import { startExclusiveJob, type ExclusiveJob } from "../src/lib/exclusive-job.ts";

const caches: [string, () => Promise<Cache>][] = [
  ["memory", async () => new MemoryCache()],
  ["Redis", () => RedisCache.connect(inject("redisUrl"))],
];

// The silence sweep must run in one worker at a time: a lock through the Cache port (SET NX EX).
describe.each(caches)("a periodic job shared by several workers (%s cache)", (_name, open) => {
  const jobs: ExclusiveJob[] = [];
  let cache: Cache;
  afterAll(async () => {
    await Promise.all(jobs.map((job) => job.stop()));
    await cache?.close();
  });

  it("runs in one worker per round, whichever takes the lock", async () => {
    cache = await open();
    const name = `test-${Math.random().toString(36).slice(2)}`;
    const runs: string[] = [];
    for (const worker of ["w1", "w2", "w3"]) {
      jobs.push(startExclusiveJob({ cache, name, everyMs: 3_600_000, run: async () => runs.push(worker) }));
    }
    const ran = await Promise.all(jobs.map((job) => job.tick()));
    expect(ran.filter(Boolean)).toHaveLength(1);
    expect(runs).toHaveLength(1);
    // Within the round, nobody else runs it again.
    expect(await jobs[1]!.tick()).toBe(false);
  });

  it("skips the round instead of failing when the job throws", async () => {
    const job = startExclusiveJob({ cache, name: `fail-${Math.random()}`, everyMs: 3_600_000, run: async () => { throw new Error("boom"); } });
    jobs.push(job);
    expect(await job.tick()).toBe(false);
  });
});
