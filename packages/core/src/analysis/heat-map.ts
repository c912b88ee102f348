import type { AlarmSettings } from "../alarms/types.ts";
import type { ArchiveAlarm } from "./archive-format.ts";
import type { DeviceSeries } from "./device-series.ts";
import { ZoneClock } from "../plant-zone.ts";

/** Alarms per device and hour of the plant's day: when and where the trouble is. */
export interface AlarmHeatMap {
  /** What was counted: the alarms really raised, or (no alarms file) the readings beyond a limit. */
  source: "alarms" | "readings";
  devices: string[];
  /** counts[device][hour], hour 0–23 in plant time (`timeZone`). */
  counts: number[][];
  max: number;
  total: number;
  /** The IANA zone whose hours these are (the plant setting; default Asia/Shanghai). */
  timeZone: string;
}

/** From the alarms file: each alarm counts once, in the hour it was raised. Alarms of devices not in `devices` are added at the end. */
export function heatMapFromAlarms(devices: readonly string[], alarms: Iterable<ArchiveAlarm>, timeZone?: string): AlarmHeatMap {
  const clock = new ZoneClock(timeZone);
  const map = emptyMap("alarms", devices, clock.zone);
  const index = new Map(map.devices.map((sn, i) => [sn, i]));
  for (const alarm of alarms) {
    let row = index.get(alarm.sn);
    if (row === undefined) {
      row = map.devices.push(alarm.sn) - 1;
      map.counts.push(new Array<number>(24).fill(0));
      index.set(alarm.sn, row);
    }
    map.counts[row]![clock.hourOf(alarm.raisedAt)]! += 1;
  }
  return totalled(map);
}

/** Without an alarms file: the readings beyond the device's level-1 limits (above high1, below low1). */
export function heatMapFromReadings(series: readonly DeviceSeries[], settingsOf: (sn: string) => AlarmSettings | null, timeZone?: string): AlarmHeatMap {
  const clock = new ZoneClock(timeZone);
  const map = emptyMap("readings", series.map((s) => s.sn), clock.zone);
  series.forEach((s, row) => {
    const settings = settingsOf(s.sn);
    const high = settings?.high1 ?? settings?.high2 ?? null;
    const low = settings?.low1 ?? settings?.low2 ?? null;
    if (high === null && low === null) return;
    const counts = map.counts[row]!;
    for (let i = 0; i < s.length; i++) {
      const v = s.value[i]!;
      if ((high !== null && v > high) || (low !== null && v < low)) counts[clock.hourOf(s.at[i]!)]! += 1;
    }
  });
  return totalled(map);
}

function emptyMap(source: AlarmHeatMap["source"], devices: readonly string[], timeZone: string): AlarmHeatMap {
  return { source, devices: [...devices], counts: devices.map(() => new Array<number>(24).fill(0)), max: 0, total: 0, timeZone };
}

function totalled(map: AlarmHeatMap): AlarmHeatMap {
  let max = 0;
  let total = 0;
  for (const row of map.counts) for (const count of row) {
    total += count;
    if (count > max) max = count;
  }
  return { ...map, max, total };
}
