import { dayOf, dayStartMs, type ArchivedReading } from "@mcs/core";
import { flagsToMask, maskToFlags, READING_FLAGS, type ReadingFlag } from "@mcs/protocol";
import type { Db } from "../db/db.ts";
import { partitionName, TelemetryPartitions } from "../db/partitions.ts";

const DAY_MS = 86_400_000;

/** A stored reading with what the CSV's columns leave out. */
export interface StoredReading extends ArchivedReading {
  calib_version: number;
  device_ts: number | null;
}

/** A reading to store again, from the archive. */
export type RestoredReading = StoredReading;

/**
 * One UTC day of telemetry, as the archiver reads, frees and restores it. Reads go device
 * by device in (ts, seq) pages on the primary key, so memory holds one page at a time.
 */
export class TelemetryDays {
  private readonly partitions: TelemetryPartitions;

  constructor(private readonly db: Db) {
    this.partitions = new TelemetryPartitions(db);
  }

  private async partitioned(): Promise<boolean> {
    const rows = await this.db.query(`SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid WHERE c.relname = 'telemetry'`);
    return rows.length > 0;
  }

  /** The days before `beforeDay` that hold readings, oldest first. */
  async daysWithReadings(beforeDay: string): Promise<string[]> {
    if (await this.partitioned()) {
      const parts = await this.db.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
         WHERE p.relname = 'telemetry' ORDER BY c.relname`,
      );
      const days: string[] = [];
      for (const { name } of parts) {
        const match = /^telemetry_(\d{4})(\d{2})(\d{2})$/.exec(name);
        if (!match) continue;
        const day = `${match[1]}-${match[2]}-${match[3]}`;
        if (day >= beforeDay) continue;
        if ((await this.db.query(`SELECT 1 FROM ${name} LIMIT 1`)).length > 0) days.push(day);
      }
      return days;
    }
    // A hypertable (TimescaleDB): walk the days by their first reading.
    const days: string[] = [];
    let from = 0;
    for (;;) {
      const [row] = await this.db.query<{ first: number | null }>(
        `SELECT extract(epoch FROM min(ts))::float8 * 1000 AS first FROM telemetry WHERE ts >= $1::timestamptz AND ts < $2::timestamptz`,
        [new Date(from).toISOString(), new Date(dayStartMs(beforeDay)).toISOString()],
      );
      if (row?.first === null || row?.first === undefined) return days;
      const day = dayOf(row.first);
      days.push(day);
      from = dayStartMs(day) + DAY_MS;
    }
  }

  /** The devices with readings that day, in byte order (the archive's order). */
  async devicesOf(day: string): Promise<string[]> {
    const rows = await this.db.query<{ sn: string }>(`SELECT DISTINCT sn FROM telemetry WHERE ts >= $1::timestamptz AND ts < $2::timestamptz`, this.range(day));
    return rows.map((row) => row.sn).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  async count(day: string): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(`SELECT count(*)::float8 AS n FROM telemetry WHERE ts >= $1::timestamptz AND ts < $2::timestamptz`, this.range(day));
    return row?.n ?? 0;
  }

  /** One device's readings that day, in (ts, seq) order, `limit` at a time after `after`. */
  async *readings(sn: string, day: string, pageSize = 5000): AsyncGenerator<StoredReading> {
    const [from, to] = this.range(day);
    let after: { ts: string; seq: number } | null = null;
    for (;;) {
      const page: (Omit<StoredReading, "flags"> & { flags: number; at: string })[] = await this.db.query(
        `SELECT sn, (extract(epoch FROM ts) * 1000)::float8 AS ts, ts::text AS at, seq, ppm, v_raw,
                temp::numeric::float8 AS temp, humi::numeric::float8 AS humi, bat::numeric::float8 AS bat, rssi::float8 AS rssi,
                err, flags, calib_version, device_ts::float8 AS device_ts
         FROM telemetry
         WHERE sn = $1 AND ts >= $2::timestamptz AND ts < $3::timestamptz
           AND ($4::timestamptz IS NULL OR (ts, seq) > ($4::timestamptz, $5::int))
         ORDER BY ts, seq LIMIT $6`,
        [sn, from, to, after?.ts ?? null, after?.seq ?? 0, pageSize],
      );
      for (const { at: _at, ...row } of page) yield { ...row, ts: Math.round(row.ts), flags: maskToFlags(row.flags) };
      if (page.length < pageSize) return;
      const last = page[page.length - 1]!;
      after = { ts: last.at, seq: last.seq };
    }
  }

  /**
   * Frees the day once its object is verified, if it still holds exactly the `expected`
   * rows that went into the object: a reading stored meanwhile (a late backlog) keeps the
   * whole day for the next run. With daily partitions the partition is emptied (TRUNCATE:
   * its space back at once; it stays, so a late reading of that day can still be stored).
   * Returns whether it was freed.
   */
  async free(day: string, expected: number): Promise<boolean> {
    const partitioned = await this.partitioned();
    return this.db.transaction(async (tx) => {
      const table = partitioned ? partitionName(dayStartMs(day)) : "telemetry";
      // No reading of that day can be stored between the count and the delete.
      await tx.query(`LOCK TABLE ${table} IN ${partitioned ? "ACCESS EXCLUSIVE" : "SHARE ROW EXCLUSIVE"} MODE`);
      const [row] = await tx.query<{ n: number }>(`SELECT count(*)::float8 AS n FROM telemetry WHERE ts >= $1::timestamptz AND ts < $2::timestamptz`, this.range(day));
      if ((row?.n ?? 0) !== expected) return false;
      if (partitioned) await tx.query(`TRUNCATE ${table}`);
      else await tx.query(`DELETE FROM telemetry WHERE ts >= $1::timestamptz AND ts < $2::timestamptz`, this.range(day));
      return true;
    });
  }

  /** Stores archived readings again; one already stored is left as it is. Returns how many were new. */
  async restore(readings: readonly RestoredReading[]): Promise<number> {
    if (readings.length === 0) return 0;
    await this.partitions.ensure(readings.map((r) => r.ts));
    const column = <K extends keyof RestoredReading>(key: K) => readings.map((r) => r[key]);
    const [row] = await this.db.query<{ inserted: number }>(
      `WITH stored AS (
         INSERT INTO telemetry (sn, ts, seq, ppm, v_raw, temp, humi, bat, rssi, err, flags, calib_version, device_ts)
         SELECT sn, to_timestamp(ts / 1000.0), seq, ppm, v_raw, temp, humi, bat, rssi, err, flags, calib_version, device_ts
         FROM unnest($1::text[], $2::float8[], $3::int[], $4::float8[], $5::float8[], $6::real[], $7::real[], $8::real[],
                     $9::smallint[], $10::int[], $11::smallint[], $12::int[], $13::bigint[])
           AS u(sn, ts, seq, ppm, v_raw, temp, humi, bat, rssi, err, flags, calib_version, device_ts)
         ON CONFLICT (sn, ts, seq) DO NOTHING
         RETURNING 1
       )
       SELECT count(*)::int AS inserted FROM stored`,
      [
        column("sn"), column("ts"), column("seq"), column("ppm"), column("v_raw"), column("temp"), column("humi"), column("bat"), column("rssi"),
        column("err"), readings.map((r) => flagsToMask(r.flags.filter((flag): flag is ReadingFlag => Object.hasOwn(READING_FLAGS, flag)))),
        column("calib_version"), column("device_ts"),
      ],
    );
    return row?.inserted ?? 0;
  }

  private range(day: string): [string, string] {
    const start = dayStartMs(day);
    return [new Date(start).toISOString(), new Date(start + DAY_MS).toISOString()];
  }
}
