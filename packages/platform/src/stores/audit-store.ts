import type { Queryable } from "../db/db.ts";

export interface AuditEntry {
  actor: string;
  ip?: string | null;
  action: string;
  target: string;
  before?: unknown;
  after?: unknown;
}

// Whatever a caller passes, these never reach the audit log.
const SECRET_FIELDS = new Set(["mqtt_password_hash", "mqtt_password", "password", "password_hash", "secret", "token"]);

function withoutSecrets(value: unknown): unknown {
  if (value === null || value === undefined || typeof value !== "object") return value ?? null;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !SECRET_FIELDS.has(key)));
}

/** Writes one audit row; call it with the transaction that makes the change. */
export async function writeAudit(tx: Queryable, entry: AuditEntry): Promise<void> {
  await tx.query(`INSERT INTO audit_log (actor, ip, action, target, before, after) VALUES ($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb)`, [
    entry.actor,
    entry.ip ?? null,
    entry.action,
    entry.target,
    JSON.stringify(withoutSecrets(entry.before)),
    JSON.stringify(withoutSecrets(entry.after)),
  ]);
}

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  ip: string | null;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

export async function listAudit(db: Queryable, limit = 200): Promise<AuditRow[]> {
  const rows = await db.query<AuditRow & { at: Date; id: number | bigint }>(`SELECT * FROM audit_log ORDER BY id DESC LIMIT $1`, [limit]);
  return rows.map((row) => ({ ...row, id: Number(row.id), at: new Date(row.at).toISOString() }));
}
