// The archive (issue 13): how fast a day of readings is exported, compressed, uploaded,
// read back and freed, against `COPY … TO STDOUT | gzip` of the same rows measured in the
// same run, on a throwaway PostgreSQL and s3rver. `npm run bench:archive`; prints a report
// and one JSON line; asserts nothing.
//
// BENCH_DEVICES detectors (default 100) × one day at one reading per 10 s (8640 each).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import postgres from "postgres";
import { createPgDb, DeviceStore, migrate, SettingsStore, TelemetryPartitions } from "../../packages/platform/src/index.ts";
import { Archiver } from "../../worker/src/archive/archiver.ts";
import { startPostgres } from "../../test-support/postgres.ts";
import { startLocalS3 } from "../../test-support/s3rver.ts";
import { cleanupOnExit } from "./cleanup.ts";

const DEVICES = Number(process.env.BENCH_DEVICES ?? 100);
const DAY = "2025-12-13";
const log = (line: string) => process.stderr.write(`${line}\n`);
const { onCleanup, cleanUp } = cleanupOnExit(log, 900_000);

const pg = await startPostgres();
onCleanup("postgres", () => pg.stop());
const s3 = await startLocalS3();
onCleanup("s3rver", () => s3.close());
const dataDir = mkdtempSync(join(tmpdir(), "mcs-bench-archive-"));
onCleanup("data dir", () => rmSync(dataDir, { recursive: true, force: true }));
const db = createPgDb(pg.url, { max: 4 });
onCleanup("db", () => db.close());
await migrate(db);

const devices = new DeviceStore(db);
for (let i = 0; i < DEVICES; i++) await devices.create({ sn: `ARC-${String(i).padStart(4, "0")}`, gas: "CH4", unit: "%LEL" }, "x", { name: "bench" });
await new TelemetryPartitions(db).ensure([Date.parse(`${DAY}T00:00:00Z`)]);

/** One day of every device, made in the database: a slow wave with noise, as detectors read. */
async function seed(): Promise<number> {
  const started = performance.now();
  await db.query(`
    INSERT INTO telemetry (sn, ts, seq, ppm, v_raw, temp, humi, bat, rssi, err, flags, calib_version)
    SELECT 'ARC-' || lpad(d::text, 4, '0'), timestamptz '${DAY}T00:00:00Z' + make_interval(secs => i * 10), i,
           round((5 + 3 * sin(i / 500.0 + d) + random())::numeric, 2), round((0.4 + random() / 100)::numeric, 4),
           round((22 + sin(i / 3000.0))::numeric, 1), 45, round((3.9 - i / 100000.0)::numeric, 3), -60 - (i % 7), 0, 0, 1
    FROM generate_series(0, ${DEVICES - 1}) d, generate_series(0, 8639) i`);
  log(`seeded ${DEVICES * 8640} readings in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return DEVICES * 8640;
}
const rows = await seed();

// The baseline: PostgreSQL's own COPY of the same rows in the same order, through gzip, to nowhere.
const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
onCleanup("copy connection", () => sql.end());
let copyBytes = 0;
const copyStarted = performance.now();
const copy = await sql.unsafe(
  `COPY (SELECT sn, ts, seq, ppm, v_raw, temp, humi, bat, rssi, err, flags FROM telemetry
         WHERE ts >= '${DAY}T00:00:00Z' AND ts < '${DAY}T00:00:00Z'::timestamptz + interval '1 day' ORDER BY sn COLLATE "C", ts, seq)
   TO STDOUT WITH (FORMAT csv, HEADER)`,
).readable();
await pipeline(copy, createGzip({ level: 6 }), new Writable({ write(chunk: Buffer, _e, done) { copyBytes += chunk.length; done(); } }));
const copyS = (performance.now() - copyStarted) / 1000;
log(`COPY | gzip: ${copyS.toFixed(2)} s, ${copyBytes} bytes`);

// The archiver: the same rows to s3rver, read back, checked, freed.
const config = s3.config("bench/");
await new SettingsStore(db).setStorage({
  endpoint: config.endpoint, region: config.region, bucket: config.bucket, access_key_id: config.accessKeyId, secret_access_key: config.secretAccessKey, force_path_style: true, prefix: config.prefix,
}, { name: "bench" }, Date.now());
const archiver = new Archiver({ db, clock: { now: () => Date.parse("2025-12-17T03:00:00Z") }, dataDir, defaultHotDays: 3 });
const id = (await archiver.runs.queue({ trigger: "cli", by: "bench" }, Date.now()))!;
const started = performance.now();
await archiver.runNext();
const archiveS = (performance.now() - started) / 1000;
const run = (await archiver.runs.run(id))!;
if (run.state !== "ok") throw new Error(`the archive run failed: ${run.error}`);

const report = {
  devices: DEVICES,
  readings: rows,
  archive_s: Number(archiveS.toFixed(2)),
  archive_rows_per_s: Math.round(rows / archiveS),
  copy_gzip_s: Number(copyS.toFixed(2)),
  copy_gzip_rows_per_s: Math.round(rows / copyS),
  /** Of the baseline's speed: 1 = as fast as COPY | gzip (which neither uploads nor checks). */
  speed_ratio_to_copy_gzip: Number((copyS / archiveS).toFixed(2)),
  compressed_bytes: run.bytes,
  bytes_per_reading: Number((run.bytes / rows).toFixed(2)),
  compression_ratio: Number((run.raw_bytes / run.bytes).toFixed(1)),
  size_ratio_to_copy_gzip: Number((run.bytes / copyBytes).toFixed(2)),
};
console.log(`
archive of one day, ${DEVICES} detectors × 8640 readings (${rows} rows), PostgreSQL → CSV.GZ → s3rver, read back and freed
  archiver         ${report.archive_s} s   ${report.archive_rows_per_s} rows/s   ${report.bytes_per_reading} bytes/reading compressed (×${report.compression_ratio})
  COPY | gzip      ${report.copy_gzip_s} s   ${report.copy_gzip_rows_per_s} rows/s   ${(copyBytes / rows).toFixed(2)} bytes/reading
  ratio            speed ${report.speed_ratio_to_copy_gzip} of COPY | gzip (which only exports), size ${report.size_ratio_to_copy_gzip} of its bytes
`);
console.log(JSON.stringify({ bench: "archive", ...report }));
await cleanUp();
process.exit(0);
