import { plantTimeZone, zonedFormatter } from "../../lib/plant-time.ts";

/**
 * The plant's clock: every time on the screen is in the plant's time zone (the setting,
 * lib/plant-time.ts; Asia/Shanghai until it is loaded), whatever the PC's zone.
 */
function formatter(language: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return zonedFormatter(plantTimeZone.value, language, options);
}

function parts(date: Date, language: string, options: Intl.DateTimeFormatOptions): Record<string, string> {
  const found: Record<string, string> = {};
  for (const part of formatter(language, options).formatToParts(date)) found[part.type] = part.value;
  if (found.hour === "24") found.hour = "00";
  return found;
}

/** `2025-06-01`, `14:03:05` and the weekday in the screen's language, for the top bar. */
export function clockOf(ms: number, language: string): { date: string; time: string; weekday: string } {
  const date = new Date(ms);
  const p = parts(date, "en-GB", { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const weekday = formatter(language, { weekday: "short" }).format(date);
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}:${p.second}`, weekday };
}

/** An alarm's time: `14:03:05` today, `06-01 14:03:05` on another day (plant time). */
export function shortTime(iso: string, nowMs: number): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return "—";
  const p = parts(new Date(ms), "en-GB", { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const today = parts(new Date(nowMs), "en-GB", { month: "2-digit", day: "2-digit" });
  const time = `${p.hour}:${p.minute}:${p.second}`;
  return p.month === today.month && p.day === today.day ? time : `${p.month}-${p.day} ${time}`;
}

/** Whole seconds, minutes and hours of a duration, for "… ago" texts. */
export function durationParts(ms: number): { h: number; m: number; s: number } {
  const total = Math.max(0, Math.floor(ms / 1000));
  return { h: Math.floor(total / 3600), m: Math.floor((total % 3600) / 60), s: total % 60 };
}

/** A chart axis label in plant time: `14:03` (with `06-01` before it when `withDate`). */
export function axisTime(ms: number, withDate: boolean): string {
  const p = parts(new Date(ms), "en-GB", { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  return withDate ? `${p.month}-${p.day} ${p.hour}:${p.minute}` : `${p.hour}:${p.minute}`;
}

/** A tooltip's time in plant time: `06-01 14:03:05`. */
export function pointTime(ms: number): string {
  const p = parts(new Date(ms), "en-GB", { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  return `${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}
