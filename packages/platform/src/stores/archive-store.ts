import type { ArchiveRun } from "@mcs/protocol";
import type { Db } from "../db/db.ts";
import { writeAudit } from "./audit-store.ts";
import { iso, isoOrNull } from "./times.ts";

/** A run whose worker has not been heard of for this long died with it. */
export const ARCHIVE_STALE_MS = 120_000;

export type ArchiveTrigger = "schedule" | "api" | "cli";

export interface ArchiveRunRecord extends ArchiveRun {
  /** Archive the whole days before this one (YYYY-MM-DD); null: those older than the retention. */
  before: string | null;
}

export interface ArchivedDayRecord {
  day: string;
  key: string;
  rows: number;
  bytes: number;
  sha256: string;
  archived_at: string;
  restored_at: string | null;
}

const RUN_COLUMNS = `id::int AS id, trigger, requested_by, to_char(before, 'YYYY-MM-DD') AS before, state, started_at, finished_at, days, days_total,
  rows::float8 AS rows, bytes::float8 AS bytes, raw_bytes::float8 AS raw_bytes, error`;

type RunRow = Omit<ArchiveRunRecord, "duration_ms"> & { started_at: unknown; finished_at: unknown };

function runOf(row: RunRow): ArchiveRunRecord {
  const started = isoOrNull(row.started_at);
  const finished = isoOrNull(row.finished_at);
  return {
    ...row,
    started_at: started,
    finished_at: finished,
    days: [...row.days].sort(),
    duration_ms: started && finished ? Date.parse(finished) - Date.parse(started) : null,
  };
}

/**
 * The archive's records: each run (queued by the schedule, the API or the CLI; claimed by
 * one worker at a time) and each day whose verified objects are in the store.
 */
export class ArchiveStore {
  constructor(private readonly db: Db) {}

  /** Queues a run (audited); a scheduled one once per plant day, whichever worker asks. */
  async queue(input: { trigger: ArchiveTrigger; by: string; ip?: string | null; before?: string | null; scheduledFor?: string }, nowMs: number): Promise<number | null> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<{ id: number }>(
        `INSERT INTO archive_runs (trigger, requested_by, before, scheduled_for, state, queued_at) VALUES ($1, $2, $3::date, $4::date, 'queued', $5::timestamptz)
         ON CONFLICT (scheduled_for) DO NOTHING RETURNING id::int AS id`,
        [input.trigger, input.by, input.before ?? null, input.scheduledFor ?? null, iso(nowMs)],
      );
      if (!row) return null;
      if (input.trigger !== "schedule") {
        await writeAudit(tx, { actor: input.by, ip: input.ip, action: "archive.run", target: `archive run ${row.id}`, after: { before: input.before ?? null, trigger: input.trigger } });
      }
      return row.id;
    });
  }

  /**
   * Takes the oldest queued run for this worker, unless one is running: a run whose worker
   * went silent (no heartbeat for 2 minutes) is first failed as interrupted, so the next
   * run finishes its work.
   */
  async claim(nowMs: number): Promise<ArchiveRunRecord | null> {
    await this.db.query(
      `UPDATE archive_runs SET state = 'failed', finished_at = $1::timestamptz, error = 'interrupted: the worker running it stopped; the next run finishes its days'
       WHERE state = 'running' AND heartbeat_at < $2::timestamptz`,
      [iso(nowMs), iso(nowMs - ARCHIVE_STALE_MS)],
    );
    try {
      const [row] = await this.db.query<RunRow>(
        `UPDATE archive_runs SET state = 'running', started_at = $1::timestamptz, heartbeat_at = $1::timestamptz
         WHERE id = (SELECT id FROM archive_runs WHERE state = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
           AND NOT EXISTS (SELECT 1 FROM archive_runs WHERE state = 'running')
         RETURNING ${RUN_COLUMNS}`,
        [iso(nowMs)],
      );
      return row ? runOf(row) : null;
    } catch (error) {
      // Another worker claimed one at the same moment: the unique index let only it run.
      if (/archive_runs_one_running|duplicate key/.test(String(error))) return null;
      throw error;
    }
  }

  /** What the run has done so far; also its heartbeat. */
  async progress(id: number, done: { days: string[]; daysTotal: number; rows: number; bytes: number; rawBytes: number }, nowMs: number): Promise<void> {
    await this.db.query(
      `UPDATE archive_runs SET days = $2::text[], days_total = $3, rows = $4, bytes = $5, raw_bytes = $6, heartbeat_at = $7::timestamptz WHERE id = $1 AND state = 'running'`,
      [id, done.days, done.daysTotal, done.rows, done.bytes, done.rawBytes, iso(nowMs)],
    );
  }

  /** The run is alive (also between days: one day of 500 detectors takes minutes). */
  async heartbeat(id: number, nowMs: number): Promise<void> {
    await this.db.query(`UPDATE archive_runs SET heartbeat_at = $2::timestamptz WHERE id = $1 AND state = 'running'`, [id, iso(nowMs)]);
  }

  async finish(id: number, outcome: { error: string | null }, nowMs: number): Promise<void> {
    await this.db.query(`UPDATE archive_runs SET state = $2, error = $3, finished_at = $4::timestamptz WHERE id = $1`, [
      id, outcome.error === null ? "ok" : "failed", outcome.error, iso(nowMs),
    ]);
  }

  async run(id: number): Promise<ArchiveRunRecord | null> {
    const [row] = await this.db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM archive_runs WHERE id = $1`, [id]);
    return row ? runOf(row) : null;
  }

  async runs(limit = 50): Promise<ArchiveRunRecord[]> {
    return (await this.db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM archive_runs ORDER BY id DESC LIMIT $1`, [limit])).map(runOf);
  }

  async recordDay(day: Omit<ArchivedDayRecord, "archived_at" | "restored_at">, runId: number | null, nowMs: number): Promise<void> {
    await this.db.query(
      `INSERT INTO archive_days (day, key, rows, bytes, sha256, archived_at, run_id) VALUES ($1::date, $2, $3, $4, $5, $6::timestamptz, $7)
       ON CONFLICT (day) DO UPDATE SET key = EXCLUDED.key, rows = EXCLUDED.rows, bytes = EXCLUDED.bytes, sha256 = EXCLUDED.sha256,
         archived_at = EXCLUDED.archived_at, run_id = EXCLUDED.run_id, restored_at = NULL, restored_by = NULL`,
      [day.day, day.key, day.rows, day.bytes, day.sha256, iso(nowMs), runId],
    );
  }

  /** Marks a day restored (audited): it stays in the database for the hot days from now. */
  async recordRestore(day: string, by: string, ip: string | null, result: { rows: number; inserted: number }, nowMs: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(`UPDATE archive_days SET restored_at = $2::timestamptz, restored_by = $3 WHERE day = $1::date`, [day, iso(nowMs), by]);
      await writeAudit(tx, { actor: by, ip, action: "archive.restore", target: `archive day ${day}`, after: result });
    });
  }

  /** Every day with verified objects in the store. */
  async archivedDays(): Promise<Set<string>> {
    const rows = await this.db.query<{ day: string }>(`SELECT to_char(day, 'YYYY-MM-DD') AS day FROM archive_days`);
    return new Set(rows.map((row) => row.day));
  }

  /** Days restored after `sinceMs`: the archiver leaves them in the database. */
  async restoredSince(sinceMs: number): Promise<Set<string>> {
    const rows = await this.db.query<{ day: string }>(`SELECT to_char(day, 'YYYY-MM-DD') AS day FROM archive_days WHERE restored_at > $1::timestamptz`, [iso(sinceMs)]);
    return new Set(rows.map((row) => row.day));
  }
}
