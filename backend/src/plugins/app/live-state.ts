import fp from "fastify-plugin";
import { cacheKeys, DEVICE_STATUSES, type LatestReading } from "@mcs/protocol";
import { PresenceStore, type Cache, type DevicePresence } from "@mcs/platform";
import type { FastifyBaseLogger } from "fastify";

declare module "fastify" {
  interface FastifyInstance {
    liveState: LiveState;
  }
}

/** What the backend knows live of a device: its latest reading and its presence. */
export interface DeviceLive {
  latest?: LatestReading | undefined;
  presence: DevicePresence;
}

/**
 * Each device's latest reading and presence (online/offline, last seen), both kept in the
 * cache by the workers (hashes `mcs:latest`, `mcs:presence`, `mcs:seen`). The worker
 * also announces each committed batch on the bus (`readings`, Redis pub/sub across processes);
 * the backend listens, so it knows a new reading the moment it is stored, and reads the
 * cache for what it did not hear (after its start, or while the bus was away). Without
 * the cache, devices are still listed from what was heard: a degraded answer, not a failure.
 */
export class LiveState {
  private readonly heard = new Map<string, LatestReading>();
  private readonly presence: PresenceStore;

  constructor(private readonly cache: Cache, private readonly log: FastifyBaseLogger) {
    this.presence = new PresenceStore(cache);
  }

  /** Takes a `readings` bus message (the newest reading of each device in a batch). */
  hear(message: unknown): void {
    if (!Array.isArray(message)) return;
    for (const item of message) {
      const latest = parse(JSON.stringify(item));
      if (latest) this.heard.set(latest.sn, newer(this.heard.get(latest.sn), latest));
    }
  }

  async all(): Promise<Map<string, DeviceLive>> {
    const [latest, presence] = await Promise.all([this.allLatest(), this.allPresence()]);
    const live = new Map<string, DeviceLive>();
    for (const sn of new Set([...latest.keys(), ...presence.keys()])) live.set(sn, { latest: latest.get(sn), presence: presence.get(sn) ?? {} });
    return live;
  }

  async one(sn: string): Promise<DeviceLive> {
    const [latest, presence] = await Promise.all([this.oneLatest(sn), this.presence.one(sn).catch((error: unknown) => this.noPresence(error))]);
    return { latest, presence };
  }

  private async allPresence(): Promise<Map<string, DevicePresence>> {
    try {
      return await this.presence.all();
    } catch (error) {
      this.noPresence(error);
      return new Map();
    }
  }

  private noPresence(error: unknown): DevicePresence {
    this.log.warn({ err: error }, "cache unavailable: presence unknown, devices shown offline");
    return {};
  }

  private async allLatest(): Promise<Map<string, LatestReading>> {
    const found = new Map<string, LatestReading>();
    try {
      for (const [sn, text] of Object.entries(await this.cache.hgetall(cacheKeys.latest))) {
        const latest = parse(text);
        if (latest) found.set(sn, latest);
      }
    } catch (error) {
      this.log.warn({ err: error }, "cache unavailable: devices shown as last heard");
    }
    for (const [sn, latest] of this.heard) found.set(sn, newer(found.get(sn), latest));
    return found;
  }

  private async oneLatest(sn: string): Promise<LatestReading | undefined> {
    let cached: LatestReading | undefined;
    try {
      const text = await this.cache.hget(cacheKeys.latest, sn);
      cached = text ? parse(text) : undefined;
    } catch (error) {
      this.log.warn({ err: error }, "cache unavailable: device shown as last heard");
    }
    const heard = this.heard.get(sn);
    return heard ? newer(cached, heard) : cached;
  }

  /** Forgets a deleted device's state, so a new device with its sn starts offline. */
  async forget(sn: string): Promise<void> {
    this.heard.delete(sn);
    await Promise.all([this.cache.hdel(cacheKeys.latest, sn), this.presence.forget(sn)]);
  }
}

function newer(a: LatestReading | undefined, b: LatestReading): LatestReading {
  return a && a.ts > b.ts ? a : b;
}

/** A cache entry written by another program: trusted for its shape only after a look. */
function parse(text: string): LatestReading | undefined {
  try {
    const value = JSON.parse(text) as Partial<LatestReading>;
    if (typeof value.sn !== "string" || typeof value.ts !== "number" || typeof value.ppm !== "number") return undefined;
    if (!DEVICE_STATUSES.includes(value.status as LatestReading["status"])) return undefined;
    return value as LatestReading;
  } catch {
    return undefined;
  }
}

export const liveStatePlugin = fp(
  async (app) => {
    const liveState = new LiveState(app.cache, app.log.child({ component: "backend.live-state" }));
    app.decorate("liveState", liveState);
    const unsubscribe = await app.bus.subscribe("readings", (message) => liveState.hear(message));
    app.addHook("onClose", async () => unsubscribe());
  },
  { name: "live-state", dependencies: ["ports"] },
);
