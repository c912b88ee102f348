import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeviceSchema, type Device, type Role } from "@mcs/protocol";
import { MODES } from "../../test-support/ports.ts";
import { buildTestApp, expectError, type TestApp } from "./helper.ts";

const ALL: Role[] = ["admin", "engineer", "operator", "viewer"];

// Issue: alarm center, maintenance (DOMAIN: inhibit is time-limited, recorded with who and
// why, visible on every screen). `POST|DELETE /api/devices/{sn}/inhibit`.
describe.each(MODES)("/api/devices/{sn}/inhibit (%s mode)", (mode) => {
  let t: TestApp;
  let as: Record<Role, { authorization: string }>;
  const inhibit = (sn: string, payload?: object, role: Role = "engineer") =>
    t.app.inject({ method: "POST", url: `/api/devices/${sn}/inhibit`, headers: as[role], ...(payload !== undefined && { payload }) });
  const end = (sn: string, role: Role = "engineer") => t.app.inject({ method: "DELETE", url: `/api/devices/${sn}/inhibit`, headers: as[role] });
  const get = async (sn: string) => (await t.app.inject({ method: "GET", url: `/api/devices/${sn}`, headers: as.viewer })).json<Device>();
  const iso = (ms: number) => new Date(ms).toISOString();
  const count = async () => (await t.ports.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log`))[0]!.n;

  beforeAll(async () => {
    t = await buildTestApp(mode);
    as = Object.fromEntries(await Promise.all(ALL.map(async (role) => [role, await t.as(role)] as const))) as Record<Role, { authorization: string }>;
    for (const sn of ["INH1", "INH2", "INH3"]) {
      expect((await t.app.inject({ method: "POST", url: "/api/devices", headers: as.admin, payload: { sn } })).statusCode).toBe(201);
    }
  });
  afterAll(async () => t.close());

  it("both routes answer 401 without a session", async () => {
    expectError(await t.app.inject({ method: "POST", url: "/api/devices/INH1/inhibit", payload: { reason: "x" } }), 401, "MCS_ERR_UNAUTHENTICATED", /no session/);
    expectError(await t.app.inject({ method: "DELETE", url: "/api/devices/INH1/inhibit" }), 401, "MCS_ERR_UNAUTHENTICATED", /no session/);
  });

  it.each(["operator", "viewer"] as const)("both routes answer 403 to an %s, even with a bad body, and nothing changes", async (role) => {
    const before = await count();
    expectError(await inhibit("INH1", { reason: "x" }, role), 403, "MCS_ERR_FORBIDDEN", new RegExp(`you are ${role}`));
    expectError(await inhibit("INH1", { minutes: -5 }, role), 403, "MCS_ERR_FORBIDDEN");
    expectError(await end("INH1", role), 403, "MCS_ERR_FORBIDDEN", new RegExp(`you are ${role}`));
    expect(await count()).toBe(before);
    expect((await get("INH1")).inhibit).toBeNull();
  });

  it("starts maintenance for the minutes given: the device shows until when, why and by whom; the workers are told", async () => {
    const seen: unknown[] = [];
    const off = await t.ports.bus.subscribe("device.changed", (m) => seen.push(m));
    const res = await inhibit("INH1", { minutes: 30, reason: "sensor replacement" });
    expect(res.statusCode).toBe(200);
    const body = res.json<Device>();
    expect(() => DeviceSchema.strict().parse(body)).not.toThrow();
    const inhibited = { until: iso(t.clock.now() + 30 * 60_000), reason: "sensor replacement", by: "engineer" };
    expect(body).toMatchObject({ sn: "INH1", inhibit: inhibited });
    expect((await get("INH1")).inhibit).toEqual(inhibited);
    const list = (await t.app.inject({ method: "GET", url: "/api/devices", headers: as.operator })).json<{ data: Device[] }>().data;
    expect(list.find((d) => d.sn === "INH1")?.inhibit).toEqual(inhibited);
    await expect.poll(() => seen).toContainEqual({ sn: "INH1", action: "updated" });
    await off();
  });

  it("is recorded in the audit log with who, why and until when", async () => {
    const [row] = await t.ports.db.query<{ actor: string; target: string; after: unknown }>(`SELECT actor, target, after FROM audit_log WHERE action = 'device.inhibit' ORDER BY id DESC LIMIT 1`);
    expect(row).toMatchObject({ actor: "engineer", target: "INH1", after: { inhibit_reason: "sensor replacement", inhibit_until: expect.any(String) } });
  });

  it("lasts 60 minutes when no time is given, and ends by itself", async () => {
    const res = await inhibit("INH2", { reason: "calibration gas test" }, "admin");
    expect(res.json()).toMatchObject({ inhibit: { until: iso(t.clock.now() + 3_600_000), reason: "calibration gas test", by: "admin" } });
    t.clock.advance(3_600_000 - 1000);
    expect((await get("INH2")).inhibit).not.toBeNull();
    t.clock.advance(2000);
    expect((await get("INH2")).inhibit).toBeNull();
  });

  it("a new request replaces the running one (extend or shorten)", async () => {
    await inhibit("INH3", { minutes: 10, reason: "first" });
    const res = await inhibit("INH3", { minutes: 120, reason: "work takes longer" });
    expect(res.json()).toMatchObject({ inhibit: { until: iso(t.clock.now() + 120 * 60_000), reason: "work takes longer" } });
  });

  it("DELETE ends maintenance now: the device raises alarms again; audited; the workers are told", async () => {
    const seen: unknown[] = [];
    const off = await t.ports.bus.subscribe("device.changed", (m) => seen.push(m));
    const res = await end("INH3");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ sn: "INH3", inhibit: null });
    expect((await get("INH3")).inhibit).toBeNull();
    await expect.poll(() => seen).toContainEqual({ sn: "INH3", action: "updated" });
    await off();
    const [row] = await t.ports.db.query<{ actor: string; target: string }>(`SELECT actor, target FROM audit_log WHERE action = 'device.inhibit.end' ORDER BY id DESC LIMIT 1`);
    expect(row).toEqual({ actor: "engineer", target: "INH3" });
    // Ending what is not running is harmless.
    expect((await end("INH3", "admin")).json()).toMatchObject({ inhibit: null });
  });

  it("answers 404 for an unknown device", async () => {
    expectError(await inhibit("NOPE", { reason: "x" }), 404, "MCS_ERR_NOT_FOUND", "no device NOPE");
    expectError(await end("NOPE"), 404, "MCS_ERR_NOT_FOUND", "no device NOPE");
  });

  describe("bad input is refused with 400 naming the field, and nothing changes", () => {
    it.each([
      ["no reason", { minutes: 30 }, /^body\.reason: /],
      ["a blank reason", { reason: "   " }, /^body\.reason: reason: say why/],
      ["no minutes", { minutes: 0, reason: "x" }, /^body\.minutes: minutes: at least 1/],
      ["more than 7 days", { minutes: 7 * 24 * 60 + 1, reason: "x" }, /^body\.minutes: minutes: at most 7 days/],
      ["minutes that are not whole", { minutes: 1.5, reason: "x" }, /^body\.minutes: expected int/],
      ["an until instead of minutes", { until: "2030-01-01T00:00:00Z", reason: "x" }, /^body\.until: unknown field/],
    ])("%s", async (_, payload, message) => {
      const before = await count();
      expectError(await inhibit("INH1", payload), 400, "MCS_ERR_VALIDATION", message);
      expect(await count()).toBe(before);
    });

    it("no body at all", async () => {
      expectError(await inhibit("INH1"), 400, "MCS_ERR_VALIDATION", /^body: /);
    });

    it("an sn that cannot be one", async () => {
      expectError(await inhibit("bad%20sn", { reason: "x" }), 400, "MCS_ERR_VALIDATION", /^params\.sn: /);
    });
  });
});
