import type { GuardRecord } from "@mcs/core";
import type { Db, Queryable } from "../db/db.ts";
import { writeAudit } from "./audit-store.ts";
import type { Actor } from "./device-store.ts";

interface Row {
  first_start_at: Date | string;
  file: string | null;
  activated_at: Date | string | null;
  last_check_at: Date | string | null;
  last_check_ok_at: Date | string | null;
  last_check_error: string | null;
  revoked: boolean;
  max_seen_at: Date | string;
}

const ms = (value: Date | string | null): number | null => (value === null ? null : new Date(value).getTime());
const iso = (value: number | null): string | null => (value === null ? null : new Date(value).toISOString());

/** The outcome of one check with the vendor's server. */
export type CheckOutcome = { ok: true; revoked: boolean } | { ok: false; error: string };

/**
 * The license guard's one row, shared by the worker and the backend: the installed file
 * and what the checks learnt. Made on first use, the trial counting from then.
 */
export class LicenseStore {
  constructor(private readonly db: Db) {}

  /** The record, with the largest time seen raised to `now` (a clock set back lowers nothing). */
  async load(now: number): Promise<GuardRecord> {
    const rows = await this.db.query<Row>(
      `INSERT INTO license_guard (id, first_start_at, max_seen_at) VALUES (1, $1, $1)
       ON CONFLICT (id) DO UPDATE SET max_seen_at = GREATEST(license_guard.max_seen_at, EXCLUDED.max_seen_at)
       RETURNING *`,
      [iso(now)],
    );
    return recordOf(rows[0]!);
  }

  /** Installs a verified license file (audited); grace counts from now until its first check. */
  async install(file: string, now: number, actor: Actor, summary: Record<string, unknown>): Promise<void> {
    await this.load(now);
    await this.db.transaction(async (tx) => {
      const [before] = await tx.query<{ file: string | null }>(`SELECT file FROM license_guard WHERE id = 1 FOR UPDATE`);
      await tx.query(
        `UPDATE license_guard SET file = $1, activated_at = $2, last_check_at = NULL, last_check_ok_at = NULL, last_check_error = NULL, revoked = false WHERE id = 1`,
        [file, iso(now)],
      );
      await writeAudit(tx, { actor: actor.name, ip: actor.ip ?? null, action: "license.install", target: "license", before: { installed: before?.file !== null && before?.file !== undefined }, after: summary });
    });
  }

  /** Records a check's outcome (a failure keeps the last success: grace counts from it). */
  async recordCheck(outcome: CheckOutcome, at: number, tx: Queryable = this.db): Promise<void> {
    if (outcome.ok) {
      await tx.query(`UPDATE license_guard SET last_check_at = $1, last_check_ok_at = $1, last_check_error = NULL, revoked = $2 WHERE id = 1`, [iso(at), outcome.revoked]);
    } else {
      await tx.query(`UPDATE license_guard SET last_check_at = $1, last_check_error = $2 WHERE id = 1`, [iso(at), outcome.error]);
    }
  }
}

function recordOf(row: Row): GuardRecord {
  return {
    first_start_at: ms(row.first_start_at)!,
    file: row.file,
    activated_at: ms(row.activated_at),
    last_check_at: ms(row.last_check_at),
    last_check_ok_at: ms(row.last_check_ok_at),
    last_check_error: row.last_check_error,
    revoked: row.revoked,
    max_seen_at: ms(row.max_seen_at)!,
  };
}
