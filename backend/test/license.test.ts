import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeLicenseFile, machineFingerprint, type License } from "@mcs/core";
import { listAudit, readMachineFingerprint } from "@mcs/platform";
import { LicenseViewSchema, type Role } from "@mcs/protocol";
import { MODES } from "../../test-support/ports.ts";
import { buildTestApp, expectError, PASSWORD, type TestApp } from "./helper.ts";

const vendor = generateKeyPairSync("ed25519");
const HERE = readMachineFingerprint()?.fingerprint;
const ELSEWHERE = machineFingerprint("0123456789abcdef0123456789abcdef");
const ALL: Role[] = ["admin", "engineer", "operator", "viewer"];

/** An offline license (no server): valid until it expires, no check needed. */
const licenseFor = (fingerprint: string, extra: Partial<License> = {}) =>
  encodeLicenseFile({
    id: "LIC-T-1", customer: "测试化工", plant: "一号罐区", device_limit: 3, features: ["alarms"], issued_at: "2026-01-01", expires_at: "2099-12-31", fingerprint, ...extra,
  }, vendor.privateKey);

// Issue 12, items 1, 3 and 4: the license routes, the lock on the API, the device limit.
describe.each(MODES)("/api/license (%s mode)", (mode) => {
  let t: TestApp;
  let dir: string;
  let as: Record<Role, { authorization: string }>;
  const get = (url: string, role: Role = "admin") => t.app.inject({ method: "GET", url, headers: as[role] });
  const upload = (file: string, role: Role = "admin", type = "text/plain") => t.app.inject({ method: "POST", url: "/api/license", headers: { ...as[role], "content-type": type }, payload: file });
  const state = async () => (await get("/api/license")).json<{ state: string; reason: string }>();

  beforeAll(async () => {
    expect(HERE, "this machine needs /etc/machine-id").toBeDefined();
    dir = mkdtempSync(join(tmpdir(), "mcs-license-"));
    const publicKeyFile = join(dir, "vendor.pem");
    writeFileSync(publicKeyFile, vendor.publicKey.export({ type: "spki", format: "pem" }));
    t = await buildTestApp(mode, { license: { publicKeyFile } });
    as = Object.fromEntries(await Promise.all(ALL.map(async (role) => [role, await t.as(role)] as const))) as typeof as;
  });
  afterAll(async () => {
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("starts as a 60-day trial of at most 50 devices, shown to every user with this machine's fingerprint", async () => {
    for (const role of ALL) {
      const res = await get("/api/license", role);
      expect(res.statusCode).toBe(200);
      const view = LicenseViewSchema.parse(res.json());
      expect(view).toMatchObject({ state: "trial", device_limit: 50, devices_used: 0, locked: false, fingerprint: HERE, customer: null, reason: "trial: 60 days left, at most 50 devices" });
      expect(Date.parse(view.expires_at!) - t.clock.now()).toBe(60 * 86_400_000);
    }
    expect((await t.app.inject({ method: "GET", url: "/api/license" })).statusCode).toBe(401);
    expect((await t.app.inject({ method: "GET", url: "/api/health" })).json()).toMatchObject({ license: "trial" });
  });

  it("lets only an admin install a file", async () => {
    for (const role of ["engineer", "operator", "viewer"] as const) expectError(await upload(licenseFor(HERE!), role), 403, "MCS_ERR_FORBIDDEN");
    expect((await t.app.inject({ method: "POST", url: "/api/license/check", headers: as.operator })).statusCode).toBe(403);
  });

  it("refuses a file with one byte changed, or no license at all, with the reason, and keeps the state", async () => {
    const file = licenseFor(HERE!);
    expectError(await upload(file.replace('"device_limit": 3', '"device_limit": 9')), 400, "MCS_ERR_VALIDATION", /^license file refused: signature: /);
    expectError(await upload(file.replace('"plant"', ' "plant"')), 400, "MCS_ERR_VALIDATION", /^license file refused: format: .*edited/);
    expectError(await upload("hello"), 400, "MCS_ERR_VALIDATION", /format: not JSON/);
    expectError(await upload(encodeLicenseFile({ ...JSON.parse(file).license, customer: "X" }, generateKeyPairSync("ed25519").privateKey)), 400, "MCS_ERR_VALIDATION", /signature/);
    expectError(await upload(""), 400, "MCS_ERR_VALIDATION");
    expect((await upload("x".repeat(70 * 1024))).statusCode).toBe(413);
    expect(await state()).toMatchObject({ state: "trial" });
  });

  it("installs a genuine file for this machine, as text or as JSON, and audits it", async () => {
    const res = await upload(licenseFor(HERE!));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ state: "valid", customer: "测试化工", plant: "一号罐区", device_limit: 3, features: ["alarms"], locked: false, expires_at: "2099-12-31T16:00:00.000Z" });
    expect((await upload(licenseFor(HERE!, { id: "LIC-T-2" }), "admin", "application/json")).json()).toMatchObject({ state: "valid" });
    const audit = await listAudit(t.ports.db, { action: "license.install" });
    expect(audit.map((row) => (row.after as { id: string }).id)).toEqual(expect.arrayContaining(["LIC-T-1", "LIC-T-2"]));
    expect((await t.app.inject({ method: "GET", url: "/api/health" })).json()).toMatchObject({ license: "valid" });
  });

  it("refuses a device beyond the license's limit with 409 naming it, in the API and in an import", async () => {
    for (const sn of ["LIM-1", "LIM-2", "LIM-3"]) {
      expect((await t.app.inject({ method: "POST", url: "/api/devices", headers: as.admin, payload: { sn, gas: "CH4", unit: "%LEL" } })).statusCode).toBe(201);
    }
    expectError(await t.app.inject({ method: "POST", url: "/api/devices", headers: as.admin, payload: { sn: "LIM-4", gas: "CH4", unit: "%LEL" } }), 409, "MCS_ERR_CONFLICT", /device limit is 3 and 3 devices are registered/);
    const imported = await t.app.inject({ method: "POST", url: "/api/devices/import", headers: { ...as.admin, "content-type": "text/csv" }, payload: "sn,gas,unit\nLIM-5,CH4,%LEL\n" });
    expect(imported.json()).toMatchObject({ created: 0, errors: 1, rows: [expect.objectContaining({ sn: "LIM-5", error: expect.stringContaining("device limit is 3") })] });
    expect((await get("/api/license")).json()).toMatchObject({ devices_used: 3 });
  });

  it("locks the API with MCS_ERR_LICENSE for another machine's file (invalid), and leaves health, login and the license open", async () => {
    const res = await upload(licenseFor(ELSEWHERE));
    expect(res.json()).toMatchObject({ state: "invalid", locked: true, reason: expect.stringMatching(/^machine: /) });
    for (const url of ["/api/devices", "/api/alarms", "/api/audit", "/api/users", "/api/devices/LIM-1/telemetry", "/api/settings"]) {
      expectError(await get(url), 403, "MCS_ERR_LICENSE", /the license is invalid: machine: .*POST \/api\/license/);
    }
    expectError(await t.app.inject({ method: "PATCH", url: "/api/devices/LIM-1", headers: as.admin, payload: { name: "x" } }), 403, "MCS_ERR_LICENSE");
    expect((await t.app.inject({ method: "GET", url: "/api/health" })).json()).toMatchObject({ license: "invalid" });
    const login = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "viewer", password: PASSWORD } });
    expect(login.statusCode).toBe(200);
    expect((await get("/api/license", "viewer")).statusCode).toBe(200);
    // The site's pages still load (to show the lock).
    expect((await t.app.inject({ method: "GET", url: "/login" })).statusCode).not.toBe(403);
    // A genuine file for this machine unlocks at once.
    expect((await upload(licenseFor(HERE!, { id: "LIC-T-3" }))).json()).toMatchObject({ state: "valid", locked: false });
    expect((await get("/api/devices")).statusCode).toBe(200);
  });

  it("installs an expired license as expired, which locks too", async () => {
    expect((await upload(licenseFor(HERE!, { id: "LIC-T-4", expires_at: "2020-01-31" }))).json()).toMatchObject({ state: "expired", locked: true, reason: "expired: valid through 2020-01-31" });
    expectError(await get("/api/devices"), 403, "MCS_ERR_LICENSE", /the license is expired/);
    await upload(licenseFor(HERE!, { id: "LIC-T-5" }));
  });
});
