import type { AlarmType } from "@mcs/core";
import type { Db } from "../db/db.ts";
import { iso } from "./times.ts";

/** `late`: an episode found in readings that arrived out of time order; the row names it. */
export type OutboxKind = "raised" | "level_up" | "repeat" | "escalation" | "late";

/** A notification waiting to go out, with what its message needs to say. */
export interface DueNotification {
  id: number;
  channel_id: number;
  alarm_id: number;
  kind: OutboxKind;
  attempts: number;
  sn: string;
  type: AlarmType;
  level: 1 | 2;
  state: string;
  value: number | null;
  reason: string;
  raised_at: string;
  received_at: string;
  late: boolean;
  peak: number | null;
  peak_at: string | null;
  /** The episode a late notice is about (null otherwise, or once it was withdrawn). */
  episode: { level: 1 | 2; started_at: string; ended_at: string | null; start_value: number | null; peak: number | null; peak_at: string; reason: string } | null;
  device_name: string | null;
  gas: string | null;
  unit: string | null;
  high_limit: number | null;
  high_limit_2: number | null;
  low_limit: number | null;
  low_limit_2: number | null;
}

/** An alarm's notifications per channel, as `GET /api/alarms/{id}` shows them. */
export interface NotificationRecord {
  id: number;
  /** Null once the channel was deleted. */
  channel_id: number | null;
  kind: OutboxKind;
  status: "pending" | "sent" | "failed" | "suppressed";
  attempts: number;
  created_at: string;
  finished_at: string | null;
  detail: string | null;
}


/**
 * The notification outbox: rows are written with the alarm event (same transaction),
 * then sent, retried with backoff, or suppressed (debounce) by the dispatcher.
 */
export class OutboxStore {
  constructor(private readonly db: Db) {}

  async due(nowMs: number, limit: number): Promise<DueNotification[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT o.id::float8 AS id, o.channel_id, o.alarm_id::float8 AS alarm_id, o.kind, o.attempts,
              a.sn, a.type, a.level::int AS level, a.state, a.value, a.reason, a.raised_at, a.received_at, a.late, a.peak, a.peak_at,
              e.level::int AS e_level, e.started_at AS e_started_at, e.ended_at AS e_ended_at, e.start_value AS e_start_value, e.peak AS e_peak,
              e.peak_at AS e_peak_at, e.reason AS e_reason, e.id IS NOT NULL AS has_episode,
              d.name AS device_name, d.gas, d.unit, d.high_limit, d.high_limit_2, d.low_limit, d.low_limit_2
       FROM outbox o JOIN alarms a ON a.id = o.alarm_id LEFT JOIN alarm_episodes e ON e.id = o.episode_id LEFT JOIN devices d ON d.sn = a.sn
       WHERE o.status = 'pending' AND o.next_attempt_at <= $1::timestamptz AND o.channel_id IS NOT NULL
       ORDER BY o.id LIMIT $2`,
      [iso(nowMs), limit],
    );
    const isoOf = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string).toISOString());
    return rows.map((row) => ({
      ...(row as unknown as DueNotification),
      id: Number(row.id), alarm_id: Number(row.alarm_id), raised_at: isoOf(row.raised_at)!, received_at: isoOf(row.received_at)!, peak_at: isoOf(row.peak_at),
      episode: row.has_episode
        ? {
            level: row.e_level as 1 | 2, started_at: isoOf(row.e_started_at)!, ended_at: isoOf(row.e_ended_at), start_value: row.e_start_value as number | null,
            peak: row.e_peak as number | null, peak_at: isoOf(row.e_peak_at)!, reason: row.e_reason as string,
          }
        : null,
    }));
  }

  async finish(ids: readonly number[], status: "sent" | "failed" | "suppressed", detail: string, nowMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(`UPDATE outbox SET status = $2, detail = $3, finished_at = $4::timestamptz, attempts = attempts + CASE WHEN $2 = 'suppressed' THEN 0 ELSE 1 END WHERE id = ANY($1::bigint[])`, [
      ids, status, detail.slice(0, 1000), iso(nowMs),
    ]);
  }

  async retryLater(ids: readonly number[], nextAttemptMs: number, detail: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(`UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2::timestamptz, detail = $3 WHERE id = ANY($1::bigint[])`, [ids, iso(nextAttemptMs), detail.slice(0, 1000)]);
  }

  async enqueue(alarmId: number, channelId: number, kind: OutboxKind, nowMs: number): Promise<void> {
    await this.db.query(`INSERT INTO outbox (channel_id, alarm_id, kind, status, next_attempt_at, created_at) VALUES ($1, $2, $3, 'pending', $4::timestamptz, $4::timestamptz)`, [
      channelId, alarmId, kind, iso(nowMs),
    ]);
  }

  /** When each channel last sent a message (for its minimum interval), Unix ms. */
  async lastSentByChannel(): Promise<Map<number, number>> {
    const rows = await this.db.query<{ channel_id: number; at: string }>(`SELECT channel_id, max(finished_at) AS at FROM outbox WHERE status = 'sent' GROUP BY channel_id`);
    return new Map(rows.map((row) => [row.channel_id, new Date(row.at).getTime()]));
  }

  /** For each (alarm, channel) of these alarms: when the newest row was queued, Unix ms (repeats count from it). */
  async lastQueued(alarmIds: readonly number[]): Promise<Map<string, number>> {
    if (alarmIds.length === 0) return new Map();
    const rows = await this.db.query<{ alarm_id: number; channel_id: number; at: string }>(
      `SELECT alarm_id::float8 AS alarm_id, channel_id, max(created_at) AS at FROM outbox WHERE alarm_id = ANY($1::bigint[]) GROUP BY alarm_id, channel_id`,
      [alarmIds],
    );
    return new Map(rows.map((row) => [`${Number(row.alarm_id)}:${row.channel_id}`, new Date(row.at).getTime()]));
  }

  /** Did any notification of this alarm reach someone? */
  async wasSent(alarmId: number): Promise<boolean> {
    const [row] = await this.db.query(`SELECT 1 FROM outbox WHERE alarm_id = $1 AND status = 'sent' LIMIT 1`, [alarmId]);
    return row !== undefined;
  }

  async forAlarm(alarmId: number): Promise<NotificationRecord[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT id::float8 AS id, channel_id, kind, status, attempts, created_at, finished_at, detail FROM outbox WHERE alarm_id = $1 ORDER BY id`,
      [alarmId],
    );
    return rows.map((row) => ({
      ...(row as unknown as NotificationRecord),
      id: Number(row.id),
      created_at: new Date(row.created_at as string).toISOString(),
      finished_at: row.finished_at ? new Date(row.finished_at as string).toISOString() : null,
    }));
  }
}
