import type { z } from "zod";
import type { AuditEntrySchema } from "@mcs/protocol";
import { http, urlOf } from "./http.ts";

export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** The audit log's filters; empty ones are left out. `from`/`to` are ISO-8601. */
export interface AuditFilter {
  q: string;
  actor: string;
  action: string;
  target: string;
  from: string;
  to: string;
}

const query = (filter: AuditFilter) => ({
  q: filter.q.trim(),
  actor: filter.actor.trim(),
  action: filter.action.trim(),
  target: filter.target.trim(),
  from: filter.from,
  to: filter.to,
});

export const auditApi = {
  /** A page of the log, newest first, with how many rows match in all. */
  list: (filter: AuditFilter, limit: number, offset: number) =>
    http.get<{ data: AuditEntry[]; total: number }>("/api/audit", { query: { ...query(filter), limit, offset } }),
  /** A download link for every row that matches (the session cookie goes with it). */
  exportUrl: (filter: AuditFilter) => urlOf("/api/audit/export.csv", query(filter)),
};
