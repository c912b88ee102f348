import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../../test-support/databases.ts";
import { createPgDb, createPgliteDb, type Db } from "../src/index.ts";
import { migrate } from "../src/db/migrate.ts";
import { DeviceStore } from "../src/stores/device-store.ts";

const implementations: [string, () => Promise<Db>][] = [
  ["PostgreSQL", async () => createPgDb(await createTestDatabase("mig"))],
  ["PGlite", () => createPgliteDb()],
];

// Issue 10: devices stored before the fail-safe defaults, without any alarm limit, get their
// gas preset (audited, logged), or become monitor only when their gas has none; open alarms
// whose condition holds go on as open episodes.
describe.each(implementations)("migration 10 on %s: no detector left unguarded", (_name, open) => {
  let db: Db;

  beforeAll(async () => {
    db = await open();
    await migrate(db, 9);
    const insert = (sn: string, gas: string, unit: string, high: number | null) =>
      db.query(`INSERT INTO devices (sn, name, gas, unit, k, b, t_comp, t_ref, high_limit, mqtt_password_hash) VALUES ($1, $1, $2, $3, 1, 0, 0, 25, $4, 'x')`, [sn, gas, unit, high]);
    await insert("OLD-CH4", "CH4", "%LEL", null);
    await insert("OLD-XYZ", "C2H4", "%LEL", null);
    await insert("OLD-CO", "CO", "ppm", 20);
    await db.query(`INSERT INTO alarms (sn, type, level, state, condition_active, value, peak, reason, raised_at) VALUES ('OLD-CO', 'HIGH', 1, 'unacked', true, 25, 30, 'value 25 > level 1 limit 20', now())`);
    expect(await migrate(db)).toContain(10);
  });
  afterAll(() => db.close());

  it("gives a device without limits its gas preset, recorded in the audit log as applied by the migration", async () => {
    expect(await new DeviceStore(db).get("OLD-CH4")).toMatchObject({ high_limit: 25, high_limit_2: 50, range_max: 100, deadband: 2, monitor_only: false });
    const [audit] = await db.query<{ actor: string; after: Record<string, unknown> }>(`SELECT actor, after FROM audit_log WHERE target = 'OLD-CH4'`);
    expect(audit).toMatchObject({ actor: "migration 10", after: { preset_applied: ["high_limit", "high_limit_2", "range_max", "deadband"], preset_basis: "GB/T 50493-2019: 25 / 50 %LEL" } });
  });

  it("makes a device without limits and without a preset monitor only, saying why: shown as not configured, never as normal", async () => {
    expect(await new DeviceStore(db).get("OLD-XYZ")).toMatchObject({ high_limit: null, monitor_only: true, monitor_reason: "migration 10: no alarm limits, and no preset for C2H4 in %LEL" });
  });

  it("leaves a device with limits as it was, and its open alarm goes on as an open episode", async () => {
    expect(await new DeviceStore(db).get("OLD-CO")).toMatchObject({ high_limit: 20, high_limit_2: null, monitor_only: false });
    expect(await db.query(`SELECT type, level, ended_at FROM alarm_episodes WHERE sn = 'OLD-CO'`)).toEqual([{ type: "HIGH", level: 1, ended_at: null }]);
    expect(await db.query(`SELECT count(*)::int AS n FROM alarm_settings_versions`)).toEqual([{ n: 3 }]);
  });
});
