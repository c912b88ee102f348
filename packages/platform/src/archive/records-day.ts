import { csvLine, dayStartMs } from "@mcs/core";
import type { Db } from "../db/db.ts";
import { isoOrNull } from "../stores/times.ts";

const DAY_MS = 86_400_000;

/**
 * Alarms (with their events) and the audit log of one UTC day, as archive lines, and
 * their purge from the database once they are older than the records' retention. An alarm
 * still open is never purged.
 */
export class RecordsDays {
  constructor(private readonly db: Db) {}

  /** Alarms raised that day, `ALARMS_HEADER` order, each with its event log as JSON. */
  async alarmLines(day: string): Promise<string[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT a.id::int AS id, a.sn, a.type, a.level, a.state, a.value, a.peak, a.peak_at, a.reason, a.raised_at, a.received_at,
              a.acked_at, a.acked_by, a.ack_comment, a.cleared_at, a.closed_at, a.late,
              coalesce((SELECT json_agg(json_build_object('kind', e.kind, 'level', e.level, 'value', e.value, 'at', e.at, 'actor', e.actor, 'note', e.note) ORDER BY e.id)::text
                        FROM alarm_events e WHERE e.alarm_id = a.id), '[]') AS events
       FROM alarms a WHERE a.raised_at >= $1::timestamptz AND a.raised_at < $2::timestamptz ORDER BY a.raised_at, a.id`,
      this.range(day),
    );
    return rows.map((r) => csvLine([
      r.id as number, r.sn as string, r.type as string, r.level as number, r.state as string, r.value as number | null, r.peak as number | null,
      isoOrNull(r.peak_at), r.reason as string, isoOrNull(r.raised_at), isoOrNull(r.received_at), isoOrNull(r.acked_at), r.acked_by as string | null,
      r.ack_comment as string | null, isoOrNull(r.cleared_at), isoOrNull(r.closed_at), r.late as boolean, normalisedEventsJson(r.events as string),
    ]));
  }

  /** That day's audit rows, `AUDIT_HEADER` order. */
  async auditLines(day: string): Promise<string[]> {
    const rows = await this.db.query<{ id: number; at: unknown; actor: string; ip: string | null; action: string; target: string; before: string | null; after: string | null }>(
      `SELECT id::int AS id, at, actor, ip, action, target, before::text AS before, after::text AS after
       FROM audit_log WHERE at >= $1::timestamptz AND at < $2::timestamptz ORDER BY at, id`,
      this.range(day),
    );
    return rows.map((r) => csvLine([r.id, isoOrNull(r.at), r.actor, r.ip, r.action, r.target, r.before, r.after]));
  }

  /** Days before `beforeDay` that still hold alarms or audit rows, oldest first. */
  async daysWithRecords(beforeDay: string): Promise<string[]> {
    const rows = await this.db.query<{ day: string }>(
      `SELECT day FROM (
         SELECT DISTINCT to_char(raised_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM alarms WHERE raised_at < $1::timestamptz
         UNION SELECT DISTINCT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM audit_log WHERE at < $1::timestamptz
       ) d ORDER BY day`,
      [new Date(dayStartMs(beforeDay)).toISOString()],
    );
    return rows.map((row) => row.day);
  }

  /** Removes that day's closed alarms (their events and notices with them) and its audit rows. Returns how many of each. */
  async purge(day: string): Promise<{ alarms: number; audit: number }> {
    return this.db.transaction(async (tx) => {
      const alarms = await tx.query(`DELETE FROM alarms WHERE raised_at >= $1::timestamptz AND raised_at < $2::timestamptz AND state = 'closed' RETURNING 1`, this.range(day));
      const audit = await tx.query(`DELETE FROM audit_log WHERE at >= $1::timestamptz AND at < $2::timestamptz RETURNING 1`, this.range(day));
      return { alarms: alarms.length, audit: audit.length };
    });
  }

  private range(day: string): [string, string] {
    const start = dayStartMs(day);
    return [new Date(start).toISOString(), new Date(start + DAY_MS).toISOString()];
  }
}

/** Event times as ISO-8601 UTC, whatever the session's time zone printed. */
function normalisedEventsJson(json: string): string {
  const events = JSON.parse(json) as { at: string }[];
  return JSON.stringify(events.map((event) => ({ ...event, at: new Date(event.at).toISOString() })));
}
