import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PresenceStore } from "@mcs/platform";
import { cacheKeys, OverviewSchema, type AlarmType, type Device, type LatestReading, type Overview, type Role } from "@mcs/protocol";
import { MODES } from "../../test-support/ports.ts";
import { buildTestApp, expectError, type TestApp } from "./helper.ts";

const ALL: Role[] = ["admin", "engineer", "operator", "viewer"];
const HOUR = 3_600_000;
/** 2026-03-10 13:30 in Shanghai (the plant's date is 2026-03-10 there). */
const NOW = Date.parse("2026-03-10T05:30:00Z");

// Issue 15, item 2: the admin site's home page, `GET /api/overview`.
describe.each(MODES)("GET /api/overview (%s mode)", (mode) => {
  let t: TestApp;
  let as: Record<Role, { authorization: string }>;
  const overview = async (role: Role = "viewer") => {
    const res = await t.app.inject({ method: "GET", url: "/api/overview", headers: as[role] });
    expect(res.statusCode).toBe(200);
    const body = res.json<Overview>();
    expect(() => OverviewSchema.strict().parse(body)).not.toThrow();
    return body;
  };
  const create = async (payload: object) => {
    const res = await t.app.inject({ method: "POST", url: "/api/devices", headers: as.admin, payload });
    expect(res.statusCode, res.body).toBe(201);
  };
  const nowS = () => Math.floor(t.clock.now() / 1000);
  /** What the workers would have written: presence, when last heard, the latest reading. */
  const heard = async (sn: string, online: boolean, atMs: number, latest?: Partial<LatestReading>) => {
    const store = new PresenceStore(t.ports.cache);
    const { text } = await store.current(sn);
    expect(await store.change(sn, text, { online, at: atMs, reason: online ? "reading" : "silence" })).toBe(true);
    await store.seen(new Map([[sn, atMs]]));
    if (latest) {
      const reading: LatestReading = { sn, ts: Math.floor(atMs / 1000), ppm: 0, status: "online", flags: 0, ...latest };
      await t.ports.cache.hset(cacheKeys.latest, { [sn]: JSON.stringify(reading) });
    }
  };
  /** An alarm as the workers store it. */
  const alarm = async (sn: string, type: AlarmType, level: 1 | 2, raisedMs: number, reason: string, more: { state?: string; active?: boolean } = {}) => {
    const raised = new Date(raisedMs).toISOString();
    await t.ports.db.query(
      `INSERT INTO alarms (sn, type, level, state, condition_active, value, peak, reason, raised_at, received_at, peak_at)
       VALUES ($1, $2, $3, $4, $5, 1, 1, $6, $7, $7, $7)`,
      [sn, type, level, more.state ?? "unacked", more.active ?? true, reason, raised],
    );
  };

  beforeAll(async () => {
    t = await buildTestApp(mode);
    t.clock.ms = NOW;
    as = Object.fromEntries(await Promise.all(ALL.map(async (role) => [role, await t.as(role)] as const))) as Record<Role, { authorization: string }>;
  });
  afterAll(async () => t.close());

  it("answers 401 without a session", async () => {
    expectError(await t.app.inject({ method: "GET", url: "/api/overview" }), 401, "MCS_ERR_UNAUTHENTICATED");
  });

  it("for an empty plant: no devices, nothing needing attention, 24 empty hours ending with the hour now running", async () => {
    for (const role of ALL) {
      const body = await overview(role);
      expect(body).toEqual({
        generated_at: new Date(NOW).toISOString(),
        counts: { total: 0, alarm2: 0, alarm1: 0, fault: 0, offline: 0, normal: 0, maintenance: 0, not_configured: 0 },
        attention: [],
        alarms_by_hour: expect.any(Array),
      });
      expect(body.alarms_by_hour).toHaveLength(24);
      expect(body.alarms_by_hour[0]).toEqual({ start: "2026-03-09T06:00:00.000Z", gas_2: 0, gas_1: 0, fault: 0, low_battery: 0, offline: 0 });
      expect(body.alarms_by_hour[23]!.start).toBe("2026-03-10T05:00:00.000Z");
    }
  });

  describe("a plant with every state and every reason for attention", () => {
    beforeAll(async () => {
      const recent = NOW - 10_000;
      await create({ sn: "OK-1", calib_due: "2026-06-30", low_battery_v: 3.3 });
      await heard("OK-1", true, recent, { ppm: 3, status: "online", bat: 3.9 });
      await create({ sn: "GAS-2" });
      await heard("GAS-2", true, recent, { ppm: 70, status: "alarm" });
      await alarm("GAS-2", "HIGH", 2, NOW - 5 * 60_000, "value 70 > level 2 limit 50");
      await create({ sn: "GAS-1" });
      await heard("GAS-1", true, recent, { ppm: 30, status: "alarm" });
      await alarm("GAS-1", "HIGH", 1, NOW - 20 * 60_000, "value 30 > level 1 limit 25", { state: "acked" });
      await create({ sn: "FLT-1" });
      await heard("FLT-1", true, recent, { ppm: 0, status: "fault" });
      await alarm("FLT-1", "FAULT", 1, NOW - 2 * HOUR, "err 0x0001: sensor fault");
      await create({ sn: "OFF-1" });
      await heard("OFF-1", false, NOW - 3 * HOUR, { ppm: 1, status: "online" });
      await alarm("OFF-1", "OFFLINE", 1, NOW - 3 * HOUR + 30_000, "silent for 30 s");
      await create({ sn: "NEVER-1" });
      await create({ sn: "BAT-1", low_battery_v: 3.3 });
      await heard("BAT-1", true, recent, { ppm: 2, status: "fault", bat: 3.1 });
      await alarm("BAT-1", "LOW_BATTERY", 1, NOW - 4 * HOUR, "battery 3.1 V < 3.3 V");
      // In maintenance: no alarm is raised, the reading still says the battery is low.
      await create({ sn: "BAT-2", low_battery_v: 3.3 });
      await heard("BAT-2", true, recent, { ppm: 2, status: "online", bat: 3.05 });
      expect((await t.app.inject({ method: "POST", url: "/api/devices/BAT-2/inhibit", headers: as.engineer, payload: { minutes: 60, reason: "battery swap" } })).statusCode).toBe(200);
      await create({ sn: "CAL-OVER", calib_due: "2026-03-01" });
      await heard("CAL-OVER", true, recent, { ppm: 1, status: "online" });
      await create({ sn: "CAL-SOON", calib_due: "2026-03-20" });
      await heard("CAL-SOON", true, recent, { ppm: 1, status: "online" });
      await create({ sn: "CAL-TODAY", calib_due: "2026-03-10" });
      await heard("CAL-TODAY", true, recent, { ppm: 1, status: "online" });
      await create({ sn: "MON-1", gas: "NH3", unit: "ppm", monitor_only: true, monitor_reason: "试运行，限值待定" });
      await heard("MON-1", true, recent, { ppm: 4, status: "fault" });
      await alarm("MON-1", "FAULT", 1, NOW - 6 * HOUR, "not configured: monitor only, no alarm limits (试运行，限值待定)");
      await create({ sn: "DIS-1", enabled: false });
      // Old and closed: counted in its hour, if within the 24 hours, but no attention.
      await alarm("OK-1", "HIGH", 2, NOW - 30 * HOUR, "value 60 > level 2 limit 50", { state: "closed", active: false });
      await alarm("OK-1", "HIGH", 1, NOW - 23 * HOUR, "value 30 > level 1 limit 25", { state: "closed", active: false });
    });

    it("counts every device once by the state every page shows it in (the screen's colours), maintenance and not configured besides", async () => {
      const { counts } = await overview();
      expect(counts).toEqual({ total: 13, alarm2: 1, alarm1: 1, fault: 3, offline: 3, normal: 5, maintenance: 1, not_configured: 1 });
      expect(counts.alarm2 + counts.alarm1 + counts.fault + counts.offline + counts.normal).toBe(counts.total);
    });

    it("agrees with GET /api/devices on which devices are online, offline, in alarm or at fault", async () => {
      const { attention, counts } = await overview();
      const devices = (await t.app.inject({ method: "GET", url: "/api/devices", headers: as.viewer })).json<{ data: Device[] }>().data;
      expect(devices.filter((device) => device.status === "offline")).toHaveLength(counts.offline);
      expect(devices.filter((device) => device.status === "alarm")).toHaveLength(counts.alarm1 + counts.alarm2);
      for (const item of attention) expect(item.status).toBe(devices.find((device) => device.sn === item.sn)?.status);
    });

    it("lists each device needing attention with every reason, worst first, and nothing for the healthy ones", async () => {
      const { attention } = await overview();
      const bySn = new Map(attention.map((item) => [item.sn, item]));
      const none = { detail: null, since: null, calib_due: null, days: null };
      expect(bySn.get("FLT-1")).toEqual({
        sn: "FLT-1", name: "FLT-1", gas: "CH4", state: "fault", status: "fault", last_seen: new Date(NOW - 10_000).toISOString(), inhibited: false,
        reasons: [{ ...none, kind: "fault", detail: "err 0x0001: sensor fault", since: new Date(NOW - 2 * HOUR).toISOString() }],
      });
      expect(bySn.get("OFF-1")).toMatchObject({ state: "offline", reasons: [{ ...none, kind: "offline", since: new Date(NOW - 3 * HOUR).toISOString() }] });
      expect(bySn.get("NEVER-1")).toMatchObject({ state: "offline", last_seen: null, reasons: [{ ...none, kind: "offline" }] });
      // Low battery makes the worker say fault: the reason is the battery, not a second "fault".
      expect(bySn.get("BAT-1")).toMatchObject({ state: "fault", reasons: [{ ...none, kind: "low_battery", detail: "battery 3.1 V < 3.3 V", since: new Date(NOW - 4 * HOUR).toISOString() }] });
      expect(bySn.get("BAT-2")).toMatchObject({
        state: "normal", inhibited: true,
        reasons: [{ ...none, kind: "low_battery", detail: "battery 3.05 V < 3.3 V", since: new Date(Math.floor((NOW - 10_000) / 1000) * 1000).toISOString() }],
      });
      expect(bySn.get("CAL-OVER")).toMatchObject({ state: "normal", reasons: [{ ...none, kind: "calibration_overdue", calib_due: "2026-03-01", days: -9 }] });
      expect(bySn.get("CAL-SOON")).toMatchObject({ reasons: [{ ...none, kind: "calibration_due", calib_due: "2026-03-20", days: 10 }] });
      expect(bySn.get("CAL-TODAY")).toMatchObject({ reasons: [{ ...none, kind: "calibration_due", calib_due: "2026-03-10", days: 0 }] });
      // Its "not configured" FAULT is what not configured means: one reason, not two.
      expect(bySn.get("MON-1")).toMatchObject({ state: "fault", reasons: [{ ...none, kind: "not_configured", detail: "试运行，限值待定" }] });
      expect(bySn.get("DIS-1")).toMatchObject({ state: "offline", reasons: [{ ...none, kind: "disabled" }] });
      for (const sn of ["OK-1", "GAS-1", "GAS-2"]) expect(bySn.has(sn), sn).toBe(false);

      expect(attention.map((item) => item.sn)).toEqual(["FLT-1", "NEVER-1", "OFF-1", "BAT-1", "BAT-2", "CAL-OVER", "MON-1", "DIS-1", "CAL-SOON", "CAL-TODAY"]);
    });

    it("gives a device every reason that holds, worst first", async () => {
      await create({ sn: "MULTI", calib_due: "2026-01-31", low_battery_v: 3.3 });
      await heard("MULTI", false, NOW - HOUR, { ppm: 0, status: "fault", bat: 3.2 });
      await alarm("MULTI", "FAULT", 1, NOW - 2 * HOUR, "stuck at v_raw 0.41 for 60 samples");
      const item = (await overview()).attention.find((entry) => entry.sn === "MULTI");
      expect(item?.reasons.map((reason) => reason.kind)).toEqual(["fault", "offline", "low_battery", "calibration_overdue"]);
      expect(item?.reasons.find((reason) => reason.kind === "calibration_overdue")?.days).toBe(-38);
      await t.app.inject({ method: "DELETE", url: "/api/devices/MULTI", headers: as.admin });
      await t.ports.db.query(`DELETE FROM alarms WHERE sn = 'MULTI'`);
    });

    it("takes the level from the open gas alarms whose condition holds: one whose gas is gone no longer colours the device", async () => {
      await t.ports.db.query(`UPDATE alarms SET condition_active = false WHERE sn = 'GAS-2'`);
      await heard("GAS-2", true, NOW - 5000, { ppm: 10, status: "online" });
      expect((await overview()).counts).toMatchObject({ alarm2: 0, normal: 6 });
      await t.ports.db.query(`UPDATE alarms SET condition_active = true WHERE sn = 'GAS-2'`);
      await heard("GAS-2", true, NOW - 4000, { ppm: 70, status: "alarm" });
      expect((await overview()).counts).toMatchObject({ alarm2: 1, normal: 5 });
    });

    it("counts the alarms raised in each of the last 24 hours by kind, closed ones too, none older", async () => {
      const { alarms_by_hour: hours } = await overview();
      const at = (ms: number) => hours.find((hour) => hour.start === new Date(Math.floor(ms / HOUR) * HOUR).toISOString());
      expect(at(NOW)).toEqual({ start: "2026-03-10T05:00:00.000Z", gas_2: 1, gas_1: 1, fault: 0, low_battery: 0, offline: 0 });
      expect(at(NOW - 2 * HOUR)).toMatchObject({ fault: 1 });
      expect(at(NOW - 3 * HOUR)).toMatchObject({ offline: 1 });
      expect(at(NOW - 4 * HOUR)).toMatchObject({ low_battery: 1 });
      expect(at(NOW - 6 * HOUR)).toMatchObject({ fault: 1 });
      expect(hours[0]).toMatchObject({ start: "2026-03-09T06:00:00.000Z", gas_1: 1 });
      const total = hours.reduce((sum, hour) => sum + hour.gas_2 + hour.gas_1 + hour.fault + hour.low_battery + hour.offline, 0);
      // Not the one 30 hours ago.
      expect(total).toBe(7);
    });

    it("shows the devices offline, never normal, when the live state cannot be read", async () => {
      const original = t.app.liveState.all.bind(t.app.liveState);
      t.app.liveState.all = async () => new Map();
      try {
        const { counts } = await overview();
        expect(counts).toMatchObject({ total: 13, normal: 0, offline: 13 });
      } finally {
        t.app.liveState.all = original;
      }
    });
  });
});
