import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { archiveKeys, SENSOR_DATA_HEADER } from "@mcs/core";
import { S3ObjectStore, TelemetryStore, type TelemetryRow } from "@mcs/platform";
import { READING_FLAGS, type TelemetryPoint } from "@mcs/protocol";
import { buildTestApp, type TestApp } from "../../backend/test/helper.ts";
import { freePort } from "../../test-support/free-port.ts";
import { startLocalS3, type LocalS3 } from "../../test-support/s3rver.ts";
import { beforeAllOrFail } from "../../test-support/suite-setup.ts";
import { Archiver, type ArchiveCrashPoint } from "../src/archive/archiver.ts";

const DAY_MS = 86_400_000;
/** "Now": 03:00 UTC on 17 December; with 3 hot days, 12 and 13 December are archived, 14–16 stay. */
const NOW = Date.parse("2025-12-17T03:00:00Z");
const DAYS = ["2025-12-12", "2025-12-13", "2025-12-14", "2025-12-15", "2025-12-16"];
const SNS = ["B-2", "A-1", "a-3"];
const PER_DAY = 120;

/** Readings of every device on every day, with the odd null, flag, error and detector clock among them. */
function readings(): TelemetryRow[] {
  const rows: TelemetryRow[] = [];
  for (const day of DAYS) {
    for (const sn of SNS) {
      for (let i = 0; i < PER_DAY; i++) {
        const ts = (Date.parse(`${day}T00:00:00Z`) + i * 600_000 + 5_000) / 1000;
        rows.push({
          sn, ts, seq: i, ppm: Math.round((i % 17) * 1.5 * 100) / 100, v_raw: 0.4 + i / 1000,
          temp: i % 10 === 0 ? undefined : 24.5, humi: 40, bat: 3.9 - i / 10_000, rssi: -60 - (i % 5),
          err: i === 7 ? 0x08 : 0, flags: i === 3 ? READING_FLAGS.clock : i === 4 ? READING_FLAGS.negative : 0,
          calib_version: i < 60 ? 1 : 2, device_ts: i === 3 ? 12 : undefined,
        });
      }
    }
  }
  return rows;
}

describe("the archiver, on PostgreSQL and an S3-compatible server", () => {
  let s3: LocalS3;
  let t: TestApp;
  let dataDir: string;
  let admin: { authorization: string };
  let prefix = 0;

  beforeAllOrFail(async () => {
    s3 = await startLocalS3();
  });
  afterAll(async () => {
    await s3?.close();
  });
  afterEach(async () => {
    await t?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A fresh database with devices and five days of readings, archiving to a fresh prefix of the bucket. */
  async function plant(storage: { endpoint?: string } = {}): Promise<{ archiver(crashAt?: ArchiveCrashPoint): Archiver; objects: S3ObjectStore }> {
    dataDir = mkdtempSync(join(tmpdir(), "mcs-archiver-"));
    t = await buildTestApp("services", { archive: { dataDir, defaultHotDays: 3 } });
    t.clock.ms = NOW;
    admin = await t.as("admin");
    for (const sn of SNS) {
      const res = await t.app.inject({ method: "POST", url: "/api/devices", headers: admin, payload: { sn, name: `detector ${sn}`, gas: "CH4", unit: "%LEL" } });
      expect(res.statusCode).toBe(201);
    }
    await new TelemetryStore(t.ports.db).insertBatch(readings());
    const config = s3.config(`run${++prefix}/`);
    const put = await t.app.inject({
      method: "PUT", url: "/api/settings/storage", headers: admin,
      payload: { endpoint: storage.endpoint ?? config.endpoint, region: "auto", bucket: config.bucket, access_key_id: config.accessKeyId, secret_access_key: config.secretAccessKey, force_path_style: true, prefix: config.prefix },
    });
    expect(put.statusCode).toBe(200);
    return {
      archiver: (crashAt) => new Archiver({
        db: t.ports.db, clock: t.clock, dataDir, defaultHotDays: 3,
        crashAt: crashAt && ((point) => { if (point === crashAt) throw new Error(`crash injected ${point}`); }),
      }),
      objects: new S3ObjectStore(config),
    };
  }

  const localCount = async (day: string) =>
    (await t.ports.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM telemetry WHERE ts >= $1::timestamptz AND ts < $1::timestamptz + interval '1 day'`, [`${day}T00:00:00Z`]))[0]!.n;
  const telemetryOf = async (sn: string, day: string) => {
    const from = Date.parse(`${day}T00:00:00Z`) / 1000;
    const res = await t.app.inject({ method: "GET", url: `/api/devices/${sn}/telemetry?from=${from}&to=${from + 86_400}&limit=10000`, headers: admin });
    expect(res.statusCode).toBe(200);
    return res.json<{ data: TelemetryPoint[] }>().data;
  };
  const archiveNow = async (archiver: Archiver, body: object = {}) => {
    const res = await t.app.inject({ method: "POST", url: "/api/archive/run", headers: admin, payload: body });
    expect(res.statusCode).toBe(202);
    const { id } = res.json<{ id: number }>();
    expect(await archiver.runNext()).toBe(id);
    const runs = (await t.app.inject({ method: "GET", url: "/api/archive/runs", headers: admin })).json<{ data: { id: number }[] }>().data;
    return runs.find((run) => run.id === id) as Record<string, unknown>;
  };
  const csvOf = async (objects: S3ObjectStore, key: string) => gunzipSync((await objects.get(key))!).toString("utf8").trimEnd().split("\n");

  it("writes one verified object per day older than the retention, with the plan's names, and frees only those days", async () => {
    const { archiver, objects } = await plant();
    const before = await telemetryOf("A-1", "2025-12-12");
    const run = await archiveNow(archiver());
    expect(run).toMatchObject({ state: "ok", days: ["2025-12-12", "2025-12-13"], days_total: 2, rows: 2 * SNS.length * PER_DAY, error: null });
    expect(run.bytes).toBeGreaterThan(0);
    expect(run.raw_bytes as number).toBeGreaterThan((run.bytes as number) * 2);

    const listed = (await t.app.inject({ method: "GET", url: "/api/archive/objects", headers: admin })).json<{ data: { key: string; kind: string; day: string }[] }>().data;
    expect(listed.filter((o) => o.kind === "sensor_data").map((o) => o.key)).toEqual(["archive/2025/12/sensor_data_20251212.csv.gz", "archive/2025/12/sensor_data_20251213.csv.gz"]);
    expect(listed.filter((o) => o.kind === "manifest").map((o) => o.day)).toEqual(["2025-12-12", "2025-12-13"]);

    const lines = await csvOf(objects, archiveKeys("2025-12-12").sensor_data);
    expect(lines[0]).toBe(SENSOR_DATA_HEADER);
    expect(lines).toHaveLength(1 + SNS.length * PER_DAY);
    // Ordered by sn (byte order: upper case first), then ts.
    expect([...new Set(lines.slice(1).map((line) => line.split(",")[0]))]).toEqual(["A-1", "B-2", "a-3"]);
    expect(lines[1]).toBe("A-1,2025-12-12T00:00:05.000Z,0,0,0.4,,40,3.9,-60,0,");
    expect(lines[4]).toMatch(/^A-1,2025-12-12T00:30:05.000Z,3,4.5,0.403,24.5,40,3.899\d*,-63,0,clock$/);
    expect(lines[8]).toMatch(/^A-1,2025-12-12T01:10:05.000Z,7,10.5,0.40700000000000003,24.5,40,3.8993,-62,8,$/);

    const object = (await objects.get(archiveKeys("2025-12-12").sensor_data))!;
    const manifest = JSON.parse((await objects.get(archiveKeys("2025-12-12").manifest))!.toString());
    expect(manifest).toMatchObject({
      schema: 1, kind: "sensor_data", day: "2025-12-12", rows: SNS.length * PER_DAY, device_count: 3, bytes: object.length,
      sha256: createHash("sha256").update(object).digest("hex"), first_ts: "2025-12-12T00:00:05.000Z",
    });
    expect(manifest.devices.find((d: { sn: string }) => d.sn === "A-1")).toMatchObject({ gas: "CH4", unit: "%LEL", rows: PER_DAY, settings: { high1: expect.any(Number) } });

    for (const day of ["2025-12-12", "2025-12-13"]) expect(await localCount(day)).toBe(0);
    for (const day of ["2025-12-14", "2025-12-15", "2025-12-16"]) expect(await localCount(day)).toBe(SNS.length * PER_DAY);
    expect(await telemetryOf("A-1", "2025-12-12")).toEqual([]);

    // A rerun finds nothing to do and makes no object twice.
    const again = await archiveNow(archiver());
    expect(again).toMatchObject({ state: "ok", days: [], rows: 0 });
    expect((await objects.list("archive/")).length).toBe(listed.length);

    // Restored, the day reads back identical through the telemetry route; twice stores each reading once.
    const restore = await t.app.inject({ method: "POST", url: "/api/archive/restore", headers: admin, payload: { day: "2025-12-12" } });
    expect(restore.json()).toEqual({ day: "2025-12-12", rows: SNS.length * PER_DAY, inserted: SNS.length * PER_DAY });
    expect(await telemetryOf("A-1", "2025-12-12")).toEqual(before);
    const twice = await t.app.inject({ method: "POST", url: "/api/archive/restore", headers: admin, payload: { day: "2025-12-12" } });
    expect(twice.json()).toEqual({ day: "2025-12-12", rows: SNS.length * PER_DAY, inserted: 0 });
    expect(await localCount("2025-12-12")).toBe(SNS.length * PER_DAY);
    // A restored day stays for the hot days: the next run leaves it.
    expect(await archiveNow(archiver())).toMatchObject({ state: "ok", days: [] });
    expect(await localCount("2025-12-12")).toBe(SNS.length * PER_DAY);
    const audit = (await t.app.inject({ method: "GET", url: "/api/audit?action=archive", headers: admin })).json<{ data: { action: string }[] }>().data;
    expect(audit.map((row) => row.action)).toEqual(expect.arrayContaining(["archive.run", "archive.restore"]));
  }, 60_000);

  it("a crash after the upload, before the delete, keeps the day; the rerun finishes it without doubling a row", async () => {
    const { archiver, objects } = await plant();
    const crashed = await archiveNow(archiver("uploaded"));
    expect(crashed).toMatchObject({ state: "failed", error: expect.stringMatching(/crash injected uploaded/) });
    expect(await localCount("2025-12-12")).toBe(SNS.length * PER_DAY);
    expect(await objects.head(archiveKeys("2025-12-12").sensor_data)).not.toBeNull();

    const rerun = await archiveNow(archiver());
    expect(rerun).toMatchObject({ state: "ok", days: ["2025-12-12", "2025-12-13"] });
    expect(await csvOf(objects, archiveKeys("2025-12-12").sensor_data)).toHaveLength(1 + SNS.length * PER_DAY);
    expect(await localCount("2025-12-12")).toBe(0);
  }, 60_000);

  it("a crash after the delete ends correct on rerun: the verified object stays as it was", async () => {
    const { archiver, objects } = await plant();
    await archiveNow(archiver("freed"));
    expect(await localCount("2025-12-12")).toBe(0);
    const object = await objects.get(archiveKeys("2025-12-12").sensor_data);
    // A worker that died mid-run: its run goes on 'running' until its heartbeat is 2 minutes old.
    await t.ports.db.query(`UPDATE archive_runs SET state = 'running', finished_at = NULL, error = NULL, heartbeat_at = $1::timestamptz`, [new Date(NOW).toISOString()]);
    t.clock.advance(3 * 60_000);
    const rerun = await archiveNow(archiver());
    expect(rerun).toMatchObject({ state: "ok" });
    const runs = (await t.app.inject({ method: "GET", url: "/api/archive/runs", headers: admin })).json<{ data: { state: string; error: string | null }[] }>().data;
    expect(runs.at(-1)).toMatchObject({ state: "failed", error: expect.stringMatching(/^interrupted/) });
    expect(await objects.get(archiveKeys("2025-12-12").sensor_data)).toEqual(object);
    expect(await csvOf(objects, archiveKeys("2025-12-13").sensor_data)).toHaveLength(1 + SNS.length * PER_DAY);
    expect(await localCount("2025-12-13")).toBe(0);
  }, 60_000);

  it("an upload that fails keeps every local reading and records the error", async () => {
    const { archiver } = await plant({ endpoint: `http://127.0.0.1:${await freePort()}` });
    const run = await archiveNow(archiver());
    expect(run).toMatchObject({ state: "failed", days: [], error: expect.stringMatching(/cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/) });
    for (const day of DAYS) expect(await localCount(day)).toBe(SNS.length * PER_DAY);
  }, 60_000);

  it("readings that arrive late for an archived day are merged into its object on the next run, each once", async () => {
    const { archiver, objects } = await plant();
    await archiveNow(archiver());
    const telemetry = new TelemetryStore(t.ports.db);
    await telemetry.insertBatch([
      { sn: "A-1", ts: Date.parse("2025-12-12T12:00:01Z") / 1000, seq: 999, ppm: 55, v_raw: 1.1, err: 0, flags: 0, calib_version: 2 },
      // A resend of one already archived: stored locally again, but not twice in the object.
      { sn: "A-1", ts: Date.parse("2025-12-12T00:00:05Z") / 1000, seq: 0, ppm: 0, v_raw: 0.4, humi: 40, bat: 3.9, rssi: -60, err: 0, flags: 0, calib_version: 1 },
    ]);
    const run = await archiveNow(archiver());
    expect(run).toMatchObject({ state: "ok", days: ["2025-12-12"] });
    const lines = await csvOf(objects, archiveKeys("2025-12-12").sensor_data);
    expect(lines).toHaveLength(2 + SNS.length * PER_DAY);
    expect(lines.filter((line) => line.startsWith("A-1,2025-12-12T12:00:01.000Z,999,55,"))).toHaveLength(1);
    expect(lines.filter((line) => line.startsWith("A-1,2025-12-12T00:00:05.000Z,0,"))).toHaveLength(1);
    const manifest = JSON.parse((await objects.get(archiveKeys("2025-12-12").manifest))!.toString());
    expect(manifest.rows).toBe(1 + SNS.length * PER_DAY);
    // What only the object held keeps its calibration version and detector time through the merge.
    expect(manifest.devices.find((d: { sn: string }) => d.sn === "B-2")).toMatchObject({
      calib_versions: [[Date.parse("2025-12-12T00:00:05Z"), 0, 1], [Date.parse("2025-12-12T10:00:05Z"), 60, 2]],
      device_times: [[Date.parse("2025-12-12T00:30:05Z"), 3, 12]],
    });
    expect(await localCount("2025-12-12")).toBe(0);
  }, 60_000);

  it("archives the day's alarms with their events and its audit log, and removes closed alarms past the records' retention", async () => {
    const { archiver, objects } = await plant();
    const insertAlarm = async (raisedAt: string, state: string) => {
      const [row] = await t.ports.db.query<{ id: number }>(
        `INSERT INTO alarms (sn, type, level, state, condition_active, value, peak, reason, raised_at, received_at, closed_at)
         VALUES ('A-1', 'HIGH', 2, $2, false, 62, 64.5, 'above 50 %LEL, "level 2"', $1::timestamptz, $1::timestamptz, CASE WHEN $2 = 'closed' THEN $1::timestamptz END) RETURNING id::int AS id`,
        [raisedAt, state],
      );
      await t.ports.db.query(`INSERT INTO alarm_events (alarm_id, kind, level, value, at, actor, note) VALUES ($1, 'raised', 2, 62, $2::timestamptz, 'system', 'raised, with a comma')`, [row!.id, raisedAt]);
      return row!.id;
    };
    const recent = await insertAlarm("2025-12-12T08:00:00Z", "closed");
    const old = await insertAlarm("2024-11-01T08:00:00Z", "closed");
    const oldOpen = await insertAlarm("2024-11-01T09:00:00Z", "acked");
    await t.ports.db.query(`INSERT INTO audit_log (at, actor, action, target, after) VALUES ('2025-12-12T09:00:00Z', 'admin', 'device.update', 'A-1', '{"high_limit": 20}')`);

    const run = await archiveNow(archiver());
    expect(run).toMatchObject({ state: "ok" });
    const alarms = await csvOf(objects, archiveKeys("2025-12-12").alarms);
    expect(alarms).toHaveLength(2);
    expect(alarms[1]).toMatch(new RegExp(`^${recent},A-1,HIGH,2,closed,62,64.5,,"above 50 %LEL, ""level 2""",2025-12-12T08:00:00.000Z,`));
    expect(alarms[1]).toContain(`"[{""kind"":""raised"",""level"":2,""value"":62,""at"":""2025-12-12T08:00:00.000Z"",""actor"":""system"",""note"":""raised, with a comma""}]"`);
    const audit = await csvOf(objects, archiveKeys("2025-12-12").audit);
    expect(audit.some((line) => line.includes(",admin,,device.update,A-1,") && line.includes(`"{""high_limit"": 20}"`))).toBe(true);

    // Past a year: archived as it is, then gone from the database; one still open stays.
    const oldFile = await csvOf(objects, archiveKeys("2024-11-01").alarms);
    expect(oldFile.slice(1).map((line) => Number(line.split(",")[0]))).toEqual([old, oldOpen]);
    const left = await t.ports.db.query<{ id: number }>(`SELECT id::int AS id FROM alarms ORDER BY id`);
    expect(left.map((row) => row.id)).toEqual([recent, oldOpen]);
  }, 60_000);

  it("refuses bad requests with a clear error and loses nothing", async () => {
    const { archiver, objects } = await plant();
    const call = (url: string, payload: object) => t.app.inject({ method: "POST", url, headers: admin, payload });
    expect((await call("/api/archive/run", { before: "2025-13-01" })).json().error.message).toMatch(/^body\.before: not a day of the calendar/);
    expect((await call("/api/archive/run", { before: "2026-01-01" })).json().error.message).toMatch(/is in the future/);
    expect((await call("/api/archive/run", { days: 3 })).statusCode).toBe(400);
    expect((await call("/api/archive/restore", { day: "12/12/2025" })).statusCode).toBe(400);
    const missing = await call("/api/archive/restore", { day: "2025-12-01" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.message).toMatch(/no archive for 2025-12-01: archive\/2025\/12\/sensor_data_20251201\.csv\.gz is not in s3:\/\//);
    const badKey = await t.app.inject({ method: "GET", url: "/api/archive/object?key=../../etc/passwd", headers: admin });
    expect(badKey.statusCode).toBe(400);
    const operator = await t.as("operator");
    expect((await t.app.inject({ method: "POST", url: "/api/archive/run", headers: operator, payload: {} })).statusCode).toBe(403);
    expect((await t.app.inject({ method: "GET", url: "/api/archive/runs", headers: operator })).statusCode).toBe(403);

    // A broken object in the store: the restore says where, and what was stored stays.
    await archiveNow(archiver(), { before: "2025-12-13" });
    const key = archiveKeys("2025-12-12").sensor_data;
    const good = (await objects.get(key))!;
    const { gzipSync } = await import("node:zlib");
    await objects.put(key, gzipSync(`${SENSOR_DATA_HEADER}\nA-1,2025-12-12T00:00:05.000Z,0,0,0.4,,40,3.9,-60,0,\nA-1,not a time,1,0,0.4,,40,3.9,-60,0,\n`));
    const broken = await call("/api/archive/restore", { day: "2025-12-12" });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.message).toMatch(/sensor_data_20251212\.csv\.gz line 3: ts is not a time/);
    await objects.put(key, good);
    const download = await t.app.inject({ method: "GET", url: `/api/archive/object?key=${encodeURIComponent(key)}`, headers: admin });
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.equals(good)).toBe(true);
    for (const day of DAYS.slice(1)) expect(await localCount(day)).toBe(SNS.length * PER_DAY);
  }, 60_000);
});
