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
  constructor(private readonly cache: Cache, private readonly bus: Bus, private readonly log: FastifyBaseLogger) {}

  async changed(sn: string, action: DeviceChange["action"]): Promise<void> {
    const message: DeviceChange = { sn, action };
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
