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

/** One alarm per line (RFC 4180, CRLF), a header first, a BOM before it. */
export function alarmsCsv(alarms: readonly AlarmRecord[], nowMs: number): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const alarm of alarms) {
    const values: Record<(typeof CSV_COLUMNS)[number], unknown> = { ...alarm, active_s: activeSeconds(alarm, nowMs) };
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
