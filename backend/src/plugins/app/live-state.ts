import fp from "fastify-plugin";
import { cacheKeys, DEVICE_STATUSES, type LatestReading } from "@mcs/protocol";
import type { Cache } from "@mcs/platform";
import type { FastifyBaseLogger } from "fastify";

declare module "fastify" {
  interface FastifyInstance {
    liveState: LiveState;
  }
}

/**
 * Each device's latest reading as the worker keeps it (cache hash `mcs:latest`). Without
 * the cache, devices are still listed, all offline: a degraded answer, not a failure.
 */
export class LiveState {
  constructor(private readonly cache: Cache, private readonly log: FastifyBaseLogger) {}

  async all(): Promise<Map<string, LatestReading>> {
    const found = new Map<string, LatestReading>();
    try {
      for (const [sn, text] of Object.entries(await this.cache.hgetall(cacheKeys.latest))) {
        const latest = parse(text);
        if (latest) found.set(sn, latest);
      }
    } catch (error) {
      this.log.warn({ err: error }, "cache unavailable: devices shown offline");
    }
    return found;
  }

  async one(sn: string): Promise<LatestReading | undefined> {
    try {
      const text = await this.cache.hget(cacheKeys.latest, sn);
      return text ? parse(text) : undefined;
    } catch (error) {
      this.log.warn({ err: error }, "cache unavailable: device shown offline");
      return undefined;
    }
  }

  /** Forgets a deleted device's state, so a new device with its sn starts offline. */
  async forget(sn: string): Promise<void> {
    await this.cache.hdel(cacheKeys.latest, sn);
  }
}

/** A cache entry written by another program: trusted for its shape only after a look. */
function parse(text: string): LatestReading | undefined {
  try {
    const value = JSON.parse(text) as Partial<LatestReading>;
    if (typeof value.ts !== "number" || typeof value.ppm !== "number") return undefined;
    if (!DEVICE_STATUSES.includes(value.status as LatestReading["status"])) return undefined;
    return value as LatestReading;
  } catch {
    return undefined;
  }
}

export const liveStatePlugin = fp(
  async (app) => {
    app.decorate("liveState", new LiveState(app.cache, app.log.child({ component: "backend.live-state" })));
  },
  { name: "live-state", dependencies: ["ports"] },
);
