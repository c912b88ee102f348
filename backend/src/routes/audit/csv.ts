import { formatZoned } from "@mcs/core";
import type { AuditRow } from "@mcs/platform";

/** Excel opens a UTF-8 file as the system's code page (GBK in China) unless it starts with a BOM. */
const BOM = "\uFEFF";

export const AUDIT_CSV_COLUMNS = ["id", "at", "actor", "ip", "action", "target", "before", "after"] as const;

/** One change per line (RFC 4180, CRLF), a header first, a BOM before it; before/after as JSON text; `at` in the plant's zone with its offset. */
export function auditCsv(rows: readonly AuditRow[], timeZone: string): string {
  const lines: string[] = [AUDIT_CSV_COLUMNS.join(",")];
  for (const row of rows) {
    lines.push(
      [
        String(row.id),
        Number.isNaN(Date.parse(row.at)) ? cell(row.at) : formatZoned(Date.parse(row.at), timeZone, { withOffset: true }),
        cell(row.actor),
        cell(row.ip ?? ""),
        cell(row.action),
        cell(row.target),
        cell(row.before === null || row.before === undefined ? "" : JSON.stringify(row.before)),
        cell(row.after === null || row.after === undefined ? "" : JSON.stringify(row.after)),
      ].join(","),
    );
  }
  return `${BOM}${lines.join("\r\n")}\r\n`;
}

/** Text from people (names, device names): a cell starting like a formula would run as one in a spreadsheet. */
function cell(value: string): string {
  const out = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(out) ? `"${out.replace(/"/g, '""')}"` : out;
}
