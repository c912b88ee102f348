import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheKeys, DeviceSchema, type LatestReading } from "@mcs/protocol";
import { MODES } from "../../test-support/ports.ts";
import { DeviceStore, PresenceStore, verifyMosquittoPassword } from "@mcs/platform";
import { buildTestApp, expectError, type TestApp } from "./helper.ts";

describe.each(MODES)("/api/devices (%s mode)", (mode) => {
  let t: TestApp;
  let admin: { authorization: string };
  const create = (payload: object) => t.app.inject({ method: "POST", url: "/api/devices", headers: admin, payload });
  const get = (sn: string) => t.app.inject({ method: "GET", url: `/api/devices/${sn}`, headers: admin });
  const patch = (sn: string, payload: object) => t.app.inject({ method: "PATCH", url: `/api/devices/${sn}`, headers: admin, payload });
  const storedHash = async (sn: string) => (await t.ports.db.query<{ h: string }>(`SELECT mqtt_password_hash AS h FROM devices WHERE sn = $1`, [sn]))[0]?.h;
  const latest = (reading: LatestReading) => t.ports.cache.hset(cacheKeys.latest, { [reading.sn]: JSON.stringify(reading) });
  const nowS = () => Math.floor(t.clock.now() / 1000);
  /** What the workers would have written: the device's presence and when it was last heard. */
  const presence = async (sn: string, online: boolean, lastSeenMs: number) => {
    const store = new PresenceStore(t.ports.cache);
    const { text } = await store.current(sn);
    expect(await store.change(sn, text, { online, at: lastSeenMs, reason: online ? "reading" : "silence" })).toBe(true);
    await store.seen(new Map([[sn, lastSeenMs]]));
  };

  beforeAll(async () => {
    t = await buildTestApp(mode);
    admin = await t.as("admin");
  });
  afterAll(async () => t.close());

  describe("POST /api/devices", () => {
    it("answers 201 with the device and its MQTT password, shown this once; only a Mosquitto hash of it is stored", async () => {
      const res = await create({ sn: "D001", name: "Tank 1", gas: "H2S", unit: "ppm", k: 2, b: 1, t_comp: 0.5, t_ref: 20, high_limit: 10, low_limit: 5 });
      expect(res.statusCode).toBe(201);
      const body = res.json<Record<string, unknown>>();
      expect(body).toMatchObject({ sn: "D001", name: "Tank 1", gas: "H2S", unit: "ppm", k: 2, b: 1, t_comp: 0.5, t_ref: 20, high_limit: 10, low_limit: 5, enabled: true, calib_version: 1, status: "offline", ppm: null, last_seen: null });
      expect(body.mqtt_password).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]{32}$/));
      const hash = await storedHash("D001");
      expect(hash).toMatch(/^\$7\$/);
      expect(verifyMosquittoPassword(body.mqtt_password as string, hash!)).toBe(true);
    });

    it("fills the defaults for fields not given, the alarm limits from the gas preset (never none)", async () => {
      const res = await create({ sn: "D002" });
      expect(res.json()).toMatchObject({
        sn: "D002", name: "D002", gas: "CH4", unit: "%LEL", k: 1, b: 0, t_comp: 0, t_ref: 25, enabled: true, report_interval_s: 10,
        high_limit: 25, high_limit_2: 50, low_limit: null, low_limit_2: null, range_max: 100, deadband: 2, monitor_only: false,
        preset_applied: ["high_limit", "high_limit_2", "range_max", "deadband"], preset_basis: "GB/T 50493-2019: 25 / 50 %LEL",
      });
    });

    it("takes the device's report interval, which sets when silence means offline", async () => {
      const res = await create({ sn: "SLOW1", report_interval_s: 60 });
      expect(res.json()).toMatchObject({ sn: "SLOW1", report_interval_s: 60 });
    });

    it("answers 409 for an sn that exists, and keeps the first device's password", async () => {
      const before = await storedHash("D001");
      expectError(await create({ sn: "D001", name: "other" }), 409, "MCS_ERR_CONFLICT", "device D001 already exists");
      expect(await storedHash("D001")).toBe(before);
      expect((await get("D001")).json()).toMatchObject({ name: "Tank 1" });
    });

    it("announces the new device on the bus", async () => {
      const seen: unknown[] = [];
      const off = await t.ports.bus.subscribe("device.changed", (m) => seen.push(m));
      await create({ sn: "D003" });
      await expect.poll(() => seen).toContainEqual({ sn: "D003", action: "created" });
      await off();
    });
  });

  describe("GET /api/devices and /api/devices/{sn}", () => {
    it("never answer the MQTT password or its hash", async () => {
      const hash = (await storedHash("D001"))!;
      for (const res of [await get("D001"), await t.app.inject({ method: "GET", url: "/api/devices", headers: admin })]) {
        expect(res.statusCode).toBe(200);
        expect(res.body).not.toContain("mqtt_password");
        expect(res.body).not.toContain(hash.split("$")[4]!);
      }
    });

    it("answer exactly the documented device fields", async () => {
      const body = (await get("D001")).json();
      expect(() => DeviceSchema.strict().parse(body)).not.toThrow();
    });

    it("merge each device's presence (status, last_seen) and latest reading (ppm, fault, alarm) from the workers", async () => {
      await create({ sn: "LIVE1" });
      await create({ sn: "FAULT1" });
      await create({ sn: "ALARM1" });
      await create({ sn: "STALE1" });
      const heard = t.clock.now() - 10_000;
      for (const sn of ["LIVE1", "FAULT1", "ALARM1"]) await presence(sn, true, heard);
      await presence("STALE1", false, heard - 60_000);
      await latest({ sn: "LIVE1", ts: nowS() - 10, ppm: 12.5, status: "online", flags: 0 });
      await latest({ sn: "FAULT1", ts: nowS(), ppm: 60000, status: "fault", flags: 1 });
      await latest({ sn: "ALARM1", ts: nowS(), ppm: 900, status: "alarm", flags: 0 });
      await latest({ sn: "STALE1", ts: nowS() - 91, ppm: 3, status: "online", flags: 0 });
      const res = await t.app.inject({ method: "GET", url: "/api/devices", headers: admin });
      const bySn = new Map(res.json<{ data: { sn: string }[] }>().data.map((d) => [d.sn, d]));
      expect(bySn.get("LIVE1")).toMatchObject({ status: "online", ppm: 12.5, last_seen: new Date(heard).toISOString() });
      expect(bySn.get("FAULT1")).toMatchObject({ status: "fault", ppm: 60000 });
      expect(bySn.get("ALARM1")).toMatchObject({ status: "alarm", ppm: 900 });
      expect(bySn.get("STALE1")).toMatchObject({ status: "offline", ppm: 3, last_seen: new Date(heard - 60_000).toISOString() });
      expect(bySn.get("D002")).toMatchObject({ status: "offline", ppm: null, last_seen: null, fw: null, boot: null });
    });

    it("take online/offline from the workers' presence, not from the age of the last reading (issue 3, part 6)", async () => {
      await latest({ sn: "LIVE1", ts: nowS() - 3600, ppm: 1, status: "online", flags: 0 });
      t.clock.advance(600_000);
      expect((await get("LIVE1")).json()).toMatchObject({ status: "online", ppm: 1 });
      await presence("LIVE1", false, t.clock.now());
      expect((await get("LIVE1")).json()).toMatchObject({ status: "offline", ppm: 1, last_seen: new Date(t.clock.now()).toISOString() });
    });

    it("show the firmware and boot counter the device last reported", async () => {
      await new DeviceStore(t.ports.db).reportFirmware("LIVE1", "1.2.0", 17);
      expect((await get("LIVE1")).json()).toMatchObject({ fw: "1.2.0", boot: 17 });
    });

    it("learn a newly stored reading from the worker's `readings` bus message (Redis pub/sub in services mode)", async () => {
      await create({ sn: "BUS1" });
      await presence("BUS1", true, t.clock.now());
      await t.ports.bus.publish("readings", [{ sn: "BUS1", ts: nowS(), ppm: 42, status: "online", flags: 0 }]);
      await expect.poll(async () => (await get("BUS1")).json()).toMatchObject({ status: "online", ppm: 42 });
      const list = (await t.app.inject({ method: "GET", url: "/api/devices", headers: admin })).json<{ data: { sn: string; ppm: number }[] }>();
      expect(list.data.find((d) => d.sn === "BUS1")?.ppm).toBe(42);
    });

    it("ignore a latest-state entry that is not a reading", async () => {
      await t.ports.cache.hset(cacheKeys.latest, { D002: "{broken" });
      expect((await get("D002")).json()).toMatchObject({ status: "offline", ppm: null });
    });

    it("answer 404 for an unknown sn", async () => {
      expectError(await get("NOPE"), 404, "MCS_ERR_NOT_FOUND", "no device NOPE");
    });
  });

  describe("PATCH /api/devices/{sn}", () => {
    it("makes a calibration change a new calibration version and tells the worker at once", async () => {
      await t.ports.cache.hset(cacheKeys.calibration, { D001: JSON.stringify({ sn: "D001", k: 2 }) });
      const seen: unknown[] = [];
      const off = await t.ports.bus.subscribe("device.changed", (m) => seen.push(m));
      const res = await patch("D001", { k: 3.5, calib_note: "bump test" });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ sn: "D001", k: 3.5, calib_version: 2 });
      await expect.poll(() => seen).toContainEqual({ sn: "D001", action: "updated" });
      expect(await t.ports.cache.hget(cacheKeys.calibration, "D001")).toBeNull();
      const versions = await t.ports.db.query(`SELECT version, k, note, changed_by FROM calibration_versions WHERE sn = 'D001' ORDER BY version`);
      expect(versions).toEqual([
        { version: 1, k: 2, note: "initial calibration", changed_by: "admin" },
        { version: 2, k: 3.5, note: "bump test", changed_by: "admin" },
      ]);
      await off();
    });

    it("changes the report interval, and tells the worker", async () => {
      const res = await patch("SLOW1", { report_interval_s: 30 });
      expect(res.json()).toMatchObject({ report_interval_s: 30, calib_version: 1 });
    });

    it("keeps the calibration version when only other fields change; a limit set to null comes back from the preset", async () => {
      const res = await patch("D001", { name: "Tank one", high_limit: null });
      expect(res.json()).toMatchObject({ name: "Tank one", high_limit: 7, preset_applied: ["high_limit"], calib_version: 2 });
    });

    it("writes who changed what, from which address, before and after, in the audit log", async () => {
      const [row] = await t.ports.db.query<{ actor: string; ip: string; before: { name: string }; after: { name: string } }>(
        `SELECT actor, ip, before, after FROM audit_log WHERE action = 'device.update' ORDER BY id DESC LIMIT 1`,
      );
      expect(row).toMatchObject({ actor: "admin", ip: "127.0.0.1", before: { name: "Tank 1" }, after: { name: "Tank one" } });
    });

    it("answers 404 for an unknown sn", async () => {
      expectError(await patch("NOPE", { name: "x" }), 404, "MCS_ERR_NOT_FOUND", "no device NOPE");
    });
  });

  describe("POST /api/devices/{sn}/credentials", () => {
    it("rotates the MQTT password: the new one matches the stored hash, the old one no longer does", async () => {
      const first = (await create({ sn: "ROT1" })).json<{ mqtt_password: string }>().mqtt_password;
      const res = await t.app.inject({ method: "POST", url: "/api/devices/ROT1/credentials", headers: admin });
      expect(res.statusCode).toBe(200);
      const { mqtt_password } = res.json<{ mqtt_password: string }>();
      expect(Object.keys(res.json())).toEqual(["mqtt_password"]);
      const hash = (await storedHash("ROT1"))!;
      expect(verifyMosquittoPassword(mqtt_password, hash)).toBe(true);
      expect(verifyMosquittoPassword(first, hash)).toBe(false);
    });

    it("answers 404 for an unknown sn", async () => {
      expectError(await t.app.inject({ method: "POST", url: "/api/devices/NOPE/credentials", headers: admin }), 404, "MCS_ERR_NOT_FOUND");
    });
  });

  describe("DELETE /api/devices/{sn}", () => {
    it("answers 204, forgets the device's live state, and the device is gone", async () => {
      await latest({ sn: "D003", ts: nowS(), ppm: 1, status: "online", flags: 0 });
      await presence("D003", true, t.clock.now());
      const res = await t.app.inject({ method: "DELETE", url: "/api/devices/D003", headers: admin });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe("");
      expectError(await get("D003"), 404, "MCS_ERR_NOT_FOUND");
      expect(await t.ports.cache.hget(cacheKeys.latest, "D003")).toBeNull();
      expect(await new PresenceStore(t.ports.cache).one("D003")).toEqual({});
      expectError(await t.app.inject({ method: "DELETE", url: "/api/devices/D003", headers: admin }), 404, "MCS_ERR_NOT_FOUND");
    });
  });

  describe("GET /api/audit (admin)", () => {
    it("lists the changes, newest first, with actor and address and never a secret", async () => {
      const res = await t.app.inject({ method: "GET", url: "/api/audit?limit=50", headers: admin });
      expect(res.statusCode).toBe(200);
      const { data } = res.json<{ data: { action: string; actor: string; ip: string; target: string }[] }>();
      expect(data.map((e) => e.action)).toEqual(expect.arrayContaining(["device.create", "device.update", "device.delete", "device.credentials.rotate"]));
      expect(data[0]).toMatchObject({ action: "device.delete", target: "D003", actor: "admin", ip: "127.0.0.1" });
      expect(res.body).not.toMatch(/mqtt_password|password_hash/);
    });
  });

  describe("fail-safe alarm fields (issue 10)", () => {
    const audit = async (sn: string) =>
      (await t.ports.db.query<{ after: Record<string, unknown> }>(`SELECT after FROM audit_log WHERE target = $1 ORDER BY id DESC LIMIT 1`, [sn]))[0]?.after;

    it("records in the audit log which fields came from the preset", async () => {
      await create({ sn: "FS1", gas: "H2S", unit: "ppm", high_limit: 5 });
      expect(await audit("FS1")).toMatchObject({ high_limit: 5, high_limit_2: 14, preset_applied: ["high_limit_2", "range_max", "deadband"], preset_basis: "GBZ 2.1 MAC 10 mg/m³ → 7 / 14 ppm" });
    });

    it("takes the new gas's preset for every alarm field not given with a new gas", async () => {
      const res = await patch("FS1", { gas: "O2", unit: "%VOL" });
      expect(res.json()).toMatchObject({ gas: "O2", high_limit: 23.5, high_limit_2: null, low_limit: 19.5, range_max: 25, preset_applied: ["high_limit", "low_limit", "range_max", "deadband"] });
    });

    it("turns monitor only on with a reason (the limits go), and off again (the preset comes back)", async () => {
      expectError(await patch("FS1", { monitor_only: true }), 400, "MCS_ERR_VALIDATION", /^body\.monitor_reason: /);
      expect((await patch("FS1", { monitor_only: true, monitor_reason: "sensor on trial" })).json()).toMatchObject({
        monitor_only: true, monitor_reason: "sensor on trial", high_limit: null, low_limit: null, range_max: 25,
      });
      expectError(await patch("FS1", { high_limit: 22 }), 400, "MCS_ERR_VALIDATION", /^body\.monitor_only: a monitor-only device has no alarm limits/);
      expect((await patch("FS1", { monitor_only: false })).json()).toMatchObject({ monitor_only: false, monitor_reason: null, high_limit: 23.5, low_limit: 19.5 });
    });

    it("refuses a preset's level 2 that would sit below the level 1 given, saying where it came from, and changes nothing", async () => {
      expectError(await create({ sn: "FS2", gas: "CO", unit: "ppm", high_limit: 40 }), 400, "MCS_ERR_VALIDATION",
        "body.high_limit_2: the level 2 limit must be above high_limit (high_limit_2 came from the CO preset: give it)");
      expect((await get("FS2")).statusCode).toBe(404);
    });

    it("refuses a gas without a preset (or a preset's gas in another unit) until its limits and range are given, naming the fields", async () => {
      expectError(await create({ sn: "FS3", gas: "CH4", unit: "ppm" }), 400, "MCS_ERR_VALIDATION", /^body\.high_limit: there is no alarm preset for CH4 in ppm; give high_limit or low_limit and range_max/);
      expect((await create({ sn: "FS3", gas: "CH4", unit: "ppm", high_limit: 5000, range_max: 50000 })).json()).toMatchObject({ high_limit: 5000, range_max: 50000, deadband: 1000, preset_applied: ["deadband"] });
    });
  });

  it("an engineer may change devices too", async () => {
    const res = await t.app.inject({ method: "PATCH", url: "/api/devices/D002", headers: await t.as("engineer"), payload: { enabled: false } });
    expect(res.json()).toMatchObject({ enabled: false });
  });
});
