import { plantDateTime, plantTimeZone } from "./plant-time.ts";

/**
 * A moment (ISO-8601 or Unix seconds) as `2026-12-04 14:03:05` in the plant's time zone
 * (never the browser's; see lib/plant-time.ts); "—" for none or an unreadable value. Reactive
 * where it is read: the times change when the plant's zone is loaded or changed.
 */
export function formatTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const ms = typeof value === "number" ? value * 1000 : Date.parse(value);
  if (Number.isNaN(ms)) return "—";
  return plantDateTime(ms, plantTimeZone.value);
}

/** A measured value with its unit, at most 2 decimals; "—" for none. */
export function formatValue(value: number | null | undefined, unit = ""): string {
  if (value === null || value === undefined) return "—";
  const text = Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/\.?0+$/, "");
  return unit ? `${text} ${unit}` : text;
}
