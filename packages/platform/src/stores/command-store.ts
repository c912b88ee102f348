import type { AckMessage, CommandName, CommandView } from "@mcs/protocol";
import type { Db, Queryable } from "../db/db.ts";
import type { Actor } from "./device-store.ts";
import { writeAudit } from "./audit-store.ts";
import { iso, isoOrNull } from "./times.ts";

/** A new command: `expiresAt` ends its wait for an offline device (Unix ms). */
export interface NewCommand {
  id: string;
  sn: string;
  cmd: CommandName;
  params: Record<string, unknown>;
  expiresAt: number;
}

/** What a device's acknowledgement did. */
export type AckOutcome =
  | { kind: "applied"; command: CommandView }
  /** Already acked or failed: a resent ack (QoS 1 is at least once), nothing to do. */
  | { kind: "duplicate" }
  | { kind: "unknown" }
  /** The id names a command sent to another device. */
  | { kind: "other-device" };

const COLUMNS = `id::text AS id, sn, cmd, params, status, msg, created_by, created_at, expires_at, sent_at, acked_at, finished_at`;


function toView(row: Record<string, unknown>): CommandView {
  return {
    ...(row as unknown as CommandView),
    params: (typeof row.params === "string" ? JSON.parse(row.params) : row.params) as Record<string, unknown>,
    created_at: new Date(row.created_at as string).toISOString(),
    expires_at: new Date(row.expires_at as string).toISOString(),
    sent_at: isoOrNull(row.sent_at),
    acked_at: isoOrNull(row.acked_at),
    finished_at: isoOrNull(row.finished_at),
  };
}

/**
 * Downlink commands and their life: pending → sent → acked | failed | timeout. Every
 * time comes from the caller's clock (tests move it by hand), never from the database's
 * now(). Creation and the outcome are written to the audit log with the change.
 */
export class CommandStore {
  constructor(private readonly db: Db) {}

  async create(command: NewCommand, actor: Actor, nowMs: number): Promise<CommandView> {
    return this.db.transaction((tx) => insertCommand(tx, command, actor, nowMs));
  }

  async get(sn: string, id: string): Promise<CommandView | null> {
    const [row] = await this.db.query(`SELECT ${COLUMNS} FROM commands WHERE id = $1::uuid AND sn = $2`, [id, sn]);
    return row ? toView(row) : null;
  }

  /** A device's commands, newest first. */
  async list(sn: string, limit: number): Promise<CommandView[]> {
    return (await this.db.query(`SELECT ${COLUMNS} FROM commands WHERE sn = $1 ORDER BY seq DESC LIMIT $2`, [sn, limit])).map(toView);
  }

  /**
   * Takes the device's deliverable pending commands, oldest first, for `leaseMs`: another
   * deliverer (the backend, another worker) skips them meanwhile, so a command is not
   * published twice by two processes. One statement, so two claims never overlap.
   */
  async claimPending(sn: string, nowMs: number, leaseMs: number): Promise<CommandView[]> {
    const rows = await this.db.query<Record<string, unknown> & { seq: number | bigint }>(
      `UPDATE commands SET lease_until = $3::timestamptz
       WHERE sn = $1 AND status = 'pending' AND expires_at > $2::timestamptz AND (lease_until IS NULL OR lease_until <= $2::timestamptz)
       RETURNING ${COLUMNS}, seq`,
      [sn, iso(nowMs), iso(nowMs + leaseMs)],
    );
    return rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map(toView);
  }

  /** Gives a claimed command back (it could not be published): the next delivery takes it. */
  async release(id: string): Promise<void> {
    await this.db.query(`UPDATE commands SET lease_until = NULL WHERE id = $1::uuid AND status = 'pending'`, [id]);
  }

  /**
   * The broker took the command: pending → sent, with the time its ack is due. A device
   * may ack before this lands (the ack took the command from pending already): then
   * only `sent_at` is filled in.
   */
  async markSent(id: string, nowMs: number, ackDueMs: number): Promise<void> {
    await this.db.query(
      `UPDATE commands SET sent_at = COALESCE(sent_at, $2::timestamptz), lease_until = NULL,
         ack_due_at = CASE WHEN status = 'pending' THEN $3::timestamptz ELSE ack_due_at END,
         status = CASE WHEN status = 'pending' THEN 'sent' ELSE status END
       WHERE id = $1::uuid`,
      [id, iso(nowMs), iso(ackDueMs)],
    );
  }

  /**
   * Records a device's answer: acked (`ok`) or failed, with its message. A late answer to
   * a command already timed out is recorded too: the device did act on it.
   */
  async applyAck(sn: string, ack: AckMessage, nowMs: number): Promise<AckOutcome> {
    return this.db.transaction(async (tx) => {
      const [found] = await tx.query<{ sn: string; status: string }>(`SELECT sn, status FROM commands WHERE id = $1::uuid FOR UPDATE`, [ack.id]);
      if (!found) return { kind: "unknown" };
      if (found.sn !== sn) return { kind: "other-device" };
      if (found.status === "acked" || found.status === "failed") return { kind: "duplicate" };
      const [row] = await tx.query(
        `UPDATE commands SET status = $2, msg = $3, acked_at = $4::timestamptz, finished_at = $4::timestamptz, lease_until = NULL
         WHERE id = $1::uuid RETURNING ${COLUMNS}`,
        [ack.id, ack.ok ? "acked" : "failed", ack.msg, iso(nowMs)],
      );
      const command = toView(row!);
      await audit(tx, `device ${sn}`, [command], found.status);
      return { kind: "applied", command };
    });
  }

  /**
   * Ends what waited too long: a pending command past its expiry, a sent one past its
   * ack deadline. Safe to run in several processes at once (each row changes once).
   */
  async expire(nowMs: number): Promise<CommandView[]> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query(
        `UPDATE commands SET status = 'timeout', finished_at = $1::timestamptz, lease_until = NULL
         WHERE (status = 'pending' AND expires_at <= $1::timestamptz) OR (status = 'sent' AND ack_due_at <= $1::timestamptz)
         RETURNING ${COLUMNS}`,
        [iso(nowMs)],
      );
      const expired = rows.map(toView);
      await audit(tx, "system", expired);
      return expired;
    });
  }

  /** Devices with pending commands that may go out now (not expired, not claimed). */
  async devicesWithPending(nowMs: number): Promise<string[]> {
    const rows = await this.db.query<{ sn: string }>(
      `SELECT DISTINCT sn FROM commands
       WHERE status = 'pending' AND expires_at > $1::timestamptz AND (lease_until IS NULL OR lease_until <= $1::timestamptz)`,
      [iso(nowMs)],
    );
    return rows.map((row) => row.sn);
  }
}

/** Stores a new pending command with its audit row, in the caller's transaction. */
export async function insertCommand(tx: Queryable, command: NewCommand, actor: Actor, nowMs: number): Promise<CommandView> {
  const [row] = await tx.query(
    `INSERT INTO commands (id, sn, cmd, params, status, created_by, created_at, expires_at)
     VALUES ($1::uuid, $2, $3, $4::text::jsonb, 'pending', $5, $6::timestamptz, $7::timestamptz) RETURNING ${COLUMNS}`,
    [command.id, command.sn, command.cmd, JSON.stringify(command.params), actor.name, iso(nowMs), iso(command.expiresAt)],
  );
  const created = toView(row!);
  await writeAudit(tx, {
    actor: actor.name, ip: actor.ip, action: "command.create", target: command.sn,
    after: { id: created.id, cmd: created.cmd, params: withoutSignature(created.params), expires_at: created.expires_at },
  });
  return created;
}

/** An `ota` command's download URL carries a signature: the audit log keeps the address without it. */
function withoutSignature(params: Record<string, unknown>): Record<string, unknown> {
  if (typeof params.url !== "string") return params;
  try {
    const url = new URL(params.url);
    if (!url.searchParams.has("sig")) return params;
    url.searchParams.set("sig", "…");
    return { ...params, url: url.toString() };
  } catch {
    return params;
  }
}

async function audit(tx: Queryable, actor: string, commands: CommandView[], before?: string): Promise<void> {
  for (const command of commands) {
    await writeAudit(tx, {
      actor,
      action: `command.${command.status}`,
      target: command.sn,
      before: before === undefined ? undefined : { id: command.id, status: before },
      after: { id: command.id, cmd: command.cmd, status: command.status, msg: command.msg },
    });
  }
}
