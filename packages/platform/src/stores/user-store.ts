import type { Role, User, UserAccount, UserPatch } from "@mcs/protocol";
import type { Db, Queryable } from "../db/db.ts";
import type { Actor } from "./device-store.ts";
import { writeAudit } from "./audit-store.ts";

/** A user as the login needs it: the password's hash and the lock-out state. */
export interface UserRecord extends User {
  password_hash: string;
  disabled: boolean;
  /** Consecutive failed logins since the last success (or the last lock). */
  failed_logins: number;
  /** Unix ms until which the account is locked; null when it never was or was unlocked. */
  locked_until: number | null;
}

/** A user as a request's authentication needs it. */
export interface UserIdentity extends User {
  disabled: boolean;
}

/** A user with this name exists already (names are unique whatever their case). */
export class UserConflictError extends Error {}
/** The change would leave no enabled admin. */
export class LastAdminError extends Error {}

export interface LockoutPolicy {
  /** Consecutive failures that lock the account. */
  maxFailures: number;
  lockMs: number;
}

const ACCOUNT_COLUMNS = `id, username, role, disabled, locked_until, created_at, password_changed_at`;

interface AccountRow {
  id: number;
  username: string;
  role: Role;
  disabled: boolean;
  locked_until: Date | string | null;
  created_at: Date | string;
  password_changed_at: Date | string | null;
}

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());
const ms = (value: Date | string | null): number | null => (value === null ? null : new Date(value).getTime());

/** The admin site's view of an account; a lock that has run out shows as none. */
function toAccount(row: AccountRow, nowMs: number): UserAccount {
  const lockedUntil = ms(row.locked_until);
  return {
    id: row.id,
    username: row.username,
    role: row.role,
    disabled: row.disabled,
    locked_until: lockedUntil !== null && lockedUntil > nowMs ? new Date(lockedUntil).toISOString() : null,
    created_at: iso(row.created_at)!,
    password_changed_at: iso(row.password_changed_at),
  };
}

/** What an audit row shows of an account (never the password or its hash). */
function audited(row: AccountRow): Record<string, unknown> {
  return {
    id: row.id,
    username: row.username,
    role: row.role,
    disabled: row.disabled,
    locked_until: iso(row.locked_until),
    created_at: iso(row.created_at),
    password_changed_at: iso(row.password_changed_at),
  };
}

/**
 * People's accounts. Every change writes its audit row in the same transaction; a change
 * that could leave the plant without an enabled admin locks the admins' rows first, so two
 * admins demoting each other at once cannot both succeed.
 */
export class UserStore {
  constructor(private readonly db: Db) {}

  async findByUsername(username: string): Promise<UserRecord | null> {
    const [row] = await this.db.query<Omit<UserRecord, "locked_until"> & { locked_until: Date | string | null }>(
      `SELECT id, username, role, password_hash, disabled, failed_logins, locked_until FROM users WHERE username = $1`,
      [username],
    );
    return row ? { ...row, locked_until: ms(row.locked_until) } : null;
  }

  async get(id: number): Promise<UserIdentity | null> {
    const [row] = await this.db.query<UserIdentity>(`SELECT id, username, role, disabled FROM users WHERE id = $1`, [id]);
    return row ?? null;
  }

  async account(id: number, nowMs: number): Promise<UserAccount | null> {
    const [row] = await this.db.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM users WHERE id = $1`, [id]);
    return row ? toAccount(row, nowMs) : null;
  }

  async list(nowMs: number): Promise<UserAccount[]> {
    const rows = await this.db.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM users ORDER BY id`);
    return rows.map((row) => toAccount(row, nowMs));
  }

  async count(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM users`);
    return row?.n ?? 0;
  }

  /** A new user; `passwordHash` is already hashed. Throws UserConflictError when the name is taken (whatever its case). */
  async create(username: string, passwordHash: string, role: Role, actor: Actor, nowMs?: number): Promise<User> {
    return this.db.transaction(async (tx) => {
      const [taken] = await tx.query(`SELECT 1 FROM users WHERE lower(username) = lower($1)`, [username]);
      if (taken) throw new UserConflictError(`a user named ${username} exists already`);
      const rows = await tx.query<AccountRow>(
        `INSERT INTO users (username, password_hash, role, password_changed_at) VALUES ($1, $2, $3, coalesce($4::timestamptz, now()))
         ON CONFLICT (username) DO NOTHING RETURNING ${ACCOUNT_COLUMNS}`,
        [username, passwordHash, role, nowMs === undefined ? null : new Date(nowMs).toISOString()],
      );
      const row = rows[0];
      if (!row) throw new UserConflictError(`a user named ${username} exists already`);
      await writeAudit(tx, { actor: actor.name, ip: actor.ip, action: "user.create", target: username, after: audited(row) });
      return { id: row.id, username: row.username, role: row.role };
    });
  }

  /**
   * Changes the role or the enabled state. Null when there is no such user; throws
   * LastAdminError when it would leave no enabled admin. `revoke`: the user's sessions must end
   * (a new role, or disabled).
   */
  async update(id: number, patch: UserPatch, actor: Actor, nowMs: number): Promise<{ account: UserAccount; revoke: boolean } | null> {
    return this.db.transaction(async (tx) => {
      const before = await lockedRow(tx, id);
      if (!before) return null;
      const role = patch.role ?? before.role;
      const disabled = patch.disabled ?? before.disabled;
      if (role === before.role && disabled === before.disabled) return { account: toAccount(before, nowMs), revoke: false };
      if (before.role === "admin" && !before.disabled && (role !== "admin" || disabled)) await mustKeepAnAdmin(tx, id, before.username);
      const [after] = await tx.query<AccountRow>(`UPDATE users SET role = $2, disabled = $3 WHERE id = $1 RETURNING ${ACCOUNT_COLUMNS}`, [id, role, disabled]);
      await writeAudit(tx, {
        actor: actor.name,
        ip: actor.ip,
        action: "user.update",
        target: before.username,
        before: { role: before.role, disabled: before.disabled },
        after: { role, disabled },
      });
      // A lesser role or a disabled account: the sessions go. Enabling one has none to end.
      return { account: toAccount(after!, nowMs), revoke: role !== before.role || (disabled && !before.disabled) };
    });
  }

  /**
   * Sets a new password (already hashed) and lifts any lock. `action` is
   * `user.password.reset` (by an admin) or `user.password.change` (by the user). Null when there is no such user.
   */
  async setPassword(id: number, passwordHash: string, action: "user.password.reset" | "user.password.change", actor: Actor, nowMs: number): Promise<UserAccount | null> {
    return this.db.transaction(async (tx) => {
      const before = await lockedRow(tx, id);
      if (!before) return null;
      const [after] = await tx.query<AccountRow>(
        `UPDATE users SET password_hash = $2, password_changed_at = $3::timestamptz, failed_logins = 0, locked_until = NULL WHERE id = $1 RETURNING ${ACCOUNT_COLUMNS}`,
        [id, passwordHash, new Date(nowMs).toISOString()],
      );
      await writeAudit(tx, {
        actor: actor.name,
        ip: actor.ip,
        action,
        target: before.username,
        before: { password_changed_at: iso(before.password_changed_at), locked_until: iso(before.locked_until) },
        after: { password_changed_at: iso(after!.password_changed_at), locked_until: null },
      });
      return toAccount(after!, nowMs);
    });
  }

  /** Lifts a lock-out (and forgets the failures). Null when there is no such user. */
  async unlock(id: number, actor: Actor, nowMs: number): Promise<UserAccount | null> {
    return this.db.transaction(async (tx) => {
      const [before] = await tx.query<AccountRow & { failed_logins: number }>(`SELECT ${ACCOUNT_COLUMNS}, failed_logins FROM users WHERE id = $1 FOR UPDATE`, [id]);
      if (!before) return null;
      const [after] = await tx.query<AccountRow>(`UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1 RETURNING ${ACCOUNT_COLUMNS}`, [id]);
      await writeAudit(tx, {
        actor: actor.name,
        ip: actor.ip,
        action: "user.unlock",
        target: before.username,
        before: { locked_until: iso(before.locked_until), failed_logins: before.failed_logins },
        after: { locked_until: null, failed_logins: 0 },
      });
      return toAccount(after!, nowMs);
    });
  }

  /** Deletes a user. Null when there is none; throws LastAdminError for the last enabled admin. */
  async delete(id: number, actor: Actor, nowMs: number): Promise<UserAccount | null> {
    return this.db.transaction(async (tx) => {
      const before = await lockedRow(tx, id);
      if (!before) return null;
      if (before.role === "admin" && !before.disabled) await mustKeepAnAdmin(tx, id, before.username);
      await tx.query(`DELETE FROM users WHERE id = $1`, [id]);
      await writeAudit(tx, { actor: actor.name, ip: actor.ip, action: "user.delete", target: before.username, before: audited(before) });
      return toAccount(before, nowMs);
    });
  }

  /**
   * Counts a failed login against the account. At `maxFailures` consecutive ones the
   * account is locked for `lockMs` (audited as `user.locked` with the address) and the count
   * starts again; the answer is then the lock's end (Unix ms), otherwise null.
   */
  async recordFailedLogin(id: number, policy: LockoutPolicy, nowMs: number, ip: string): Promise<number | null> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ username: string; failed_logins: number }>(`SELECT username, failed_logins FROM users WHERE id = $1 FOR UPDATE`, [id]);
      if (!row) return null;
      const failures = row.failed_logins + 1;
      if (failures < policy.maxFailures) {
        await tx.query(`UPDATE users SET failed_logins = $2 WHERE id = $1`, [id, failures]);
        return null;
      }
      const until = new Date(nowMs + policy.lockMs).toISOString();
      await tx.query(`UPDATE users SET failed_logins = 0, locked_until = $2::timestamptz WHERE id = $1`, [id, until]);
      await writeAudit(tx, {
        actor: "anonymous",
        ip,
        action: "user.locked",
        target: row.username,
        after: { locked_until: until, failed_logins: failures, reason: `${failures} failed logins in a row` },
      });
      return nowMs + policy.lockMs;
    });
  }

  /** A successful login: the count of failures starts again. */
  async recordSuccessfulLogin(id: number): Promise<void> {
    await this.db.query(`UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1 AND (failed_logins <> 0 OR locked_until IS NOT NULL)`, [id]);
  }
}

async function lockedRow(tx: Queryable, id: number): Promise<AccountRow | null> {
  const [row] = await tx.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM users WHERE id = $1 FOR UPDATE`, [id]);
  return row ?? null;
}

/** Throws LastAdminError unless an enabled admin other than `id` remains (their rows locked until the transaction ends). */
async function mustKeepAnAdmin(tx: Queryable, id: number, username: string): Promise<void> {
  const others = await tx.query(`SELECT id FROM users WHERE role = 'admin' AND NOT disabled AND id <> $1 FOR UPDATE`, [id]);
  if (others.length === 0) throw new LastAdminError(`${username} is the last enabled admin: make another user admin first`);
}
