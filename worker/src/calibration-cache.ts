import { cacheKeys } from "@mcs/protocol";
import { createLogger, type Bus, type Cache, type Clock, type DeviceCalibration, type DeviceStore } from "@mcs/platform";

const log = createLogger("worker.calibration");

/** How long an unknown serial number is remembered as unknown before the database is asked again. */
const UNKNOWN_TTL_MS = 5_000;
/** A full reload from the database, in case a bus message was missed (Redis restarted, say). */
const FULL_RELOAD_MS = 60_000;

/**
 * Each device's calibration, in the worker's memory, backed by the cache (Redis hash
 * `mcs:calib`, shared by all workers) and the database. A `device.changed` message on the
 * bus makes the worker reload that device at once, so a change is live within a second.
 */
export class CalibrationCache {
  private readonly devices = new Map<string, DeviceCalibration>();
  private readonly unknown = new Map<string, number>();
  private unsubscribe: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: DeviceStore,
    private readonly cache: Cache,
    private readonly bus: Bus,
    private readonly clock: Clock,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.bus.subscribe("device.changed", (message) => {
      const sn = (message as { sn?: unknown }).sn;
      if (typeof sn === "string") void this.reload([sn]);
    });
    const cached = await this.cache.hgetall(cacheKeys.calibration).catch(() => ({}));
    for (const text of Object.values(cached)) {
      const device = JSON.parse(text) as DeviceCalibration;
      this.devices.set(device.sn, device);
    }
    await this.reloadAll();
    this.timer = setInterval(() => void this.reloadAll(), FULL_RELOAD_MS).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.unsubscribe?.();
  }

  get(sn: string): DeviceCalibration | undefined {
    return this.devices.get(sn);
  }

  /** Loads the devices of a batch that this worker does not know yet (new since its start). */
  async resolve(sns: Iterable<string>): Promise<void> {
    const now = this.clock.now();
    const missing = [...new Set(sns)].filter((sn) => !this.devices.has(sn) && (this.unknown.get(sn) ?? 0) <= now);
    if (missing.length > 0) await this.reload(missing);
  }

  /** Reads devices from the database (the truth), then shares them through the cache. */
  private async reload(sns: string[]): Promise<void> {
    try {
      const found = await this.store.calibrations(sns);
      const seen = new Set(found.map((d) => d.sn));
      for (const sn of sns) {
        if (seen.has(sn)) continue;
        this.devices.delete(sn);
        this.unknown.set(sn, this.clock.now() + UNKNOWN_TTL_MS);
        await this.cache.hdel(cacheKeys.calibration, sn).catch(() => {});
      }
      this.remember(found);
    } catch (error) {
      log.warn({ err: error, sns: sns.slice(0, 10) }, "could not reload calibrations");
    }
  }

  private async reloadAll(): Promise<void> {
    try {
      const all = await this.store.calibrations();
      const present = new Set(all.map((d) => d.sn));
      for (const sn of this.devices.keys()) if (!present.has(sn)) this.devices.delete(sn);
      this.remember(all);
    } catch (error) {
      log.warn({ err: error }, "could not reload calibrations");
    }
  }

  private remember(devices: DeviceCalibration[]): void {
    const entries: Record<string, string> = {};
    for (const device of devices) {
      this.devices.set(device.sn, device);
      this.unknown.delete(device.sn);
      entries[device.sn] = JSON.stringify(device);
    }
    this.cache.hset(cacheKeys.calibration, entries).catch(() => {});
  }
}
