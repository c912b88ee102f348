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

/**
 * A periodic job that one worker at a time runs: each round, the worker that takes the
 * lock (SET NX EX, through the Cache port) runs it; the lock expires before the next
 * round, so a worker that died hands the job over within one round. Without the cache,
 * the round is skipped.
 */
export function startExclusiveJob(options: ExclusiveJobOptions): ExclusiveJob {
  const owner = randomBytes(6).toString("hex");
  const ttlSeconds = Math.max(1, Math.floor(options.everyMs / 1000) - 1);
  let running: Promise<boolean> | undefined;

  const tick = async (): Promise<boolean> => {
    try {
      if (!(await options.cache.set(cacheKeys.lock(options.name), owner, { ttlSeconds, onlyIfAbsent: true }))) return false;
      await options.run();
      return true;
    } catch (error) {
      log.warn({ err: error, job: options.name }, "periodic job failed; it runs again next round");
      return false;
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
