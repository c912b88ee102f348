import type { DeviceStatus } from "./websocket.ts";

/** The latest state of one device, as the worker keeps it in the cache and on the bus. */
export interface LatestReading {
  sn: string;
  ts: number;
  ppm: number;
  status: DeviceStatus;
  flags: number;
  bat?: number | undefined;
  rssi?: number | undefined;
}

/** Internal bus channels (worker ⇄ backend), one typed map. */
export interface BusChannels {
  /** The newest reading of each device in a committed batch. */
  "readings": LatestReading[];
  /** A device was created, changed (calibration, limits, enabled) or deleted. */
  "device.changed": { sn: string; action: "created" | "updated" | "deleted" };
}
export type BusChannel = keyof BusChannels;

export const cacheKeys = {
  /** Hash: sn → JSON LatestReading. */
  latest: "mcs:latest",
  /** Hash: sn → JSON calibration parameters. */
  calibration: "mcs:calib",
  session: (tokenHash: string) => `mcs:session:${tokenHash}`,
} as const;
