import { currentLanguage } from "../i18n/index.ts";

/** A moment (ISO-8601 or Unix seconds) as the user's language writes it; "—" for none. */
export function formatTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return date.toLocaleString(currentLanguage.value, { hour12: false });
}

/** A measured value with its unit, at most 2 decimals; "—" for none. */
export function formatValue(value: number | null | undefined, unit = ""): string {
  if (value === null || value === undefined) return "—";
  const text = Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/\.?0+$/, "");
  return unit ? `${text} ${unit}` : text;
}
