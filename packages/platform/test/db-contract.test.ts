import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../../test-support/databases.ts";
import { createPgDb, createPgliteDb, type Db } from "../src/index.ts";
import { migrate } from "../src/db/migrate.ts";
import { DeviceConflictError, DeviceStore } from "../src/stores/device-store.ts";
import { TelemetryStore, type TelemetryRow } from "../src/stores/telemetry-store.ts";
import { listAudit } from "../src/stores/audit-store.ts";

const implementations: [string, () => Promise<Db>][] = [
  ["PostgreSQL", async () => createPgDb(await createTestDatabase("db"))],
  ["PGlite", () => createPgliteDb()],
];

const actor = { name: "tester", ip: "127.0.0.1" };
const now = Math.floor(Date.now() / 1000);
const row = (sn: string, seq: number, ts = now): TelemetryRow => ({
  sn, ts, seq, ppm: seq, v_raw: seq / 2, temp: 25.1, humi: 45.2, bat: 3.92, rssi: -67, err: 0, flags: 0, calib_version: 1,
});

describe.each(implementations)("the Db port on %s", (_name, open) => {
  let db: Db;
  let devices: DeviceStore;
  let telemetry: TelemetryStore;

  beforeAll(async () => {
    db = await open();
    await migrate(db);
    devices = new DeviceStore(db);
    telemetry = new TelemetryStore(db);
  });
  afterAll(() => db.close());

  it("migrates once: a second run applies nothing", async () => {
    expect(await migrate(db)).toEqual([]);
    const tables = await db.query<{ relname: string }>(`SELECT relname FROM pg_class WHERE relname IN ('devices','telemetry','dead_letters','users','audit_log','calibration_versions')`);
    expect(tables.map((t) => t.relname).sort()).toEqual(["audit_log", "calibration_versions", "dead_letters", "devices", "telemetry", "users"]);
  });

  it("keeps telemetry in native daily partitions made ahead of time (no TimescaleDB here)", async () => {
    await telemetry.partitions.ensureAhead(Date.now(), 2);
    const parts = await db.query<{ relname: string }>(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'telemetry'`,
    );
    expect(parts.length).toBeGreaterThanOrEqual(3);
    expect(parts.map((p) => p.relname)).toContain(`telemetry_${new Date().toISOString().slice(0, 10).replaceAll("-", "")}`);
  });

  it("registers a device with its first calibration version and an audit row without the secret", async () => {
    const device = await devices.create({ sn: "D1", k: 2, b: 1, t_comp: 0.5, t_ref: 25 }, "$7$secret-hash", actor);
    expect(device).toMatchObject({ sn: "D1", name: "D1", gas: "CH4", unit: "%LEL", k: 2, calib_version: 1, enabled: true });
    await expect(devices.create({ sn: "D1" }, "x", actor)).rejects.toBeInstanceOf(DeviceConflictError);
    const audit = await listAudit(db);
    expect(audit[0]).toMatchObject({ actor: "tester", action: "device.create", target: "D1" });
    expect(JSON.stringify(audit)).not.toContain("secret-hash");
  });

  it("versions a calibration change and records before and after", async () => {
    const updated = await devices.update("D1", { k: 3, calib_note: "span gas lot 2301" }, actor);
    expect(updated).toMatchObject({ k: 3, calib_version: 2 });
    const versions = await db.query(`SELECT version, k, note FROM calibration_versions WHERE sn = 'D1' ORDER BY version`);
    expect(versions).toEqual([{ version: 1, k: 2, note: "initial calibration" }, { version: 2, k: 3, note: "span gas lot 2301" }]);
    const renamed = await devices.update("D1", { name: "Tank farm east" }, actor);
    expect(renamed?.calib_version).toBe(2);
    const [audit] = await listAudit(db, 1);
    expect(audit).toMatchObject({ action: "device.update", before: { name: "D1" }, after: { name: "Tank farm east" } });
    expect(await devices.update("NOPE", { k: 1 }, actor)).toBeNull();
  });

  it("stores a batch once: the same readings resent store nothing new", async () => {
    const batch = Array.from({ length: 500 }, (_, i) => row("D1", i));
    expect(await telemetry.insertBatch(batch)).toBe(500);
    expect(await telemetry.insertBatch(batch)).toBe(0);
    expect(await telemetry.insertBatch([...batch.slice(0, 10), row("D1", 500), row("D1", 500)])).toBe(1);
  });

  it("stores dead letters in the same statement as the readings", async () => {
    const before = await telemetry.countDeadLetters();
    await telemetry.insertBatch([row("D1", 1000)], [{ topic: "mcs/D1/up", sn: "D1", reason: "not JSON", payload: "{oops" }]);
    expect(await telemetry.countDeadLetters()).toBe(before + 1);
    expect((await telemetry.recentDeadLetters(1))[0]).toMatchObject({ reason: "not JSON", payload: "{oops" });
  });

  it("creates the partition for a backlog from days ago on demand", async () => {
    const old = now - 5 * 86400;
    expect(await telemetry.insertBatch([row("D1", 1, old)])).toBe(1);
  });

  it("reads a range back oldest first with the stored values and flag names", async () => {
    await telemetry.insertBatch([{ ...row("D2", 7, now - 20), flags: 1, temp: undefined }, row("D2", 8, now - 10)]);
    const points = await telemetry.range("D2", new Date((now - 60) * 1000), new Date((now + 60) * 1000), 100);
    expect(points).toEqual([
      { ts: now - 20, ppm: 7, v_raw: 3.5, temp: null, humi: 45.2, bat: 3.92, rssi: -67, err: 0, flags: ["anomaly"] },
      { ts: now - 10, ppm: 8, v_raw: 4, temp: 25.1, humi: 45.2, bat: 3.92, rssi: -67, err: 0, flags: [] },
    ]);
  });

  it("rolls a failed transaction back", async () => {
    await expect(db.transaction(async (tx) => {
      await tx.query(`INSERT INTO users (username, password_hash, role) VALUES ('ghost', 'x', 'viewer')`);
      throw new Error("boom");
    })).rejects.toThrow("boom");
    expect(await db.query(`SELECT 1 FROM users WHERE username = 'ghost'`)).toEqual([]);
  });

  it("deletes a device but keeps its readings", async () => {
    expect(await devices.delete("D1", actor)).toBe(true);
    expect(await devices.get("D1")).toBeNull();
    expect(await devices.delete("D1", actor)).toBe(false);
    const [count] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM telemetry WHERE sn = 'D1'`);
    expect(count?.n).toBeGreaterThan(500);
  });
});
