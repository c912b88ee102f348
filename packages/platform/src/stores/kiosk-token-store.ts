import type { Db } from "../db/db.ts";
import type { Actor } from "./device-store.ts";
import { writeAudit } from "./audit-store.ts";
import { iso, isoOrNull } from "./times.ts";

/** A wall screen's login as stored: never the token, only its hash (which is not listed either). */
export interface KioskTokenRecord {
  id: number;
  name: string;
  created_by: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** `last_used_at` is written at most this often per token, not on every request. */
export const KIOSK_TOUCH_EVERY_MS = 60_000;

const COLUMNS = `id, name, created_by, created_at, last_used_at, revoked_at`;

function toRecord(row: Record<string, unknown>): KioskTokenRecord {
  return {
    id: Number(row.id),
    name: row.name as string,
    created_by: row.created_by as string,
    created_at: new Date(row.created_at as string).toISOString(),
    last_used_at: isoOrNull(row.last_used_at),
    revoked_at: isoOrNull(row.revoked_at),
  };
}

/**
 * Kiosk tokens (table `kiosk_tokens`): an admin issues one per wall screen; it logs the
 * screen in as a read-only viewer until it is revoked. Issuing and revoking are audited
 * in the same transaction; the token itself is kept only as its sha256.
 */
export class KioskTokenStore {
  constructor(private readonly db: Db) {}

  /** Newest first, revoked ones too (with `revoked_at`). */
  async list(): Promise<KioskTokenRecord[]> {
    return (await this.db.query(`SELECT ${COLUMNS} FROM kiosk_tokens ORDER BY id DESC`)).map(toRecord);
  }

  async get(id: number): Promise<KioskTokenRecord | null> {
    const [row] = await this.db.query(`SELECT ${COLUMNS} FROM kiosk_tokens WHERE id = $1`, [id]);
    return row ? toRecord(row) : null;
  }

  async create(name: string, tokenHash: string, actor: Actor, nowMs: number): Promise<KioskTokenRecord> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query(
        `INSERT INTO kiosk_tokens (name, token_hash, created_by, created_at) VALUES ($1, $2, $3, $4::timestamptz) RETURNING ${COLUMNS}`,
        [name, tokenHash, actor.name, iso(nowMs)],
      );
      const record = toRecord(row!);
      await writeAudit(tx, { actor: actor.name, ip: actor.ip, action: "kiosk_token.create", target: `kiosk token ${record.id} (${name})`, before: null, after: { id: record.id, name } });
      return record;
    });
  }

  /**
   * Revokes a token (idempotent: an already revoked one stays as it was, without a new
   * audit row). Null when there is no such token.
   */
  async revoke(id: number, actor: Actor, nowMs: number): Promise<KioskTokenRecord | null> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query(`SELECT ${COLUMNS} FROM kiosk_tokens WHERE id = $1 FOR UPDATE`, [id]);
      if (!row) return null;
      const before = toRecord(row);
      if (before.revoked_at !== null) return before;
      const [updated] = await tx.query(`UPDATE kiosk_tokens SET revoked_at = $2::timestamptz WHERE id = $1 RETURNING ${COLUMNS}`, [id, iso(nowMs)]);
      const after = toRecord(updated!);
      await writeAudit(tx, {
        actor: actor.name, ip: actor.ip, action: "kiosk_token.revoke", target: `kiosk token ${id} (${before.name})`,
        before: { revoked_at: null }, after: { revoked_at: after.revoked_at },
      });
      return after;
    });
  }

  /** The live (not revoked) token with this hash, or null. */
  async findActive(tokenHash: string): Promise<KioskTokenRecord | null> {
    const [row] = await this.db.query(`SELECT ${COLUMNS} FROM kiosk_tokens WHERE token_hash = $1 AND revoked_at IS NULL`, [tokenHash]);
    return row ? toRecord(row) : null;
  }

  /** Of these ids, the ones still live (for connections that were let in earlier). */
  async active(ids: readonly number[]): Promise<Set<number>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.query<{ id: number }>(`SELECT id FROM kiosk_tokens WHERE id = ANY($1::int[]) AND revoked_at IS NULL`, [ids]);
    return new Set(rows.map((row) => Number(row.id)));
  }

  /**
   * Notes a use: written only when the last noted one is older than KIOSK_TOUCH_EVERY_MS
   * (`token` is the record as just read), so a busy screen costs no write per request.
   */
  async touch(token: KioskTokenRecord, nowMs: number): Promise<void> {
    if (token.last_used_at !== null && nowMs - Date.parse(token.last_used_at) < KIOSK_TOUCH_EVERY_MS) return;
    await this.db.query(
      `UPDATE kiosk_tokens SET last_used_at = $2::timestamptz
       WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3::timestamptz)`,
      [token.id, iso(nowMs), iso(nowMs - KIOSK_TOUCH_EVERY_MS)],
    );
  }
}
