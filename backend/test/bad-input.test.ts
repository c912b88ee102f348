import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODES } from "../../test-support/ports.ts";
import { buildTestApp, expectError, type TestApp } from "./helper.ts";

/** Bodies that must be refused, as raw JSON text (some cannot be written as JS values), and the field named. */
const BAD_CREATES: [string, string, RegExp][] = [
  ["a number as a string", `{"sn":"B1","k":"2"}`, /body\.k: expected number, received string/],
  ["a NaN-ish string", `{"sn":"B1","b":"NaN"}`, /body\.b: expected number/],
  ["an infinite number (1e999)", `{"sn":"B1","t_comp":1e999}`, /body\.t_comp: expected number/],
  ["null where a number is needed", `{"sn":"B1","t_ref":null}`, /body\.t_ref: expected number, received null/],
  ["an unknown field", `{"sn":"B1","colour":"red"}`, /body\.colour: unknown field/],
  ["a secret smuggled in", `{"sn":"B1","mqtt_password_hash":"$7$1$x$y"}`, /body\.mqtt_password_hash: unknown field/],
  ["a bad sn", `{"sn":"bad sn!"}`, /body\.sn: sn is 1–32 letters/],
  ["an sn of the broker's own accounts", `{"sn":"mcs-worker"}`, /body\.sn: sn may not start with 'mcs-'/],
  ["an sn that is too long", JSON.stringify({ sn: "x".repeat(33) }), /body\.sn/],
  ["a missing sn", `{"name":"no sn"}`, /body\.sn/],
  ["a huge name", JSON.stringify({ sn: "B1", name: "n".repeat(10_000) }), /body\.name: Too big/],
  ["an empty name", `{"sn":"B1","name":"   "}`, /body\.name/],
  ["an unknown unit", `{"sn":"B1","unit":"furlongs"}`, /body\.unit/],
  ["a gas that is not a formula", `{"sn":"B1","gas":"<script>"}`, /body\.gas: gas is a formula/],
  ["a boolean as a string", `{"sn":"B1","enabled":"yes"}`, /body\.enabled: expected boolean/],
  ["an array instead of an object", `[{"sn":"B1"}]`, /body: expected object, received array/],
];

describe.each(MODES)("bad input is refused with 400 naming the field, and nothing is stored (%s mode)", (mode) => {
  let t: TestApp;
  let admin: { authorization: string };
  const counts = async () => t.ports.db.query(`SELECT (SELECT count(*)::int FROM devices) AS devices, (SELECT count(*)::int FROM audit_log) AS audit, (SELECT count(*)::int FROM calibration_versions) AS versions`);
  const send = (method: "POST" | "PATCH", url: string, body: string, contentType = "application/json") =>
    t.app.inject({ method, url, headers: { ...admin, "content-type": contentType }, payload: body });

  beforeAll(async () => {
    t = await buildTestApp(mode);
    admin = await t.as("admin");
    expect((await send("POST", "/api/devices", `{"sn":"KEEP1","k":2}`)).statusCode).toBe(201);
  });
  afterAll(async () => t.close());

  it.each(BAD_CREATES)("POST /api/devices with %s", async (_, body, message) => {
    const before = await counts();
    expectError(await send("POST", "/api/devices", body), 400, "MCS_ERR_VALIDATION", message);
    expect(await counts()).toEqual(before);
  });

  it.each(BAD_CREATES.filter(([, body]) => !body.includes('"sn":"bad') && body.startsWith('{"sn":"B1",')))(
    "PATCH /api/devices/{sn} with %s",
    async (_, body, message) => {
      const before = await counts();
      expectError(await send("PATCH", "/api/devices/KEEP1", body.replace('"sn":"B1",', "")), 400, "MCS_ERR_VALIDATION", message);
      expect(await counts()).toEqual(before);
    },
  );

  it("PATCH with nothing to change", async () => {
    expectError(await send("PATCH", "/api/devices/KEEP1", "{}"), 400, "MCS_ERR_VALIDATION", "body: nothing to change");
  });

  it("PATCH that tries to change the sn", async () => {
    expectError(await send("PATCH", "/api/devices/KEEP1", `{"sn":"OTHER"}`), 400, "MCS_ERR_VALIDATION", /^body\.sn: unknown field/);
  });

  it("names every field that is wrong, not just the first", async () => {
    const res = await send("POST", "/api/devices", `{"sn":"B1","k":"x","b":"y","unit":"z"}`);
    for (const field of ["body.k: expected number", "body.b: expected number", "body.unit: Invalid option"]) {
      expectError(res, 400, "MCS_ERR_VALIDATION", new RegExp(field.replace(".", "\\.")));
    }
  });

  it("a bad sn in the path", async () => {
    expectError(await t.app.inject({ method: "GET", url: "/api/devices/bad%20sn", headers: admin }), 400, "MCS_ERR_VALIDATION", /params\.sn: sn is 1–32/);
  });

  it("a body that is not JSON", async () => {
    expectError(await send("POST", "/api/devices", `{"sn":`), 400, "MCS_ERR_BAD_REQUEST");
  });

  it("a body of another content type", async () => {
    expectError(await send("POST", "/api/devices", "sn=B1", "application/x-www-form-urlencoded"), 415, "MCS_ERR_UNSUPPORTED_MEDIA_TYPE");
  });

  it("a body above the size limit (413), before it is parsed", async () => {
    expectError(await send("POST", "/api/devices", JSON.stringify({ sn: "B1", name: "n".repeat(100_000) })), 413, "MCS_ERR_TOO_LARGE");
  });

  it("leaves the device that was there as it was", async () => {
    const res = await t.app.inject({ method: "GET", url: "/api/devices", headers: admin });
    expect(res.json<{ data: object[] }>().data).toEqual([expect.objectContaining({ sn: "KEEP1", k: 2, calib_version: 1 })]);
  });
});
