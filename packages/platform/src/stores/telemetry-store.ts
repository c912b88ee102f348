import { maskToFlags, type TelemetryPoint } from "@mcs/protocol";
import type { Db, Queryable } from "../db/db.ts";
import { TelemetryPartitions } from "../db/partitions.ts";

/** A calibrated reading ready to store; `ts` in Unix seconds. */
export interface TelemetryRow {
  sn: string;
  ts: number;
  seq: number;
  ppm: number;
  v_raw: number;
  temp?: number | undefined;
  humi?: number | undefined;
  bat?: number | undefined;
  rssi?: number | undefined;
  err: number;
  flags: number;
  calib_version: number;
  /** With the `clock` flag: the detector's own time (Unix seconds); `ts` is then the receive time. */
  device_ts?: number | undefined;
}

/** One point of a trend: a reading (min = max = avg) or a bucket's start with its min, max and mean. */
export interface TrendPoint {
  ts: number;
  avg: number;
  min: number;
  max: number;
}

/** A message that could not be stored, and why. */
export interface DeadLetter {
  topic: string;
  sn: string | null;
  reason: string;
  payload: string;
}

// Column arrays through unnest(): one parameterised statement for any batch size, the same
// on PostgreSQL and PGlite, and ON CONFLICT makes a resent reading a no-op (COPY cannot).
const INSERT_BATCH = `
  WITH dead AS (
    INSERT INTO dead_letters (topic, sn, reason, payload)
    SELECT * FROM unnest($13::text[], $14::text[], $15::text[], $16::text[])
  ), stored AS (
    INSERT INTO telemetry (sn, ts, seq, ppm, v_raw, temp, humi, bat, rssi, err, flags, calib_version, device_ts)
    SELECT sn, to_timestamp(ts), seq, ppm, v_raw, temp, humi, bat, rssi, err, flags, calib_version, device_ts
    FROM unnest($1::text[], $2::float8[], $3::int[], $4::float8[], $5::float8[], $6::real[], $7::real[], $8::real[],
                $9::smallint[], $10::int[], $11::smallint[], $12::int[], $17::bigint[])
      AS u(sn, ts, seq, ppm, v_raw, temp, humi, bat, rssi, err, flags, calib_version, device_ts)
    ON CONFLICT (sn, ts, seq) DO NOTHING
    RETURNING 1
  )
  SELECT count(*)::int AS stored FROM stored`;

export class TelemetryStore {
  readonly partitions: TelemetryPartitions;

  constructor(private readonly db: Db) {
    this.partitions = new TelemetryPartitions(db);
  }

  /**
   * Stores readings and dead letters in one statement (one transaction): both or neither.
   * Returns how many readings were new (the rest were already stored).
   */
  async insertBatch(rows: readonly TelemetryRow[], deadLetters: readonly DeadLetter[] = []): Promise<number> {
    await this.partitions.ensure(rows.map((row) => row.ts * 1000));
    const column = <K extends keyof TelemetryRow>(key: K) => rows.map((row) => row[key] ?? null);
    // float4 columns: round here as PostgreSQL would, since it refuses (not rounds) 1e-50.
    const real = (key: "temp" | "humi" | "bat") => rows.map((row) => (row[key] === undefined ? null : Math.fround(row[key])));
    const dead = <K extends keyof DeadLetter>(key: K) => deadLetters.map((letter) => letter[key]);
    const [result] = await this.db.query<{ stored: number }>(INSERT_BATCH, [
      column("sn"), column("ts"), column("seq"), column("ppm"), column("v_raw"), real("temp"), real("humi"),
      real("bat"), column("rssi"), column("err"), column("flags"), column("calib_version"),
      dead("topic"), dead("sn"), dead("reason"), dead("payload"), column("device_ts"),
    ]);
    return result?.stored ?? 0;
  }

  /** One device's readings in [from, to), oldest first. */
  async range(sn: string, from: Date, to: Date, limit: number, on: Queryable = this.db): Promise<TelemetryPoint[]> {
    const rows = await on.query<Omit<TelemetryPoint, "flags" | "device_ts"> & { flags: number; device_ts: number | null }>(
      `SELECT extract(epoch FROM ts)::float8 AS ts, ppm, v_raw,
              temp::numeric::float8 AS temp, humi::numeric::float8 AS humi, bat::numeric::float8 AS bat,
              rssi::float8 AS rssi, err, flags, device_ts::float8 AS device_ts
       FROM telemetry WHERE sn = $1 AND ts >= $2::timestamptz AND ts < $3::timestamptz
       ORDER BY ts, seq LIMIT $4`,
      [sn, from.toISOString(), to.toISOString(), limit],
    );
    // The detector's own time only where it was wrong (the `clock` flag).
    return rows.map(({ device_ts, ...row }) => ({ ...row, flags: maskToFlags(row.flags), ...(device_ts !== null && { device_ts }) }));
  }

  /**
   * One device's ppm in [from, to) for a chart, in one statement on the (sn, ts) key:
   * `bucketS` > 0 gives buckets of that many seconds (aligned to the Unix epoch, `ts` the
   * bucket's start) with the min, max and mean of each, so a peak shorter than a bucket
   * still shows as its max. `bucketS` = 0 gives the readings as stored (min = max = avg),
   * unless there are more than `maxRaw` of them (a device in debug mode): then buckets of
   * `fallbackBucketS`. Answers the bucket size used (0: raw) and the points, oldest first.
   */
  async trend(
    sn: string,
    from: Date,
    to: Date,
    options: { bucketS: number; maxRaw?: number; fallbackBucketS?: number },
  ): Promise<{ bucketS: number; points: TrendPoint[] }> {
    const raw = options.bucketS === 0;
    const bucketS = raw ? (options.fallbackBucketS ?? 1) : options.bucketS;
    // Raw: how many readings the range holds (an InitPlan, counted once) decides whether to bucket after all.
    const bucketed = raw ? `(SELECT count(*) FROM r) > $5` : `true`;
    const rows = await this.db.query<TrendPoint & { bucketed: boolean }>(
      `WITH r AS (
         SELECT ts, ppm FROM telemetry WHERE sn = $1 AND ts >= $2::timestamptz AND ts < $3::timestamptz
       )
       SELECT extract(epoch FROM CASE WHEN ${bucketed} THEN date_bin(make_interval(secs => $4), r.ts, timestamptz 'epoch') ELSE r.ts END)::float8 AS ts,
              avg(r.ppm)::float8 AS avg, min(r.ppm)::float8 AS min, max(r.ppm)::float8 AS max, bool_and(${bucketed}) AS bucketed
       FROM r
       GROUP BY 1 ORDER BY 1`,
      raw ? [sn, from.toISOString(), to.toISOString(), bucketS, options.maxRaw ?? Number.MAX_SAFE_INTEGER] : [sn, from.toISOString(), to.toISOString(), bucketS],
    );
    const wasBucketed = rows[0]?.bucketed ?? !raw;
    return { bucketS: wasBucketed ? bucketS : 0, points: rows.map(({ ts, avg, min, max }) => ({ ts: Number(ts), avg: Number(avg), min: Number(min), max: Number(max) })) };
  }

  /**
   * One device's readings after (ts, seq), in time order: what a replay judges again.
   * `afterTs` in Unix seconds; null: from its first.
   */
  async readingsAfter(sn: string, after: { ts: number; seq: number } | null): Promise<TelemetryRow[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT extract(epoch FROM ts)::float8 AS ts, seq, ppm, v_raw, bat::float8 AS bat, err, flags, calib_version
       FROM telemetry
       WHERE sn = $1 AND ($2::float8 IS NULL OR ts > to_timestamp($2::float8) OR (ts = to_timestamp($2::float8) AND seq > $3))
       ORDER BY ts, seq`,
      [sn, after?.ts ?? null, after?.seq ?? 0],
    );
    return rows.map((row) => ({
      sn, ts: Number(row.ts), seq: Number(row.seq), ppm: Number(row.ppm), v_raw: Number(row.v_raw), bat: row.bat === null ? undefined : Number(row.bat),
      err: Number(row.err), flags: Number(row.flags), calib_version: Number(row.calib_version),
    }));
  }

  /** The keys (ts in Unix seconds, seq) of each device's newest readings, as many as its limit, newest first. */
  async newestKeys(sns: readonly string[], limits: readonly number[]): Promise<Map<string, { ts: number; seq: number }[]>> {
    const rows = await this.db.query<{ sn: string; ts: number; seq: number }>(
      `SELECT d.sn, extract(epoch FROM k.ts)::float8 AS ts, k.seq
       FROM unnest($1::text[], $2::int[]) AS d(sn, n)
       CROSS JOIN LATERAL (SELECT ts, seq FROM telemetry WHERE telemetry.sn = d.sn ORDER BY ts DESC, seq DESC LIMIT d.n) k
       ORDER BY d.sn, k.ts DESC, k.seq DESC`,
      [sns, limits],
    );
    const keys = new Map<string, { ts: number; seq: number }[]>();
    for (const row of rows) {
      const key = { ts: Number(row.ts), seq: Number(row.seq) };
      const list = keys.get(row.sn);
      if (list) list.push(key);
      else keys.set(row.sn, [key]);
    }
    return keys;
  }

  /** Dead letters of the last `seconds` (by the database's clock, which stamps them): a high rate means devices the platform cannot read. */
  async countRecentDeadLetters(seconds: number): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dead_letters WHERE received_at >= now() - make_interval(secs => $1)`, [seconds]);
    return row?.n ?? 0;
  }

  /** Why the device's last refused message was refused, and when; null if none was. */
  async lastDeadLetter(sn: string): Promise<{ at: string; reason: string } | null> {
    const [row] = await this.db.query<{ received_at: string; reason: string }>(`SELECT received_at, reason FROM dead_letters WHERE sn = $1 ORDER BY id DESC LIMIT 1`, [sn]);
    return row ? { at: new Date(row.received_at).toISOString(), reason: row.reason } : null;
  }

  async countDeadLetters(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dead_letters`);
    return row?.n ?? 0;
  }

  async recentDeadLetters(limit = 100): Promise<(DeadLetter & { received_at: string })[]> {
    const rows = await this.db.query<DeadLetter & { received_at: Date }>(
      `SELECT received_at, topic, sn, reason, payload FROM dead_letters ORDER BY id DESC LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({ ...row, received_at: new Date(row.received_at).toISOString() }));
  }
}
