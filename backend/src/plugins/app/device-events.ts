import fp from "fastify-plugin";
import { cacheKeys, type BusChannels } from "@mcs/protocol";
import type { Bus, Cache } from "@mcs/platform";
import type { FastifyBaseLogger } from "fastify";

declare module "fastify" {
  interface FastifyInstance {
    deviceEvents: DeviceEvents;
  }
}

type DeviceChange = BusChannels["device.changed"];

/**
 * Tells the worker that a device changed, after the change is committed: the shared
 * calibration cache entry is dropped (no worker can reload the old one from it) and
 * `device.changed` makes every worker reload the device from the database at once.
 * Both are best effort: the database holds the change, and the worker's periodic full
 * reload picks it up if Redis is away.
 */
export class DeviceEvents {
  private readonly listeners: ((change: DeviceChange) => Promise<void>)[] = [];

  constructor(private readonly cache: Cache, private readonly bus: Bus, private readonly log: FastifyBaseLogger) {}

  /** Hears every committed change in this process (the broker's password file, say). */
  listen(listener: (change: DeviceChange) => Promise<void>): void {
    this.listeners.push(listener);
  }

  async changed(sn: string, action: DeviceChange["action"]): Promise<void> {
    const message: DeviceChange = { sn, action };
    for (const listener of this.listeners) {
      await listener(message).catch((error: unknown) => this.log.error({ err: error, sn, action }, "a device change listener failed"));
    }
    try {
      await this.cache.hdel(cacheKeys.calibration, sn);
      await this.bus.publish("device.changed", message);
    } catch (error) {
      this.log.warn({ err: error, sn, action }, "could not announce a device change; the worker's full reload will pick it up");
    }
  }
}

export const deviceEventsPlugin = fp(
  async (app) => {
    app.decorate("deviceEvents", new DeviceEvents(app.cache, app.bus, app.log.child({ component: "backend.device-events" })));
  },
  { name: "device-events", dependencies: ["ports"] },
);
