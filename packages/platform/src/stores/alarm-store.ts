import type { AlarmEvent, AlarmType, ConditionTrack, Episode, KnownAlarm, OpenAlarm, ReconcilePlan, StoredEpisode } from "@mcs/core";
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
  /** The same as `peak`, by the name the API gives it. */
  peak_ppm: number | null;
  /** When the peak was read. */
  peak_at: string;
  reason: string;
  /** When the condition began: the reading's time (for a late alarm, in the past). */
  raised_at: string;
  /** When the server knew of it. */
  received_at: string;
  /** Raised from readings that arrived out of time order. */
  late: boolean;
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

/** An episode to store (found by its start: an existing one is updated); `alarmId` null: the alarm of its type raised in the same change. */
export interface EpisodeWrite {
  episode: Episode;
  alarmId: number | null;
}

/** One stored episode, as `GET /api/alarms/{id}` lists them. */
export interface EpisodeRecord {
  id: number;
  type: AlarmType;
  level: 1 | 2;
  started_at: string;
  ended_at: string | null;
  start_value: number | null;
  peak: number | null;
  peak_at: string;
  reason: string;
  late: boolean;
  recorded_at: string;
}

/** One device's evaluation: the open alarms it started from, the events it made, and what else moved. */
export interface DeviceAlarmChange {
  sn: string;
  before: OpenAlarm[];
  events: AlarmEvent[];
  episodes?: EpisodeWrite[];
  /** Open alarms whose peak moved without an event. */
  peaks?: OpenAlarm[];
  /** The device's condition track after its newest judged reading, to judge late readings from. */
  checkpoint?: TrackCheckpointRow;
}

export interface TrackCheckpointRow {
  at: number;
  seq: number;
  track: ConditionTrack;
}

/** Which channels hear an event (the routing rules, decided by the caller). */
export type ChannelsFor = (sn: string, event: Pick<AlarmEvent, "type" | "level" | "at">) => number[];

/** What `apply` stored: the ids given to alarms raised in it, per device and type. */
export type RaisedIds = Map<string, Map<AlarmType, number>>;

const COLUMNS = `id::float8 AS id, sn, type, level::int AS level, state, condition_active, value AS ppm, peak, peak_at, reason, raised_at, received_at, late,
  acked_at, acked_by, ack_comment, cleared_at, closed_at`;
const EPISODE_COLUMNS = `id::float8 AS id, alarm_id::float8 AS alarm_id, type, level::int AS level, started_at, start_seq, start_value, ended_at, end_seq,
  peak, peak_at, reason, late, recorded_at`;
const NOTIFY_KINDS = new Set(["raised", "level_up"]);

export function toAlarmRecord(row: Record<string, unknown>): AlarmRecord {
  return {
    ...(row as unknown as AlarmRecord),
    id: Number(row.id),
    peak_ppm: (row.peak as number | null) ?? null,
    raised_at: new Date(row.raised_at as string).toISOString(),
    received_at: new Date((row.received_at ?? row.raised_at) as string).toISOString(),
    peak_at: new Date((row.peak_at ?? row.raised_at) as string).toISOString(),
    acked_at: isoOrNull(row.acked_at),
    cleared_at: isoOrNull(row.cleared_at),
    closed_at: isoOrNull(row.closed_at),
  };
}

export function toOpenAlarm(record: AlarmRecord): OpenAlarm {
  if (record.state === "closed") throw new Error(`alarm ${record.id} is closed`);
  return { ...toKnownAlarm(record), state: record.state };
}

/** An alarm, open or closed, as the engine's planning reads it. */
export function toKnownAlarm(record: AlarmRecord): KnownAlarm {
  return {
    id: record.id, type: record.type, level: record.level, state: record.state, conditionActive: record.condition_active,
    raisedAt: Date.parse(record.raised_at), value: record.ppm, peak: record.peak, peakAt: Date.parse(record.peak_at), reason: record.reason,
    ...(record.late && { late: true }),
  };
}

function toStoredEpisode(row: Record<string, unknown>): StoredEpisode {
  const ms = (value: unknown) => new Date(value as string).getTime();
  return {
    id: Number(row.id), alarmId: Number(row.alarm_id), type: row.type as StoredEpisode["type"], level: row.level as 1 | 2,
    since: ms(row.started_at), sinceSeq: Number(row.start_seq), value: (row.start_value as number | null) ?? null,
    endAt: row.ended_at === null ? null : ms(row.ended_at), endSeq: row.end_seq === null ? null : Number(row.end_seq),
    peak: (row.peak as number | null) ?? null, peakAt: ms(row.peak_at), reason: row.reason as string, late: row.late as boolean,
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
        if (change.events.length > 0) await this.checkFresh(tx, change);
        const ids = new Map<AlarmType, number>();
        for (const alarm of change.before) if (alarm.id !== null) ids.set(alarm.type, alarm.id);
        const raisedHere = new Map<AlarmType, number>();
        for (const event of change.events) {
          const id = await writeEvent(tx, change.sn, event, ids, actor, nowMs);
          if (NOTIFY_KINDS.has(event.kind)) await enqueue(tx, channelsFor(change.sn, event), id, event.kind, null, nowMs);
          if (event.kind === "raised") raisedHere.set(event.type, id);
        }
        if (raisedHere.size > 0) raised.set(change.sn, raisedHere);
        for (const write of change.episodes ?? []) {
          const alarmId = write.alarmId ?? raisedHere.get(write.episode.type) ?? ids.get(write.episode.type);
          if (alarmId !== undefined) await upsertEpisode(tx, change.sn, write.episode, alarmId, false, nowMs);
        }
        for (const alarm of change.peaks ?? []) {
          if (alarm.id !== null) await tx.query(`UPDATE alarms SET peak = $2, peak_at = $3::timestamptz WHERE id = $1`, [alarm.id, alarm.peak, iso(alarm.peakAt)]);
        }
        if (change.checkpoint) await writeCheckpoints(tx, change.sn, [change.checkpoint]);
      }
      return raised;
    });
  }

  /**
   * Late readings: under the device's alarm locks, `decide` (the pure planner) compares the
   * stored episodes since `after` with the replay's, and what it plans is written in the same
   * transaction: events, episodes, late notifications (each naming its episode), and the
   * replay's checkpoints in place of those after `after`. Answers the plan and the ids of the
   * alarms it raised.
   */
  async reconcile(
    sn: string,
    after: { at: number; seq: number } | null,
    decide: (stored: StoredEpisode[], alarms: Map<number, KnownAlarm>, open: OpenAlarm[]) => ReconcilePlan,
    checkpoints: readonly TrackCheckpointRow[],
    channelsFor: ChannelsFor,
    nowMs: number,
  ): Promise<{ plan: ReconcilePlan; raised: Map<AlarmType, number> }> {
    return this.db.transaction(async (tx) => {
      const openRows = await tx.query(`SELECT ${COLUMNS} FROM alarms WHERE sn = $1 AND state <> 'closed' ORDER BY id FOR UPDATE`, [sn]);
      const stored = (await tx.query(
        `SELECT ${EPISODE_COLUMNS} FROM alarm_episodes
         WHERE sn = $1 AND (ended_at IS NULL OR $2::timestamptz IS NULL OR ended_at > $2::timestamptz OR (ended_at = $2::timestamptz AND end_seq > $3))
         ORDER BY started_at, start_seq`,
        [sn, after ? iso(after.at) : null, after?.seq ?? 0],
      )).map(toStoredEpisode);
      const alarms = new Map<number, KnownAlarm>();
      for (const row of openRows) alarms.set(Number(row.id), toKnownAlarm(toAlarmRecord(row)));
      const missing = [...new Set(stored.map((episode) => episode.alarmId))].filter((id) => !alarms.has(id));
      if (missing.length > 0) {
        for (const row of await tx.query(`SELECT ${COLUMNS} FROM alarms WHERE id = ANY($1::bigint[])`, [missing])) alarms.set(Number(row.id), toKnownAlarm(toAlarmRecord(row)));
      }
      const plan = decide(stored, alarms, openRows.map((row) => toOpenAlarm(toAlarmRecord(row))));

      const raised = new Map<AlarmType, number>();
      const ids = new Map<AlarmType, number>();
      for (const event of plan.events) {
        const id = await writeEvent(tx, sn, event, event.alarm.id === null ? raised : ids, "system", nowMs, event.alarm.id);
        if (event.kind === "raised") raised.set(event.type, id);
      }
      if (plan.drop.length > 0) await tx.query(`DELETE FROM alarm_episodes WHERE id = ANY($1::bigint[])`, [plan.drop]);
      for (const put of [...plan.put].sort((a, b) => Number(a.id === null) - Number(b.id === null))) {
        const alarmId = put.alarmId ?? raised.get(put.episode.type);
        if (alarmId === undefined) continue;
        const episodeId = put.id === null
          ? await upsertEpisode(tx, sn, put.episode, alarmId, put.late, nowMs)
          : await updateEpisode(tx, put.id, put.episode, alarmId, put.late);
        // Routed as of now (a channel's working hours are about when people are told), at the episode's level.
        if (put.notify) await enqueue(tx, channelsFor(sn, { type: put.episode.type, level: put.episode.level, at: nowMs }), alarmId, "late", episodeId, nowMs);
      }
      if (checkpoints.length > 0 || after) {
        await tx.query(`DELETE FROM alarm_checkpoints WHERE sn = $1 AND ($2::timestamptz IS NULL OR ts > $2::timestamptz OR (ts = $2::timestamptz AND seq > $3))`, [
          sn, after ? iso(after.at) : null, after?.seq ?? 0,
        ]);
        await writeCheckpoints(tx, sn, checkpoints);
      }
      return { plan, raised };
    });
  }

  /** The newest checkpoint of a device strictly before (at, seq) (without a key: its newest), or null. */
  async checkpointBefore(sn: string, key?: { at: number; seq: number }): Promise<TrackCheckpointRow | null> {
    const [row] = await this.db.query<{ ts: string; seq: number; track: ConditionTrack | string }>(
      `SELECT ts, seq, track FROM alarm_checkpoints
       WHERE sn = $1 AND ($2::timestamptz IS NULL OR ts < $2::timestamptz OR (ts = $2::timestamptz AND seq < $3))
       ORDER BY ts DESC, seq DESC LIMIT 1`,
      [sn, key ? iso(key.at) : null, key?.seq ?? 0],
    );
    return row ? { at: new Date(row.ts).getTime(), seq: row.seq, track: typeof row.track === "string" ? JSON.parse(row.track) : row.track } : null;
  }

  /** Each device's newest checkpoint. */
  async latestCheckpoints(sns: readonly string[]): Promise<Map<string, TrackCheckpointRow>> {
    const rows = await this.db.query<{ sn: string; ts: string; seq: number; track: ConditionTrack | string }>(
      `SELECT DISTINCT ON (sn) sn, ts, seq, track FROM alarm_checkpoints WHERE sn = ANY($1::text[]) ORDER BY sn, ts DESC, seq DESC`,
      [sns],
    );
    return new Map(rows.map((row) => [row.sn, { at: new Date(row.ts).getTime(), seq: row.seq, track: typeof row.track === "string" ? JSON.parse(row.track) : row.track }]));
  }

  /** Checkpoints are for judging late readings, which may be 30 days old at most. */
  async pruneCheckpoints(beforeMs: number): Promise<void> {
    await this.db.query(`DELETE FROM alarm_checkpoints WHERE ts < $1::timestamptz`, [iso(beforeMs)]);
  }

  /** The episodes of a device that still hold or ended after `sinceMs` (the replay's fallback start). */
  async episodesSince(sn: string, sinceMs: number): Promise<StoredEpisode[]> {
    const rows = await this.db.query(`SELECT ${EPISODE_COLUMNS} FROM alarm_episodes WHERE sn = $1 AND (ended_at IS NULL OR ended_at > $2::timestamptz) ORDER BY started_at, start_seq`, [sn, iso(sinceMs)]);
    return rows.map(toStoredEpisode);
  }

  /** An alarm's episodes, oldest first. */
  async episodes(alarmId: number): Promise<EpisodeRecord[]> {
    const rows = await this.db.query<Record<string, unknown>>(`SELECT ${EPISODE_COLUMNS} FROM alarm_episodes WHERE alarm_id = $1 ORDER BY started_at, start_seq`, [alarmId]);
    return rows.map((row) => ({
      id: Number(row.id), type: row.type as AlarmType, level: row.level as 1 | 2, started_at: iso(new Date(row.started_at as string).getTime()),
      ended_at: isoOrNull(row.ended_at), start_value: (row.start_value as number | null) ?? null, peak: (row.peak as number | null) ?? null,
      peak_at: iso(new Date(row.peak_at as string).getTime()), reason: row.reason as string, late: row.late as boolean,
      recorded_at: iso(new Date(row.recorded_at as string).getTime()),
    }));
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

  /**
   * How many alarms were raised in [fromMs, toMs), per whole hour (Unix ms of its start), type
   * and highest level reached: the overview's chart.
   */
  async raisedPerHour(fromMs: number, toMs: number): Promise<{ hour: number; type: AlarmType; level: number; count: number }[]> {
    const rows = await this.db.query<{ hour: number; type: AlarmType; level: number; count: number }>(
      `SELECT (floor(extract(epoch FROM raised_at) / 3600) * 3600000)::float8 AS hour, type, level::int AS level, count(*)::int AS count
         FROM alarms WHERE raised_at >= $1::timestamptz AND raised_at < $2::timestamptz
        GROUP BY 1, 2, 3`,
      [iso(fromMs), iso(toMs)],
    );
    return rows.map((row) => ({ hour: Number(row.hour), type: row.type, level: Number(row.level), count: Number(row.count) }));
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
      for (const event of events) await writeEvent(tx, before.sn, event, ids, who.name, Date.now());
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

/**
 * Writes one event: a new alarm row for `raised` (late and received now, if it is late),
 * else the alarm's new state; answers the alarm's id. `knownId` names an alarm that is not
 * the open one of its type (a closed alarm whose past late readings revised).
 */
async function writeEvent(tx: Queryable, sn: string, event: AlarmEvent, ids: Map<AlarmType, number>, actor: string, nowMs: number, knownId: number | null = null): Promise<number> {
  const a = event.alarm;
  let id = knownId ?? ids.get(event.type);
  if (event.kind === "raised" || id === undefined) {
    const [row] = await tx.query<{ id: number }>(
      `INSERT INTO alarms (sn, type, level, state, condition_active, value, peak, peak_at, reason, raised_at, received_at, late)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9, $10::timestamptz, $11::timestamptz, $12) RETURNING id::float8 AS id`,
      [sn, a.type, a.level, a.state, a.conditionActive, a.value, a.peak, iso(a.peakAt ?? a.raisedAt), a.reason, iso(a.raisedAt), iso(nowMs), a.late === true],
    );
    id = Number(row!.id);
    ids.set(event.type, id);
  } else {
    await tx.query(
      `UPDATE alarms SET level = $2, state = $3, condition_active = $4, peak = $5, peak_at = $10::timestamptz,
         acked_at = CASE WHEN $6 = 'acked' THEN $7::timestamptz ELSE acked_at END,
         acked_by = CASE WHEN $6 = 'acked' THEN $8 ELSE acked_by END,
         ack_comment = CASE WHEN $6 = 'acked' THEN $9 ELSE ack_comment END,
         cleared_at = CASE WHEN $6 = 'condition_cleared' THEN $7::timestamptz WHEN $6 = 'condition_returned' THEN NULL ELSE cleared_at END,
         closed_at = CASE WHEN $3 = 'closed' AND closed_at IS NULL THEN $7::timestamptz ELSE closed_at END
       WHERE id = $1`,
      [id, a.level, a.state, a.conditionActive, a.peak, event.kind, iso(event.at), actor, null, iso(a.peakAt ?? a.raisedAt)],
    );
  }
  await tx.query(`INSERT INTO alarm_events (alarm_id, kind, level, value, at, actor, note) VALUES ($1, $2, $3, $4, $5::timestamptz, $6, $7)`, [
    id, event.kind, event.level, event.value, iso(event.at), actor, event.note,
  ]);
  if (event.alarm.state === "closed") ids.delete(event.type);
  return id;
}

async function enqueue(tx: Queryable, channelIds: readonly number[], alarmId: number, kind: string, episodeId: number | null, nowMs: number): Promise<void> {
  for (const channelId of channelIds) {
    await tx.query(
      `INSERT INTO outbox (channel_id, alarm_id, episode_id, kind, status, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'pending', $5::timestamptz, $5::timestamptz)`,
      [channelId, alarmId, episodeId, kind, iso(nowMs)],
    );
  }
}

/** Inserts an episode, or updates the one with the same start (the live path writes an episode at its start, then as it grows and ends). */
async function upsertEpisode(tx: Queryable, sn: string, e: Episode, alarmId: number, late: boolean, nowMs: number): Promise<number> {
  const [row] = await tx.query<{ id: number }>(
    `INSERT INTO alarm_episodes (alarm_id, sn, type, level, started_at, start_seq, start_value, ended_at, end_seq, peak, peak_at, reason, late, recorded_at)
     VALUES ($1, $2, $3, $4, $5::timestamptz, $6, $7, $8::timestamptz, $9, $10, $11::timestamptz, $12, $13, $14::timestamptz)
     ON CONFLICT (sn, type, started_at, start_seq) DO UPDATE SET
       alarm_id = excluded.alarm_id, level = excluded.level, ended_at = excluded.ended_at, end_seq = excluded.end_seq,
       peak = excluded.peak, peak_at = excluded.peak_at, start_value = excluded.start_value, late = alarm_episodes.late OR excluded.late
     RETURNING id::float8 AS id`,
    [alarmId, sn, e.type, e.level, iso(e.since), e.sinceSeq, e.value, e.endAt === null ? null : iso(e.endAt), e.endSeq, e.peak, iso(e.peakAt), e.reason, late, iso(nowMs)],
  );
  return Number(row!.id);
}

async function updateEpisode(tx: Queryable, id: number, e: Episode, alarmId: number, late: boolean): Promise<number> {
  await tx.query(
    `UPDATE alarm_episodes SET alarm_id = $2, level = $3, started_at = $4::timestamptz, start_seq = $5, start_value = $6, ended_at = $7::timestamptz,
       end_seq = $8, peak = $9, peak_at = $10::timestamptz, reason = $11, late = $12 WHERE id = $1`,
    [id, alarmId, e.level, iso(e.since), e.sinceSeq, e.value, e.endAt === null ? null : iso(e.endAt), e.endSeq, e.peak, iso(e.peakAt), e.reason, late],
  );
  return id;
}

async function writeCheckpoints(tx: Queryable, sn: string, checkpoints: readonly TrackCheckpointRow[]): Promise<void> {
  for (const checkpoint of checkpoints) {
    await tx.query(`INSERT INTO alarm_checkpoints (sn, ts, seq, track) VALUES ($1, $2::timestamptz, $3, $4::text::jsonb) ON CONFLICT (sn, ts, seq) DO UPDATE SET track = excluded.track`, [
      sn, iso(checkpoint.at), checkpoint.seq, JSON.stringify(checkpoint.track),
    ]);
  }
}
