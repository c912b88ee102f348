import type { Queryable } from "../db/db.ts";

export interface AuditEntry {
  actor: string;
  ip?: string | null;
  action: string;
  target: string;
  before?: unknown;
  after?: unknown;
}

// Whatever a caller passes, these never reach the audit log: the names below, and any key
// ending in password, secret or token (`new_password`, `client_secret`, `access_token`…).
const SECRET_FIELDS = new Set(["mqtt_password_hash", "mqtt_password", "password", "password_hash", "secret", "token", "csrf"]);
const SECRET_SUFFIX = /(^|_)(password|password_hash|secret|token)$/i;

function withoutSecrets(value: unknown): unknown {
  if (value === null || value === undefined || typeof value !== "object") return value ?? null;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !SECRET_FIELDS.has(key) && !SECRET_SUFFIX.test(key)));
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

/** Which rows of the audit log: all of these that are given must match. */
export interface AuditFilter {
  /** Who acted (exact, case-insensitive). */
  actor?: string | undefined;
  /** An action (`user.update`) or a family of them (`user` matches `user.create` and `user.password.reset`). */
  action?: string | undefined;
  /** What was changed (exact, case-insensitive). */
  target?: string | undefined;
  /** Text anywhere in the actor, action or target (case-insensitive). */
  q?: string | undefined;
  /** Unix ms: at or after. */
  from?: number | undefined;
  /** Unix ms: before. */
  to?: number | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
}

/** `text` as a LIKE pattern that matches it literally (with `\` as the escape). */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

function whereOf(filter: AuditFilter): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.actor !== undefined) clauses.push(`lower(actor) = lower(${param(filter.actor)})`);
  if (filter.action !== undefined) {
    const p = param(filter.action);
    clauses.push(`(action = ${p} OR action LIKE ${param(`${likeLiteral(filter.action)}.%`)} ESCAPE '\\')`);
  }
  if (filter.target !== undefined) clauses.push(`lower(target) = lower(${param(filter.target)})`);
  if (filter.q !== undefined) {
    const p = param(`%${likeLiteral(filter.q)}%`);
    clauses.push(`(target ILIKE ${p} ESCAPE '\\' OR action ILIKE ${p} ESCAPE '\\' OR actor ILIKE ${p} ESCAPE '\\')`);
  }
  if (filter.from !== undefined) clauses.push(`at >= ${param(new Date(filter.from).toISOString())}::timestamptz`);
  if (filter.to !== undefined) clauses.push(`at < ${param(new Date(filter.to).toISOString())}::timestamptz`);
  return { sql: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", params };
}

/** The rows that match, newest first: at most `limit` (200) after skipping `offset`. */
export async function listAudit(db: Queryable, filterOrLimit: AuditFilter | number = {}): Promise<AuditRow[]> {
  const filter = typeof filterOrLimit === "number" ? { limit: filterOrLimit } : filterOrLimit;
  const { sql, params } = whereOf(filter);
  const rows = await db.query<AuditRow & { at: Date; id: number | bigint }>(
    `SELECT id, at, actor, ip, action, target, before, after FROM audit_log ${sql} ORDER BY id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, filter.limit ?? 200, filter.offset ?? 0],
  );
  return rows.map((row) => ({ ...row, id: Number(row.id), at: new Date(row.at).toISOString() }));
}

/** How many rows match (limit and offset aside). */
export async function countAudit(db: Queryable, filter: AuditFilter = {}): Promise<number> {
  const { sql, params } = whereOf(filter);
  const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log ${sql}`, params);
  return row?.n ?? 0;
}
