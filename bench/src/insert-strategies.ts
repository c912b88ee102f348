import postgres from "postgres";
import { createPgDb, migrate, TelemetryStore, type TelemetryRow } from "@mcs/platform";
import { startPostgres } from "../../test-support/postgres.ts";
import { cpuSecondsOf, findPids, processTree } from "./proc-stats.ts";

/**
 * `npx tsx bench/src/insert-strategies.ts`: what one batch commit costs per reading, for the
 * worker (client CPU) and for PostgreSQL (server CPU), with the product's statement and with
 * two alternatives, on a throwaway PostgreSQL. All three are idempotent on (sn, ts, seq):
 *
 *   unnest   TelemetryStore.insertBatch: 12 column arrays as parameters (postgres.js sends
 *            them as text array literals), INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING
 *   json     one text parameter, JSON.stringify(rows), INSERT … SELECT FROM
 *            json_to_recordset($1) ON CONFLICT DO NOTHING
 *   copy     COPY into a temporary staging table, then INSERT … SELECT … ON CONFLICT DO
 *            NOTHING, in one transaction (PostgreSQL only; PGlite would keep unnest)
 *
 * The strategies take turns batch by batch (so other load on the machine hits all alike).
 * Env: BENCH_INSERT_BATCH (2000 rows), BENCH_INSERT_BATCHES (60 per strategy).
 */
const BATCH = Number(process.env.BENCH_INSERT_BATCH ?? 2000);
const BATCHES = Number(process.env.BENCH_INSERT_BATCHES ?? 60);
const DEVICES = 200;

const COLUMNS = "sn, ts, seq, ppm, v_raw, temp, humi, bat, rssi, err, flags, calib_version";
const JSON_INSERT = `
  INSERT INTO telemetry (${COLUMNS})
  SELECT sn, to_timestamp(ts), seq, ppm, v_raw, temp, humi, bat, rssi, err, flags, calib_version
  FROM json_to_recordset($1::text::json) AS r(sn text, ts float8, seq int, ppm float8, v_raw float8, temp real, humi real, bat real,
                                         rssi smallint, err int, flags smallint, calib_version int)
  ON CONFLICT (sn, ts, seq) DO NOTHING`;

function makeRows(batch: number, strategy: number): TelemetryRow[] {
  const ts = Math.floor(Date.now() / 1000);
  return Array.from({ length: BATCH }, (_, i) => {
    const seq = strategy * 10_000_000 + batch * BATCH + i;
    return {
      sn: `BENCH${String((i % DEVICES) + 1).padStart(4, "0")}`,
      ts, seq, ppm: 12.5 + (seq % 100), v_raw: 0.5 + (seq % 997) / 1000, temp: 25.5, humi: 45.2, bat: 3.92, rssi: -67, err: 0, flags: 0, calib_version: 1,
    };
  });
}

function copyText(rows: TelemetryRow[]): string {
  let text = "";
  const n = (v: number | undefined) => (v === undefined ? "\\N" : String(v));
  for (const r of rows) {
    text += `${r.sn}\t${new Date(r.ts * 1000).toISOString()}\t${r.seq}\t${r.ppm}\t${r.v_raw}\t${n(r.temp)}\t${n(r.humi)}\t${n(r.bat)}\t${n(r.rssi)}\t${r.err}\t${r.flags}\t${r.calib_version}\n`;
  }
  return text;
}

const pg = await startPostgres();
try {
  const db = createPgDb(pg.url, { max: 1 });
  await migrate(db);
  const store = new TelemetryStore(db);
  await store.partitions.ensureAhead(Date.now());
  const sql = postgres(pg.url, { max: 1, prepare: true, onnotice: () => {} });
  await sql`SELECT 1`;
  await sql.unsafe(`CREATE TEMP TABLE stage (LIKE telemetry INCLUDING DEFAULTS)`);

  const strategies: Record<string, (rows: TelemetryRow[]) => Promise<unknown>> = {
    unnest: (rows) => store.insertBatch(rows),
    json: (rows) => db.query(JSON_INSERT, [JSON.stringify(rows)]),
    copy: (rows) =>
      sql.begin(async (tx) => {
        const stream = await tx.unsafe(`COPY stage (${COLUMNS}) FROM STDIN`).writable();
        await new Promise<void>((resolve, reject) => {
          stream.on("error", reject);
          stream.end(copyText(rows), () => resolve());
        });
        await tx.unsafe(`INSERT INTO telemetry (${COLUMNS}) SELECT ${COLUMNS} FROM stage ON CONFLICT (sn, ts, seq) DO NOTHING`);
        await tx.unsafe(`TRUNCATE stage`);
      }),
  };
  const names = Object.keys(strategies);
  const serverPids = () => {
    const [postmaster] = findPids("postgres", `-p ${pg.port}`);
    return postmaster ? processTree(postmaster) : [];
  };
  const serverCpu = () => serverPids().reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
  const totals = Object.fromEntries(names.map((name) => [name, { client: 0, server: 0, wall: 0, rows: 0 }]));

  for (let batch = -2; batch < BATCHES; batch++) {
    for (const [index, name] of names.entries()) {
      const rows = makeRows(batch + 2, index);
      const client0 = process.cpuUsage();
      const server0 = serverCpu();
      const wall0 = performance.now();
      await strategies[name]!(rows);
      if (batch < 0) continue; // warm-up: prepared statements, partitions
      const client = process.cpuUsage(client0);
      const total = totals[name]!;
      total.client += (client.user + client.system) / 1e6;
      total.server += serverCpu() - server0;
      total.wall += (performance.now() - wall0) / 1000;
      total.rows += rows.length;
    }
  }
  const [check] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM telemetry`);
  console.log(`${BATCHES} batches of ${BATCH} rows per strategy; ${check?.n} rows stored in all`);
  console.log(`${"strategy".padEnd(10)}${"client µs/row".padStart(15)}${"server µs/row".padStart(15)}${"rows/s (wall)".padStart(15)}`);
  for (const name of names) {
    const t = totals[name]!;
    console.log(`${name.padEnd(10)}${((1e6 * t.client) / t.rows).toFixed(2).padStart(15)}${((1e6 * t.server) / t.rows).toFixed(2).padStart(15)}${Math.round(t.rows / t.wall).toLocaleString("en-US").padStart(15)}`);
  }
  await sql.end();
  await db.close();
} finally {
  pg.stop();
}
