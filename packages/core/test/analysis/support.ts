import { DEFAULT_ALARM_SETTINGS, type AlarmSettings } from "../../src/alarms/types.ts";
import { seriesOf, type ArchiveReading, type DeviceSeries } from "../../src/analysis/index.ts";

export const DAY = Date.parse("2025-12-13T00:00:00.000Z");
export const INTERVAL = 10_000;

/** CH4 in %LEL as the preset has it: 25 / 50, deadband 2. */
export const CH4: AlarmSettings = { ...DEFAULT_ALARM_SETTINGS, high1: 25, high2: 50, deadband: 2, rangeMax: 100, stuckSamples: 30 };

export function reading(sn: string, at: number, ppm: number, extra: Partial<ArchiveReading> = {}): ArchiveReading {
  return { sn, at, seq: 0, ppm, vRaw: 0.4 + ppm * 0.02, temp: 22, humi: 50, bat: 3.9, rssi: -70, err: 0, flags: 0, ...extra };
}

/** One device's series, a reading every 10 s from the day's start; `extra(i)` changes reading i. */
export function series(values: readonly number[], extra: (i: number) => Partial<ArchiveReading> = () => ({}), sn = "A001"): DeviceSeries {
  const readings = values.map((value, i) => reading(sn, DAY + i * INTERVAL, value, { seq: i, ...extra(i) }));
  return seriesOf(readings)[0]!;
}

/** A deterministic wobble (no Math.random in tests): a live sensor's noise of amplitude `size`. */
export function wobble(i: number, size: number): number {
  return size * Math.sin(i * 2.3) * Math.cos(i * 0.7);
}
