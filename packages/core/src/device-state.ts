import type { DeviceLook, DeviceStatus } from "@mcs/protocol";

/**
 * A device's live state as every page shows it (DOMAIN.md colours): gas alarm level 2 (or a
 * gas alarm of unknown level) red, level 1 amber, fault yellow, normal green, offline grey.
 * One definition for the big screen, the device list and the overview (`GET /api/overview`).
 */
export type Look = DeviceLook;

/**
 * The state of a device from its status (presence and latest reading), the highest level of
 * its gas alarms whose condition holds, and whether it is monitor only (no alarm limits, by
 * choice: its "not configured" fault, never the green of all-clear).
 */
export function lookOf(status: DeviceStatus, level: number | undefined, monitorOnly = false): Look {
  if (status === "offline") return "offline";
  if (status === "alarm" || (level ?? 0) > 0) return level === 1 ? "alarm1" : "alarm2";
  if (status === "fault" || monitorOnly) return "fault";
  return "normal";
}

/** The alarm types that are about gas (their level colours a device). */
export const GAS_ALARM_TYPES: ReadonlySet<string> = new Set(["HIGH", "LOW"]);

/** The highest level of the open gas alarms whose condition holds (0: none), as the screen colours a device by. */
export function gasAlarmLevel(alarms: Iterable<{ type: string; level: number; active: boolean }>): number {
  let level = 0;
  for (const alarm of alarms) if (alarm.active && GAS_ALARM_TYPES.has(alarm.type)) level = Math.max(level, alarm.level);
  return level;
}

/** A calibration due within this many days is "due soon" (the device page's amber tag). */
export const CALIBRATION_DUE_DAYS = 30;

/**
 * Whether a device's calibration needs attention: overdue (the due date is past) or due within
 * `CALIBRATION_DUE_DAYS`; null when it is not (or no due date is set). `today` and `due` are
 * dates, YYYY-MM-DD; `days` counts from today to the due date (negative: overdue).
 */
export function calibrationDue(due: string | null, today: string, windowDays = CALIBRATION_DUE_DAYS): { overdue: boolean; days: number } | null {
  if (due === null) return null;
  const days = Math.round((dayNumber(due) - dayNumber(today)) / 86_400_000);
  if (!Number.isFinite(days)) return null;
  if (days < 0) return { overdue: true, days };
  return days <= windowDays ? { overdue: false, days } : null;
}

function dayNumber(date: string): number {
  const [year, month, day] = date.split("-").map(Number);
  return Date.UTC(year!, month! - 1, day!);
}

/** The date (YYYY-MM-DD) it is at `atMs` in a time zone (IANA, such as "Asia/Shanghai"). */
export function dateIn(timeZone: string, atMs: number): string {
  const parts: Record<string, string> = {};
  for (const { type, value } of new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(atMs)) parts[type] = value;
  return `${parts.year}-${parts.month}-${parts.day}`;
}
