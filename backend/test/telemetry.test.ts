import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TelemetryStore } from "@mcs/platform";
import { TelemetryListSchema } from "@mcs/protocol";
import { MODES } from "../../test-support/ports.ts";
import { buildTestApp, expectError, type TestApp } from "./helper.ts";

describe.each(MODES)("GET /api/devices/{sn}/telemetry (%s mode)", (mode) => {
  let t: TestApp;
  let viewer: { authorization: string };
  let now: number;
  const minutesAgo = (m: number) => now - m * 60;
  const range = async (query: string) => t.app.inject({ method: "GET", url: `/api/devices/T001/telemetry${query}`, headers: viewer });
  const tsOf = async (query: string) => (await range(query)).json<{ data: { ts: number }[] }>().data.map((p) => p.ts);

  beforeAll(async () => {
    t = await buildTestApp(mode);
    now = Math.floor(t.clock.now() / 1000);
    t.clock.ms = now * 1000;
    viewer = await t.as("viewer");
    await t.app.inject({ method: "POST", url: "/api/devices", headers: await t.as("admin"), payload: { sn: "T001" } });
    const row = (ts: number, seq: number, extra: object = {}) => ({ sn: "T001", ts, seq, ppm: seq * 10, v_raw: seq, err: 0, flags: 0, calib_version: 1, ...extra });
    // Stored out of order on purpose; two hours back, the last hour, and one with every field and a flag.
    await new TelemetryStore(t.ports.db).insertBatch([
      row(minutesAgo(10), 3),
      row(minutesAgo(120), 1),
      row(minutesAgo(50), 2, { temp: 21.5, humi: 40, bat: 3.5, rssi: -70, err: 4, flags: 1 }),
    ]);
  });
  afterAll(async () => t.close());

  it("answers the last hour by default, oldest first, with the documented fields", async () => {
    const res = await range("");
    expect(res.statusCode).toBe(200);
    expect(() => TelemetryListSchema.strict().parse(res.json())).not.toThrow();
    expect(res.json()).toEqual({
      data: [
        { ts: minutesAgo(50), ppm: 20, v_raw: 2, temp: 21.5, humi: 40, bat: 3.5, rssi: -70, err: 4, flags: ["anomaly"] },
        { ts: minutesAgo(10), ppm: 30, v_raw: 3, temp: null, humi: null, bat: null, rssi: null, err: 0, flags: [] },
      ],
    });
  });

  it("takes from and to as Unix seconds", async () => {
    expect(await tsOf(`?from=${minutesAgo(180)}&to=${minutesAgo(30)}`)).toEqual([minutesAgo(120), minutesAgo(50)]);
  });

  it("takes from and to as ISO-8601", async () => {
    const iso = (s: number) => encodeURIComponent(new Date(s * 1000).toISOString());
    expect(await tsOf(`?from=${iso(minutesAgo(180))}&to=${iso(minutesAgo(30))}`)).toEqual([minutesAgo(120), minutesAgo(50)]);
  });

  it("includes from and excludes to", async () => {
    expect(await tsOf(`?from=${minutesAgo(50)}&to=${minutesAgo(10)}`)).toEqual([minutesAgo(50)]);
  });

  it("answers the hour before `to` when only `to` is given", async () => {
    expect(await tsOf(`?to=${minutesAgo(40)}`)).toEqual([minutesAgo(50)]);
  });

  it("stops at limit", async () => {
    expect(await tsOf(`?from=${minutesAgo(180)}&limit=2`)).toEqual([minutesAgo(120), minutesAgo(50)]);
  });

  it("refuses from after to: 400 naming from", async () => {
    expectError(await range(`?from=${minutesAgo(10)}&to=${minutesAgo(20)}`), 400, "MCS_ERR_VALIDATION", /^query\.from: .* is after query\.to/);
  });

  it.each([
    ["a date that is no date", "?from=yesterday", /query\.from: expected ISO-8601 or Unix seconds/],
    ["NaN", "?to=NaN", /query\.to: expected ISO-8601 or Unix seconds/],
    ["a limit that is not a number", "?limit=lots", /query\.limit: expected number/],
    ["a limit of 0", "?limit=0", /query\.limit: Too small/],
    ["a limit above 100 000", "?limit=100001", /query\.limit: Too big/],
  ])("refuses %s: 400 naming the parameter", async (_, query, message) => {
    expectError(await range(query), 400, "MCS_ERR_VALIDATION", message);
  });

  it("answers 404 for an unknown device", async () => {
    expectError(await t.app.inject({ method: "GET", url: "/api/devices/NOPE/telemetry", headers: viewer }), 404, "MCS_ERR_NOT_FOUND", "no device NOPE");
  });
});
