import type { AlarmEvent, AlarmType, OpenAlarm } from "@mcs/core";
import type { Db, Queryable } from "../db/db.ts";
import { writeAudit } from "./audit-store.ts";
import { iso, isoOrNull } from "./times.ts";

/** An alarm as stored and listed (`GET /api/alarms`). */
export interface AlarmRecord {
  id: number;
  sn: string;
  type: AlarmType;
  level: 1 | 2;
  state: "unacked" | "acked" | "cleared_unacked" | "closed";
  condition_active: boolean;
  /** The value when raised (ppm, %LEL…; volts for LOW_BATTERY; null for OFFLINE). */
  ppm: number | null;
  peak: number | null;
  reason: string;
  raised_at: string;
  acked_at: string | null;
  acked_by: string | null;
  ack_comment: string | null;
  cleared_at: string | null;
  closed_at: string | null;
}

export interface AlarmEventRecord {
  id: number;
  kind: string;
  level: number;
  value: number | null;
  at: string;
  actor: string;
  note: string;
}

export interface AlarmFilter {
  state?: AlarmRecord["state"] | "open" | undefined;
  sn?: string | undefined;
  type?: AlarmType | undefined;
  /** Raised at or after / before, Unix ms. */
  from?: number | undefined;
  to?: number | undefined;
  limit: number;
}

/** The open alarms the store holds for a device differ from what the evaluator started from (an ack came in meanwhile). */
export class AlarmStaleError extends Error {
  constructor(readonly sn: string) {
    super(`open alarms of ${sn} changed meanwhile`);
  }
}

/** One device's evaluation: the open alarms it started from, and the events it made. */
export interface DeviceAlarmChange {
  sn: string;
  before: OpenAlarm[];
  events: AlarmEvent[];
}

/** Which channels hear an event (the routing rules, decided by the caller). */
export type ChannelsFor = (sn: string, event: AlarmEvent) => number[];

/** What `apply` stored: the ids given to alarms raised in it, per device and type. */
export type RaisedIds = Map<string, Map<AlarmType, number>>;

const COLUMNS = `id::float8 AS id, sn, type, level::int AS level, state, condition_active, value AS ppm, peak, reason, raised_at, acked_at, acked_by, ack_comment, cleared_at, closed_at`;
const NOTIFY_KINDS = new Set(["raised", "level_up"]);

export function toAlarmRecord(row: Record<string, unknown>): AlarmRecord {
  return {
    ...(row as unknown as AlarmRecord),
    id: Number(row.id),
    raised_at: new Date(row.raised_at as string).toISOString(),
    acked_at: isoOrNull(row.acked_at),
    cleared_at: isoOrNull(row.cleared_at),
    closed_at: isoOrNull(row.closed_at),
  };
}

export function toOpenAlarm(record: AlarmRecord): OpenAlarm {
  if (record.state === "closed") throw new Error(`alarm ${record.id} is closed`);
  return {
    id: record.id, type: record.type, level: record.level, state: record.state, conditionActive: record.condition_active,
    raisedAt: Date.parse(record.raised_at), value: record.ppm, peak: record.peak, reason: record.reason,
  };
}

/**
 * Alarms, their events and the notifications they cause. An evaluation's events are
 * written in one transaction together with their outbox rows, after checking that the
 * device's open alarms are still what the evaluation started from: a concurrent ack
 * (backend) or another worker makes it `AlarmStaleError`, and the caller re-evaluates.
 */
export class AlarmStore {
  constructor(private readonly db: Db) {}

  /** Every open alarm, by device: what an evaluator restores at start. */
  async open(sns?: readonly string[]): Promise<Map<string, OpenAlarm[]>> {
    const rows = sns
      ? await this.db.query(`SELECT ${COLUMNS} FROM alarms WHERE state <> 'closed' AND sn = ANY($1::text[])`, [sns])
      : await this.db.query(`SELECT ${COLUMNS} FROM alarms WHERE state <> 'closed'`);
    const bySn = new Map<string, OpenAlarm[]>();
    for (const row of rows) {
      const record = toAlarmRecord(row);
      bySn.set(record.sn, [...(bySn.get(record.sn) ?? []), toOpenAlarm(record)]);
    }
    return bySn;
  }

  async apply(changes: readonly DeviceAlarmChange[], channelsFor: ChannelsFor, actor: string, nowMs: number): Promise<RaisedIds> {
    return this.db.transaction(async (tx) => {
      const raised: RaisedIds = new Map();
      for (const change of changes) {
        if (change.events.length === 0) continue;
        await this.checkFresh(tx, change);
        const ids = new Map<AlarmType, number>();
        for (const alarm of change.before) if (alarm.id !== null) ids.set(alarm.type, alarm.id);
        for (const event of change.events) {
          const id = await writeEvent(tx, change.sn, event, ids, actor);
          if (NOTIFY_KINDS.has(event.kind)) {
            for (const channelId of channelsFor(change.sn, event)) {
              await tx.query(
                `INSERT INTO outbox (channel_id, alarm_id, kind, status, next_attempt_at, created_at) VALUES ($1, $2, $3, 'pending', $4::timestamptz, $4::timestamptz)`,
                [channelId, id, event.kind, iso(nowMs)],
              );
            }
          }
          if (event.kind === "raised") raised.set(change.sn, (raised.get(change.sn) ?? new Map()).set(event.type, id));
        }
      }
      return raised;
    });
  }

  async get(id: number, on: Queryable = this.db): Promise<AlarmRecord | null> {
    const [row] = await on.query(`SELECT ${COLUMNS} FROM alarms WHERE id = $1`, [id]);
    return row ? toAlarmRecord(row) : null;
  }

  /** Newest first. */
  async list(filter: AlarmFilter): Promise<AlarmRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace("?", `$${params.length}`));
    };
    if (filter.state === "open") where.push(`state <> 'closed'`);
    else if (filter.state) add(`state = ?`, filter.state);
    if (filter.sn) add(`sn = ?`, filter.sn);
    if (filter.type) add(`type = ?`, filter.type);
    if (filter.from !== undefined) add(`raised_at >= ?::timestamptz`, iso(filter.from));
    if (filter.to !== undefined) add(`raised_at < ?::timestamptz`, iso(filter.to));
    params.push(filter.limit);
    const rows = await this.db.query(
      `SELECT ${COLUMNS} FROM alarms ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY raised_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toAlarmRecord);
  }

  async events(id: number): Promise<AlarmEventRecord[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT id::float8 AS id, kind, level::int AS level, value, at, actor, note FROM alarm_events WHERE alarm_id = $1 ORDER BY id`,
      [id],
    );
    return rows.map((row) => ({ ...(row as unknown as AlarmEventRecord), id: Number(row.id), at: new Date(row.at as string).toISOString() }));
  }

  /**
   * An operator's answer (ack) or an engineer's reset, applied by `decide` (the state
   * machine) to the alarm as stored, under its row lock, with the audit row. Answers the
   * events (none: the input changed nothing) and the alarm after them.
   */
  async answer(
    id: number,
    decide: (alarm: OpenAlarm, latching: boolean) => AlarmEvent[],
    who: { name: string; ip?: string | null },
    action: "alarm.ack" | "alarm.reset",
    comment: string,
  ): Promise<{ events: AlarmEvent[]; alarm: AlarmRecord } | null> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query(`SELECT ${COLUMNS} FROM alarms WHERE id = $1 FOR UPDATE`, [id]);
      if (!row) return null;
      const before = toAlarmRecord(row);
      if (before.state === "closed") return { events: [], alarm: before };
      const [device] = await tx.query<{ latching: boolean }>(`SELECT latching FROM devices WHERE sn = $1`, [before.sn]);
      const events = decide(toOpenAlarm(before), device?.latching ?? false);
      const ids = new Map<AlarmType, number>([[before.type, before.id]]);
      for (const event of events) await writeEvent(tx, before.sn, event, ids, who.name);
      // The comment as the person wrote it (the event's note is the machine's sentence).
      if (action === "alarm.ack" && events.some((event) => event.kind === "acked")) await tx.query(`UPDATE alarms SET ack_comment = $2 WHERE id = $1`, [id, comment]);
      const after = (await this.get(id, tx))!;
      if (events.length > 0) {
        await writeAudit(tx, { actor: who.name, ip: who.ip, action, target: `alarm ${id} (${before.sn} ${before.type})`, before: { state: before.state }, after: { state: after.state, comment } });
      }
      return { events, alarm: after };
    });
  }

  private async checkFresh(tx: Queryable, change: DeviceAlarmChange): Promise<void> {
    const rows = await tx.query(`SELECT ${COLUMNS} FROM alarms WHERE sn = $1 AND state <> 'closed' ORDER BY id FOR UPDATE`, [change.sn]);
    const stored = rows.map(toAlarmRecord).map((r) => `${r.id}:${r.state}:${r.level}:${r.condition_active}`).sort();
    const expected = change.before.map((a) => `${a.id}:${a.state}:${a.level}:${a.conditionActive}`).sort();
    if (stored.join() !== expected.join()) throw new AlarmStaleError(change.sn);
  }
}

/** Writes one event: a new alarm row for `raised`, else the alarm's new state; answers the alarm's id. */
async function writeEvent(tx: Queryable, sn: string, event: AlarmEvent, ids: Map<AlarmType, number>, actor: string): Promise<number> {
  const a = event.alarm;
  let id = ids.get(event.type);
  if (event.kind === "raised" || id === undefined) {
    const [row] = await tx.query<{ id: number }>(
      `INSERT INTO alarms (sn, type, level, state, condition_active, value, peak, reason, raised_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::timestamptz) RETURNING id::float8 AS id`,
      [sn, a.type, a.level, a.state, a.conditionActive, a.value, a.peak, a.reason, iso(a.raisedAt)],
    );
    id = Number(row!.id);
    ids.set(event.type, id);
  } else {
    await tx.query(
      `UPDATE alarms SET level = $2, state = $3, condition_active = $4, peak = $5,
         acked_at = CASE WHEN $6 = 'acked' THEN $7::timestamptz ELSE acked_at END,
         acked_by = CASE WHEN $6 = 'acked' THEN $8 ELSE acked_by END,
         ack_comment = CASE WHEN $6 = 'acked' THEN $9 ELSE ack_comment END,
         cleared_at = CASE WHEN $6 = 'condition_cleared' THEN $7::timestamptz WHEN $6 = 'condition_returned' THEN NULL ELSE cleared_at END,
         closed_at = CASE WHEN $3 = 'closed' THEN $7::timestamptz ELSE closed_at END
       WHERE id = $1`,
      [id, a.level, a.state, a.conditionActive, a.peak, event.kind, iso(event.at), actor, null],
    );
  }
  await tx.query(`INSERT INTO alarm_events (alarm_id, kind, level, value, at, actor, note) VALUES ($1, $2, $3, $4, $5::timestamptz, $6, $7)`, [
    id, event.kind, event.level, event.value, iso(event.at), actor, event.note,
  ]);
  if (event.alarm.state === "closed") ids.delete(event.type);
  return id;
}
