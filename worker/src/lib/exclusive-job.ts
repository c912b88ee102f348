import { randomBytes } from "node:crypto";
import { cacheKeys } from "@mcs/protocol";
import { createLogger, type Cache } from "@mcs/platform";

const log = createLogger("worker.jobs");

export interface ExclusiveJobOptions {
  cache: Cache;
  /** Names the lock (`mcs:lock:{name}`) that all workers share. */
  name: string;
  everyMs: number;
  run(): Promise<unknown>;
}

export interface ExclusiveJob {
  /** One round: runs the job if this worker takes the round's lock; true if it ran. */
  tick(): Promise<boolean>;
  stop(): Promise<void>;
}

/** The lock outlives any pass by far while it is renewed; a worker that died frees it within this. */
const LOCK_TTL_S = 60;
const RENEW_MS = 20_000;

/**
 * A periodic job that one worker at a time runs: each round, the worker that takes the
 * lock (SET NX EX, through the Cache port) runs it, renewing the lock while the pass lasts
 * (a slow notification receiver must not let a second worker in), then keeping it until
 * just before the next round, so the job runs once per round. A worker that died hands
 * the job over when its lock expires (at most a minute). Without the cache, the round is
 * skipped.
 */
export function startExclusiveJob(options: ExclusiveJobOptions): ExclusiveJob {
  const owner = randomBytes(6).toString("hex");
  const key = cacheKeys.lock(options.name);
  let running: Promise<boolean> | undefined;

  const tick = async (): Promise<boolean> => {
    try {
      if (!(await options.cache.set(key, owner, { ttlSeconds: LOCK_TTL_S, onlyIfAbsent: true }))) return false;
    } catch (error) {
      log.warn({ err: error, job: options.name }, "cache unavailable: this round of the job is skipped");
      return false;
    }
    const started = Date.now();
    const renew = setInterval(() => void options.cache.set(key, owner, { ttlSeconds: LOCK_TTL_S }).catch(() => {}), RENEW_MS);
    try {
      await options.run();
      return true;
    } catch (error) {
      log.warn({ err: error, job: options.name }, "periodic job failed; it runs again next round");
      return false;
    } finally {
      clearInterval(renew);
      // Keep the round: the lock now lives until just before the next round (or goes, if the pass took longer).
      const left = Math.floor((options.everyMs - (Date.now() - started)) / 1000) - 1;
      if ((await options.cache.get(key).catch(() => null)) === owner) {
        await (left >= 1 ? options.cache.set(key, owner, { ttlSeconds: left }) : options.cache.del(key)).catch(() => {});
      }
    }
  };
  const timer = setInterval(() => {
    running ??= tick().finally(() => (running = undefined));
  }, options.everyMs);
  timer.unref();

  return {
    tick,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
