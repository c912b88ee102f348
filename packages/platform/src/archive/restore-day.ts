import { archiveKeys, calibVersionAt, deviceTimesOf, parseReadingLine, readingKey, SENSOR_DATA_HEADER, type SensorDataManifest } from "@mcs/core";
import type { ObjectStore } from "../storage/object-store.ts";
import { gunzipLines } from "./gzip-lines.ts";
import type { RestoredReading, TelemetryDays } from "./telemetry-day.ts";

const BATCH = 2000;

/** Why a restore could not be done, in words for the person who asked. */
export class RestoreError extends Error {
  constructor(message: string, readonly missing = false) {
    super(message);
  }
}

/**
 * Loads an archived day back into the database: every reading of its file, with the
 * calibration version and detector time its manifest keeps. Idempotent: a reading already
 * stored stays as it is, so restoring twice stores each reading once.
 */
export async function restoreDay(store: ObjectStore, days: TelemetryDays, day: string): Promise<{ rows: number; inserted: number }> {
  const keys = archiveKeys(day);
  const manifestBytes = await store.get(keys.manifest);
  const stream = await store.getStream(keys.sensor_data);
  if (!stream) throw new RestoreError(`no archive for ${day}: ${keys.sensor_data} is not in ${store.target}`, true);
  let manifest: SensorDataManifest | null = null;
  if (manifestBytes) {
    try {
      manifest = JSON.parse(manifestBytes.toString("utf8")) as SensorDataManifest;
    } catch {
      throw new RestoreError(`${keys.manifest} is not valid JSON: the day was not restored`);
    }
  }
  const extras = new Map((manifest?.devices ?? []).map((device) => [device.sn, device]));
  const deviceTimes = deviceTimesOf(manifest?.devices ?? []);

  let rows = 0;
  let inserted = 0;
  let batch: RestoredReading[] = [];
  let lineNo = 0;
  for await (const line of gunzipLines(stream)) {
    lineNo++;
    if (lineNo === 1) {
      if (line !== SENSOR_DATA_HEADER) throw new RestoreError(`${keys.sensor_data}: the first line is not the header ${SENSOR_DATA_HEADER}`);
      continue;
    }
    if (line === "") continue;
    let reading;
    try {
      reading = parseReadingLine(line);
    } catch (error) {
      throw new RestoreError(`${keys.sensor_data} line ${lineNo}: ${(error as Error).message} (${inserted} readings of the ${rows} before it were stored)`);
    }
    const device = extras.get(reading.sn);
    batch.push({
      ...reading,
      calib_version: device ? calibVersionAt(device.calib_versions ?? [], reading.ts, reading.seq) : 0,
      device_ts: deviceTimes.get(readingKey(reading.sn, reading.ts, reading.seq)) ?? null,
    });
    rows++;
    if (batch.length >= BATCH) {
      inserted += await days.restore(batch);
      batch = [];
    }
  }
  inserted += await days.restore(batch);
  return { rows, inserted };
}
