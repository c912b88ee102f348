import { formatZoned } from "@mcs/core";
import type { AlarmRecord } from "@mcs/platform";
import { activeSeconds } from "./alarm-view.ts";

/** Excel opens a UTF-8 file as the system's code page (GBK in China) unless it starts with a BOM. */
const BOM = "\uFEFF";

export const CSV_COLUMNS = [
  "id", "sn", "type", "level", "state", "ppm", "peak", "reason", "raised_at", "acked_at", "acked_by", "ack_comment", "cleared_at", "closed_at", "active_s",
  // Added later, so a sheet built on the first columns keeps working.
  "peak_at", "late", "received_at",
] as const;

/** Free text typed by people: a cell starting like a formula would run as one in a spreadsheet. */
const TEXT_COLUMNS = new Set<string>(["reason", "acked_by", "ack_comment"]);
/** Moments: written as the plant's wall clock with the offset, "2026-12-04 14:03:05 +08:00". */
const TIME_COLUMNS = ["raised_at", "acked_at", "cleared_at", "closed_at", "peak_at", "received_at"] as const;

/** A moment (ISO-8601) as the plant's wall clock with its offset: "2026-12-04 14:03:05 +08:00"; null stays empty. */
export function plantCell(iso: string | null | undefined, timeZone: string): string | null {
  if (iso === null || iso === undefined) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : formatZoned(ms, timeZone, { withOffset: true });
}

/** One alarm per line (RFC 4180, CRLF), a header first, a BOM before it; times in the plant's zone (`timeZone`). */
export function alarmsCsv(alarms: readonly AlarmRecord[], nowMs: number, timeZone: string): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const alarm of alarms) {
    const values: Record<(typeof CSV_COLUMNS)[number], unknown> = { ...alarm, active_s: activeSeconds(alarm, nowMs) };
    for (const column of TIME_COLUMNS) values[column] = plantCell(alarm[column], timeZone);
    lines.push(CSV_COLUMNS.map((column) => cell(values[column], TEXT_COLUMNS.has(column))).join(","));
  }
  return `${BOM}${lines.join("\r\n")}\r\n`;
}

function cell(value: unknown, text: boolean): string {
  if (value === null || value === undefined) return "";
  let out = String(value);
  if (text && /^[=+\-@\t\r]/.test(out)) out = `'${out}`;
  return /[",\r\n]/.test(out) ? `"${out.replace(/"/g, '""')}"` : out;
}
