export interface TimeWindow {
  /** 1 = Monday … 7 = Sunday. */
  days: number[];
  /** "08:00" */
  start: string;
  /** "18:00"; an end before the start crosses midnight; "24:00" is the end of the day. */
  end: string;
}

export interface NotifySchedule {
  /** IANA, default "Asia/Shanghai". */
  timezone: string;
  windows: TimeWindow[];
  /** "YYYY-MM-DD": no window starts that day. */
  holidays: string[];
  /** "YYYY-MM-DD": make-up working days (调休), treated as a Monday. */
  workdays: string[];
}

export const DEFAULT_TIMEZONE = "Asia/Shanghai";

/**
 * Whether `at` (Unix ms) falls in one of the schedule's windows, by the local clock of its
 * time zone. A window belongs to the day it starts: Fri 22:00–06:00 covers Fri 22:00 →
 * Sat 06:00, and a holiday on Friday removes all of it. null means always. A schedule that is
 * invalid also answers always: a typo must never silence an alarm.
 */
export function isWithinSchedule(schedule: NotifySchedule | null, at: number): boolean {
  if (schedule === null || !Number.isFinite(at) || validateSchedule(schedule) !== null) return true;
  const { date, minutes } = localTime(schedule.timezone ?? DEFAULT_TIMEZONE, at);
  const dayOf = (offset: number) => effectiveWeekday(schedule, addDays(date, offset));
  return schedule.windows.some((window) => {
    const start = toMinutes(window.start);
    const end = toMinutes(window.end);
    if (start < end) return minutes >= start && minutes < end && window.days.includes(dayOf(0));
    // Crosses midnight: the evening part is today's window, the morning part yesterday's.
    return (minutes >= start && window.days.includes(dayOf(0))) || (minutes < end && window.days.includes(dayOf(-1)));
  });
}

/** Why the schedule is invalid, naming the field (e.g. "windows[1].end: …"), or null when it is valid. */
export function validateSchedule(schedule: unknown): string | null {
  if (!isRecord(schedule)) return "schedule must be an object";
  const { timezone, windows } = schedule;
  if (timezone !== undefined && (typeof timezone !== "string" || !isTimeZone(timezone))) {
    return `timezone: ${JSON.stringify(timezone)} is not an IANA time zone such as "Asia/Shanghai"`;
  }
  if (!Array.isArray(windows)) return "windows must be a list of time windows";
  for (const [index, window] of windows.entries()) {
    const problem = windowProblem(window);
    if (problem !== null) return `windows[${index}]${problem}`;
  }
  const lists: Record<string, string[]> = {};
  for (const field of ["holidays", "workdays"] as const) {
    const dates: unknown = schedule[field] ?? [];
    if (!Array.isArray(dates)) return `${field} must be a list of dates "YYYY-MM-DD"`;
    const bad = dates.findIndex((date) => typeof date !== "string" || !isDate(date));
    if (bad >= 0) return `${field}[${bad}]: ${JSON.stringify(dates[bad])} is not a date "YYYY-MM-DD"`;
    lists[field] = dates as string[];
  }
  const both = (lists.workdays ?? []).findIndex((date) => (lists.holidays ?? []).includes(date));
  if (both >= 0) return `workdays[${both}]: ${lists.workdays?.[both]} is also in holidays`;
  return null;
}

function windowProblem(window: unknown): string | null {
  if (!isRecord(window)) return " must be an object with days, start and end";
  const { days, start, end } = window;
  if (!Array.isArray(days) || days.length === 0) return ".days must be a non-empty list of weekdays 1 (Mon) … 7 (Sun)";
  const badDay = days.findIndex((day) => !Number.isInteger(day) || day < 1 || day > 7);
  if (badDay >= 0) return `.days[${badDay}]: ${JSON.stringify(days[badDay])} is not a weekday 1 (Mon) … 7 (Sun)`;
  if (typeof start !== "string" || !/^([01]\d|2[0-3]):[0-5]\d$/.test(start)) {
    return `.start: ${JSON.stringify(start)} is not a time "HH:MM" from 00:00 to 23:59`;
  }
  if (typeof end !== "string" || !/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/.test(end)) {
    return `.end: ${JSON.stringify(end)} is not a time "HH:MM" from 00:00 to 24:00`;
  }
  if (start === end) return `.end: equals start ${start}, an empty window (a whole day is 00:00–24:00)`;
  return null;
}

/** The local weekday that decides a day's windows: none on a holiday, Monday's on a make-up workday. */
function effectiveWeekday(schedule: NotifySchedule, date: string): number {
  if ((schedule.holidays ?? []).includes(date)) return 0;
  if ((schedule.workdays ?? []).includes(date)) return 1;
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() || 7;
}

function toMinutes(time: string): number {
  const [hours, minutes] = time.split(":").map(Number) as [number, number];
  return hours * 60 + minutes;
}

/** Calendar arithmetic on "YYYY-MM-DD", independent of any time zone. */
function addDays(date: string, days: number): string {
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

// Building a formatter costs far more than using one; a device fleet shares a few zones.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, format);
  }
  return format;
}

function localTime(timeZone: string, at: number): { date: string; minutes: number } {
  const parts: Record<string, string> = {};
  for (const { type, value } of formatter(timeZone).formatToParts(at)) parts[type] = value;
  // Some engines say "24" for midnight even in h23.
  const hour = Number(parts.hour) % 24;
  return { date: `${parts.year}-${parts.month}-${parts.day}`, minutes: hour * 60 + Number(parts.minute) };
}

function isTimeZone(timeZone: string): boolean {
  if (timeZone === "") return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

function isDate(date: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return false;
  const [year, month, day] = date.split("-").map(Number) as [number, number, number];
  const parsed = new Date(Date.UTC(year, month - 1, day));
  return parsed.getUTCFullYear() === year && parsed.getUTCMonth() === month - 1 && parsed.getUTCDate() === day;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
