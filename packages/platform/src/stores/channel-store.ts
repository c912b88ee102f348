import type { AlarmType, NotifySchedule } from "@mcs/core";
import type { Db } from "../db/db.ts";
import type { Actor } from "./device-store.ts";
import { writeAudit } from "./audit-store.ts";

/** A notification channel with its rules of who and when. */
export interface ChannelRecord {
  id: number;
  type: "email" | "dingtalk" | "feishu" | "wecom" | "webhook" | "sms";
  name: string;
  enabled: boolean;
  /** The type's settings, secrets included: never send this to a browser as it is. */
  config: Record<string, unknown>;
  locale: "zh-CN" | "en";
  /** Devices it hears; null: all. */
  sns: string[] | null;
  /** Alarm types it hears; null: all. */
  types: AlarmType[] | null;
  /** Lowest level it hears (gas alarms; faults, offline and battery are level 1). */
  min_level: 1 | 2;
  /** When it is sent to; null: always. Outside it alarms are recorded, not sent. */
  schedule: NotifySchedule | null;
  /** A level 2 alarm is sent even outside the schedule. */
  level2_always: boolean;
  /** Repeat every N minutes while the alarm is unacknowledged; 0: never. */
  repeat_every_min: number;
  /** >0: an escalation group, told only when an alarm stays unacknowledged this long. */
  escalate_after_min: number;
  /** At most one message per this many seconds; what comes meanwhile is grouped into the next. */
  min_interval_s: number;
  created_at: string;
  updated_at: string;
}

export type ChannelInput = Omit<ChannelRecord, "id" | "created_at" | "updated_at">;

const COLUMNS = `id, type, name, enabled, config, locale, sns, types, min_level::int AS min_level, schedule, level2_always, repeat_every_min, escalate_after_min, min_interval_s, created_at, updated_at`;
const WRITABLE = ["type", "name", "enabled", "config", "locale", "sns", "types", "min_level", "schedule", "level2_always", "repeat_every_min", "escalate_after_min", "min_interval_s"] as const;
const JSON_FIELDS = new Set(["config", "schedule"]);
const ARRAY_FIELDS = new Set(["sns", "types"]);

function parseJson(value: unknown): unknown {
  return typeof value === "string" ? JSON.parse(value) : value;
}

function toChannel(row: Record<string, unknown>): ChannelRecord {
  return {
    ...(row as unknown as ChannelRecord),
    config: parseJson(row.config) as Record<string, unknown>,
    schedule: (parseJson(row.schedule) ?? null) as NotifySchedule | null,
    created_at: new Date(row.created_at as string).toISOString(),
    updated_at: new Date(row.updated_at as string).toISOString(),
  };
}

function param(field: string, value: unknown): unknown {
  if (JSON_FIELDS.has(field)) return value === null ? null : JSON.stringify(value);
  if (ARRAY_FIELDS.has(field)) return value;
  return value;
}

function cast(field: string): string {
  if (JSON_FIELDS.has(field)) return "::text::jsonb";
  if (ARRAY_FIELDS.has(field)) return "::text[]";
  return "";
}

/**
 * Notification channels. Every change is audited with the secrets left out (the audit
 * log drops `password`, `secret`…; `redact` is given by the caller for the rest).
 */
export class ChannelStore {
  constructor(private readonly db: Db) {}

  async list(): Promise<ChannelRecord[]> {
    return (await this.db.query(`SELECT ${COLUMNS} FROM channels ORDER BY id`)).map(toChannel);
  }

  async get(id: number): Promise<ChannelRecord | null> {
    const [row] = await this.db.query(`SELECT ${COLUMNS} FROM channels WHERE id = $1`, [id]);
    return row ? toChannel(row) : null;
  }

  async create(input: ChannelInput, actor: Actor, redact: (channel: ChannelRecord) => unknown, nowMs: number): Promise<ChannelRecord> {
    return this.db.transaction(async (tx) => {
      const values = WRITABLE.map((field) => param(field, input[field]));
      const [row] = await tx.query(
        `INSERT INTO channels (${WRITABLE.join(", ")}, created_at, updated_at)
         VALUES (${WRITABLE.map((field, i) => `$${i + 1}${cast(field)}`).join(", ")}, $${WRITABLE.length + 1}::timestamptz, $${WRITABLE.length + 1}::timestamptz)
         RETURNING ${COLUMNS}`,
        [...values, new Date(nowMs).toISOString()],
      );
      const channel = toChannel(row!);
      await writeAudit(tx, { actor: actor.name, ip: actor.ip, action: "channel.create", target: `channel ${channel.id} (${channel.name})`, after: redact(channel) });
      return channel;
    });
  }

  /** Null when there is no such channel. */
  async update(id: number, patch: Partial<ChannelInput>, actor: Actor, redact: (channel: ChannelRecord) => unknown, nowMs: number): Promise<ChannelRecord | null> {
    return this.db.transaction(async (tx) => {
      const [locked] = await tx.query(`SELECT ${COLUMNS} FROM channels WHERE id = $1 FOR UPDATE`, [id]);
      if (!locked) return null;
      const fields = WRITABLE.filter((field) => patch[field] !== undefined);
      const sets = fields.map((field, i) => `${field} = $${i + 2}${cast(field)}`);
      sets.push(`updated_at = $${fields.length + 2}::timestamptz`);
      const [row] = await tx.query(`UPDATE channels SET ${sets.join(", ")} WHERE id = $1 RETURNING ${COLUMNS}`, [
        id, ...fields.map((field) => param(field, patch[field])), new Date(nowMs).toISOString(),
      ]);
      const after = toChannel(row!);
      await writeAudit(tx, { actor: actor.name, ip: actor.ip, action: "channel.update", target: `channel ${id} (${after.name})`, before: redact(toChannel(locked)), after: redact(after) });
      return after;
    });
  }

  async delete(id: number, actor: Actor, redact: (channel: ChannelRecord) => unknown): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      // What waited for it will never go: say so, and keep the rows as the alarm's history.
      await tx.query(`UPDATE outbox SET status = 'suppressed', detail = 'channel deleted', finished_at = now() WHERE channel_id = $1 AND status = 'pending'`, [id]);
      const [row] = await tx.query(`DELETE FROM channels WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
      if (!row) return false;
      const channel = toChannel(row);
      await writeAudit(tx, { actor: actor.name, ip: actor.ip, action: "channel.delete", target: `channel ${id} (${channel.name})`, before: redact(channel) });
      return true;
    });
  }
}
