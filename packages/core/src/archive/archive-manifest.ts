import type { AlarmSettings } from "../alarms/types.ts";

export const ARCHIVE_SCHEMA_VERSION = 1;

/**
 * What the CSV's fixed columns do not hold but a restore needs to give back the same
 * readings: the calibration version in force (as change points, in the file's order) and
 * the detector's own time of readings with the `clock` flag.
 */
export interface ArchivedDeviceExtras {
  /** `[ts ms, seq, version]` from which each calibration version holds, in (ts, seq) order. */
  calib_versions: [number, number, number][];
  /** `[ts ms, seq, device_ts]` for each reading stored at its receive time. */
  device_times: [number, number, number][];
}

export interface ArchivedDevice extends ArchivedDeviceExtras {
  sn: string;
  name: string | null;
  gas: string | null;
  unit: string | null;
  rows: number;
  /** The device's alarm settings when the day was archived; null for a device deleted since. */
  settings: AlarmSettings | null;
}

/** `sensor_data_YYYYMMDD.manifest.json` (docs/archive.md). */
export interface SensorDataManifest {
  schema: number;
  kind: "sensor_data";
  day: string;
  key: string;
  rows: number;
  first_ts: string | null;
  last_ts: string | null;
  device_count: number;
  devices: ArchivedDevice[];
  bytes: number;
  raw_bytes: number;
  sha256: string;
  created_at: string;
}

/** The detector's own time of each `clock` reading of a manifest, by `sn|ts|seq`. */
export function deviceTimesOf(devices: readonly Pick<ArchivedDevice, "sn" | "device_times">[]): Map<string, number> {
  const times = new Map<string, number>();
  for (const device of devices) for (const [ts, seq, deviceTs] of device.device_times ?? []) times.set(readingKey(device.sn, ts, seq), deviceTs);
  return times;
}

/** The key `deviceTimesOf` files a reading under. */
export function readingKey(sn: string, ts: number, seq: number): string {
  return `${sn}|${ts}|${seq}`;
}

/** The calibration version a reading at (ts, seq) was calibrated with; 0 where the file does not say. */
export function calibVersionAt(points: readonly [number, number, number][], ts: number, seq: number): number {
  let version = 0;
  for (const [from, fromSeq, v] of points) {
    if (from < ts || (from === ts && fromSeq <= seq)) version = v;
    else break;
  }
  return version;
}
