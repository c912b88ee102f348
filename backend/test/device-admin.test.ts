import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODES } from "../../test-support/ports.ts";
import { buildTestApp, expectError, type TestApp } from "./helper.ts";

// Issue 5, item 3: what the device pages need beyond CRUD: calibration history with who,
// when and the note; the next calibration's due date; bulk import from CSV with a report per row.
describe.each(MODES)("device administration (%s mode)", (mode) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(mode);
  });
  afterAll(async () => {
    await t?.close();
  });

  const importCsv = async (csv: string, role: "admin" | "engineer" | "operator" = "engineer", query = "") =>
    t.app.inject({ method: "POST", url: `/api/devices/import${query}`, headers: { ...(await t.as(role)), "content-type": "text/csv" }, payload: csv });

  describe("calibration history", () => {
    it("lists every calibration version newest first, with who changed it, when, and the note", async () => {
      const engineer = await t.as("engineer");
      await t.app.inject({ method: "POST", url: "/api/devices", headers: engineer, payload: { sn: "CAL-1", gas: "H2S", unit: "ppm", k: 1, b: 0 } });
      const patched = await t.app.inject({
        method: "PATCH", url: "/api/devices/CAL-1", headers: engineer,
        payload: { k: 1.05, b: -0.2, calib_note: "零点/量程标定，标气批号 2301，结果 +3 %", calib_due: "2027-05-31" },
      });
      expect(patched.json()).toMatchObject({ calib_version: 2, calib_due: "2027-05-31" });
      const res = await t.app.inject({ method: "GET", url: "/api/devices/CAL-1/calibrations", headers: await t.as("viewer") });
      expect(res.json()).toEqual({
        data: [
          { version: 2, k: 1.05, b: -0.2, t_comp: 0, t_ref: 25, note: "零点/量程标定，标气批号 2301，结果 +3 %", changed_by: "engineer", changed_at: expect.any(String) },
          { version: 1, k: 1, b: 0, t_comp: 0, t_ref: 25, note: "initial calibration", changed_by: "engineer", changed_at: expect.any(String) },
        ],
      });
    });

    it("refuses a due date that is not a date, and answers 404 and 401 as documented", async () => {
      const bad = await t.app.inject({ method: "PATCH", url: "/api/devices/CAL-1", headers: await t.as("engineer"), payload: { calib_due: "next spring" } });
      expectError(bad, 400, "MCS_ERR_VALIDATION", /body\.calib_due/);
      expectError(await t.app.inject({ method: "GET", url: "/api/devices/NOPE/calibrations", headers: await t.as("viewer") }), 404, "MCS_ERR_NOT_FOUND");
      expect((await t.app.inject({ method: "GET", url: "/api/devices/CAL-1/calibrations" })).statusCode).toBe(401);
    });
  });

  describe("bulk import from CSV", () => {
    it("creates the good rows, reports each bad one with its line and field, and shows each new password once", async () => {
      const csv = [
        "\uFEFFsn,name,gas,unit,k,b,high_limit,high_limit_2,calib_due",
        "IMP-1,储罐区 1 号,CO,ppm,1,0,17,34,2027-06-30",
        "IMP-2,装车台,H2S,ppm,1.2,0.1,7,14,",
        "IMP-3,坏的,CO,ppm,abc,0,17,34,",
        "IMP-4,反的,CO,ppm,1,0,34,17,",
        "IMP-1,重复,CO,ppm,1,0,17,34,",
        ",无编号,CO,ppm,1,0,17,34,",
      ].join("\r\n");
      const res = await importCsv(csv);
      expect(res.statusCode).toBe(200);
      const report = res.json<{ created: number; errors: number; rows: { line: number; sn: string | null; status: string; error: string | null; mqtt_password: string | null }[] }>();
      expect(report.created).toBe(2);
      expect(report.errors).toBe(4);
      expect(report.rows).toEqual([
        { line: 2, sn: "IMP-1", status: "created", error: null, mqtt_password: expect.stringMatching(/^.{16,}$/), preset_applied: ["range_max", "deadband"] },
        { line: 3, sn: "IMP-2", status: "created", error: null, mqtt_password: expect.stringMatching(/^.{16,}$/), preset_applied: ["range_max", "deadband"] },
        { line: 4, sn: "IMP-3", status: "error", error: expect.stringMatching(/^k: /), mqtt_password: null, preset_applied: [] },
        { line: 5, sn: "IMP-4", status: "error", error: "high_limit_2: the level 2 limit must be above high_limit", mqtt_password: null, preset_applied: [] },
        { line: 6, sn: "IMP-1", status: "error", error: "sn: IMP-1 appears twice in the file", mqtt_password: null, preset_applied: [] },
        { line: 7, sn: null, status: "error", error: expect.stringMatching(/^sn: /), mqtt_password: null, preset_applied: [] },
      ]);
      const device = (await t.app.inject({ method: "GET", url: "/api/devices/IMP-1", headers: await t.as("viewer") })).json();
      expect(device).toMatchObject({ name: "储罐区 1 号", gas: "CO", high_limit: 17, high_limit_2: 34, calib_due: "2027-06-30" });
      expect((await t.app.inject({ method: "GET", url: "/api/devices/IMP-3", headers: await t.as("viewer") })).statusCode).toBe(404);
    });

    it("fills alarm fields left empty from the gas preset, and refuses a gas without one until its limits are given", async () => {
      const res = await importCsv("sn,gas,unit,high_limit,range_max,monitor_only,monitor_reason\nIMP-10,CH4,%LEL,,,,\nIMP-11,C2H4,%LEL,,,,\nIMP-12,C2H4,%LEL,,,是,试用传感器\n");
      expect(res.json()).toMatchObject({
        created: 2, errors: 1,
        rows: [
          { line: 2, sn: "IMP-10", status: "created", preset_applied: ["high_limit", "high_limit_2", "range_max", "deadband"] },
          { line: 3, sn: "IMP-11", status: "error", error: expect.stringMatching(/^high_limit: there is no alarm preset for C2H4 in %LEL; give high_limit or low_limit and range_max/) },
          { line: 4, sn: "IMP-12", status: "created" },
        ],
      });
      expect((await t.app.inject({ method: "GET", url: "/api/devices/IMP-12", headers: await t.as("viewer") })).json()).toMatchObject({ monitor_only: true, monitor_reason: "试用传感器", high_limit: null });
    });

    it("checks without creating on a dry run, and reports devices that already exist", async () => {
      const res = await importCsv("sn;gas;unit\nIMP-1;CO;ppm\nIMP-9;CO;ppm\n", "engineer", "?dry_run=true");
      expect(res.json()).toMatchObject({
        created: 0,
        errors: 1,
        rows: [{ line: 2, sn: "IMP-1", status: "error", error: "sn: device IMP-1 already exists" }, { line: 3, sn: "IMP-9", status: "valid" }],
      });
      expect((await t.app.inject({ method: "GET", url: "/api/devices/IMP-9", headers: await t.as("viewer") })).statusCode).toBe(404);
    });

    it("refuses a file it cannot read as a whole, naming why, and creates nothing", async () => {
      expectError(await importCsv("sn,colour\nIMP-20,red\n"), 400, "MCS_ERR_VALIDATION", /unknown columns colour/);
      expectError(await importCsv("name,gas\nx,CO\n"), 400, "MCS_ERR_VALIDATION", /must name the column sn/);
      expectError(await importCsv("sn,gas\n"), 400, "MCS_ERR_VALIDATION", /no devices/);
      expectError(await importCsv('sn,gas\n"IMP-21,CO\n'), 400, "MCS_ERR_VALIDATION", /not a readable CSV/);
      expectError(await importCsv(`sn\n${Array.from({ length: 2001 }, (_, i) => `BULK-${i}`).join("\n")}\n`), 400, "MCS_ERR_VALIDATION", /at most 2000/);
      expect((await t.app.inject({ method: "GET", url: "/api/devices/IMP-20", headers: await t.as("viewer") })).statusCode).toBe(404);
    });

    it("lets only admins and engineers import, and gives everyone the template", async () => {
      expect((await importCsv("sn\nIMP-30\n", "operator")).statusCode).toBe(403);
      expect((await t.app.inject({ method: "POST", url: "/api/devices/import", headers: { "content-type": "text/csv" }, payload: "sn\nIMP-30\n" })).statusCode).toBe(401);
      const template = await t.app.inject({ method: "GET", url: "/api/devices/import/template.csv", headers: await t.as("viewer") });
      expect(template.statusCode).toBe(200);
      expect(template.body.startsWith("\uFEFFsn,name,gas,unit")).toBe(true);
      // The template's own example row imports.
      expect((await importCsv(template.body, "admin", "?dry_run=true")).json()).toMatchObject({ errors: 0, rows: [{ status: "valid" }] });
    });
  });
  it("sends a large answer (the device list) gzipped to a browser that takes it: the plan's link is 5 Mbit/s", async () => {
    expect((await importCsv(`sn,gas,unit\n${Array.from({ length: 20 }, (_, i) => `GZ-${i},CO,ppm`).join("\n")}\n`)).json()).toMatchObject({ created: 20 });
    const res = await t.app.inject({ method: "GET", url: "/api/devices", headers: { ...(await t.as("viewer")), "accept-encoding": "gzip, br" } });
    expect(res.headers["content-encoding"]).toBe("gzip");
    const plain = JSON.parse(gunzipSync(res.rawPayload).toString()) as { data: unknown[] };
    expect(plain.data.length).toBeGreaterThan(2);
    expect(res.rawPayload.length).toBeLessThan(JSON.stringify(plain).length / 2);
  });
});
