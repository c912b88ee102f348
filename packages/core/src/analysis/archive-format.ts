import type { AlarmLevel, AlarmType } from "../alarms/types.ts";
import type { ArchivedDevice } from "../archive/archive-manifest.ts";

/** The columns of `sensor_data_YYYYMMDD.csv.gz` (docs/archive.md), in order. */
export const READINGS_COLUMNS = ["sn", "ts", "seq", "ppm", "v_raw", "temp", "humi", "bat", "rssi", "err", "flags"] as const;
/** The columns of `alarms_YYYYMMDD.csv.gz`. */
export const ALARMS_COLUMNS = [
  "id", "sn", "type", "level", "state", "value", "peak", "peak_at", "reason", "raised_at", "received_at",
  "acked_at", "acked_by", "ack_comment", "cleared_at", "closed_at", "late", "events",
] as const;

/** Quality flags as bits (the same values as `READING_FLAGS` of the protocol): one byte a row instead of an array. */
export const FLAG_BITS = { anomaly: 1, negative: 2, clock: 4 } as const;
export type FlagName = keyof typeof FLAG_BITS;

/** One row of the readings file. */
export interface ArchiveReading {
  sn: string;
  /** Unix ms of `ts`. */
  at: number;
  seq: number;
  /** The calibrated value, in the device's unit (ppm, %LEL or %VOL). */
  ppm: number;
  vRaw: number;
  temp: number | null;
  humi: number | null;
  bat: number | null;
  rssi: number | null;
  err: number;
  /** FLAG_BITS or-ed; an unknown flag name is kept out (a newer archiver may add some). */
  flags: number;
}

/** One row of the alarms file: an alarm as really raised. */
export interface ArchiveAlarm {
  id: number;
  sn: string;
  type: AlarmType;
  /** The highest level reached. */
  level: AlarmLevel;
  state: string;
  value: number | null;
  peak: number | null;
  raisedAt: number;
  clearedAt: number | null;
  closedAt: number | null;
  ackedAt: number | null;
  reason: string;
  late: boolean;
}

/** One device of a manifest: what the readings were, and the alarm settings it had that day (null for a device deleted since). */
export type ManifestDevice = Pick<ArchivedDevice, "sn" | "name" | "gas" | "unit" | "rows" | "settings">;

/** What the analysis needs of `sensor_data_YYYYMMDD.manifest.json` (other fields are ignored). */
export interface ArchiveManifest {
  day: string;
  rows: number;
  devices: ManifestDevice[];
}

/** Input that is not the archive's format; `line` is 1-based, as an editor counts. */
export class ArchiveFormatError extends Error {
  constructor(
    readonly source: string,
    readonly line: number | null,
    readonly problem: string,
  ) {
    super(line === null ? `${source}: ${problem}` : `${source}, line ${line}: ${problem}`);
    this.name = "ArchiveFormatError";
  }
}
