import { ZoneClock } from "../plant-zone.ts";

/**
 * Asia/Shanghai's offset (UTC+8 all year, no daylight saving): the default plant zone's. Kept
 * for the offline analysis report, which has no plant setting to read (see `plantHour`).
 */
export const PLANT_UTC_OFFSET_MS = 8 * 3_600_000;

const clocks = new Map<string, ZoneClock>();

/**
 * The hour of the plant's day (0–23) of a Unix ms time, in `timeZone` (the plant setting;
 * default Asia/Shanghai; an unknown zone counts as the default).
 */
export function plantHour(at: number, timeZone?: string): number {
  const key = timeZone ?? "";
  let clock = clocks.get(key);
  if (!clock) {
    clock = new ZoneClock(timeZone);
    clocks.set(key, clock);
  }
  return clock.hourOf(at);
}
