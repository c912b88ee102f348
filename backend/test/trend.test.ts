import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TelemetryStore, type TelemetryRow } from "@mcs/platform";
import { MAX_TREND_POINTS, TrendSchema, type Trend } from "@mcs/protocol";
import { MODES } from "../../test-support/ports.ts";
import { buildTestApp, expectError, type TestApp } from "./helper.ts";

const HOUR = 3600;
const DAY = 24 * HOUR;
/** A peak of one reading, shorter than any bucket. */
const PEAK_24H = 480;
const PEAK_7D = 730;

// Issue 6: trend API with server-side downsampling (1 h raw, 24 h and 7 d in ≤ ~1000 buckets with min/max/avg).
describe.each(MODES)("GET /api/devices/{sn}/trend (%s mode)", (mode) => {
  let t: TestApp;
  let viewer: { authorization: string };
  let now: number;
  const trend = async (sn: string, range?: string) => {
    const res = await t.app.inject({ method: "GET", url: `/api/devices/${sn}/trend${range ? `?range=${range}` : ""}`, headers: viewer });
    expect(res.statusCode).toBe(200);
    const body = res.json<Trend>();
    expect(() => TrendSchema.strict().parse(body)).not.toThrow();
    return body;
  };
  /** A baseline that moves a little, so that avg, min and max differ within a bucket. */
  const baseline = (ts: number) => 10 + (ts % 7);

  beforeAll(async () => {
    t = await buildTestApp(mode);
    now = Math.floor(t.clock.now() / 1000);
    t.clock.ms = now * 1000;
    viewer = await t.as("viewer");
    const admin = await t.as("admin");
    const create = (payload: object) => t.app.inject({ method: "POST", url: "/api/devices", headers: admin, payload });
    expect((await create({ sn: "TR001", unit: "ppm", gas: "H2S", high_limit: 10, high_limit_2: 20, low_limit: null })).statusCode).toBe(201);
    expect((await create({ sn: "TR002" })).statusCode).toBe(201);
    expect((await create({ sn: "TR003" })).statusCode).toBe(201);
    const rows: TelemetryRow[] = [];
    const row = (sn: string, ts: number, ppm: number, seq = ts % 100_000) => ({ sn, ts, seq, ppm, v_raw: ppm / 10, err: 0, flags: 0, calib_version: 1 });
    // TR001: every 10 s for the last day, every 60 s for the six days before; one-reading peaks 3 h and 5 days ago.
    for (let ts = now; ts > now - DAY; ts -= 10) rows.push(row("TR001", ts, ts === now - 3 * HOUR ? PEAK_24H : baseline(ts)));
    for (let ts = now - DAY; ts > now - 7 * DAY; ts -= 60) rows.push(row("TR001", ts, ts === now - 5 * DAY ? PEAK_7D : baseline(ts)));
    // TR002: a device in debug mode, every second for the last hour.
    for (let ts = now; ts > now - HOUR; ts -= 1) rows.push(row("TR002", ts, baseline(ts)));
    const store = new TelemetryStore(t.ports.db);
    for (let i = 0; i < rows.length; i += 5000) await store.insertBatch(rows.slice(i, i + 5000));
  });
  afterAll(async () => t.close());

  it("answers the last hour raw by default (360 readings at 10 s, oldest first, min = max = avg), with the device's limits and unit", async () => {
    const body = await trend("TR001");
    expect(body).toMatchObject({ sn: "TR001", range: "1h", bucket_s: 0, unit: "ppm", limits: { high_limit: 10, high_limit_2: 20, low_limit: null, low_limit_2: null } });
    expect(body.data).toHaveLength(360);
    expect(body.data[0]).toEqual({ ts: now - 3590, avg: baseline(now - 3590), min: baseline(now - 3590), max: baseline(now - 3590) });
    expect(body.data.at(-1)).toEqual({ ts: now, avg: baseline(now), min: baseline(now), max: baseline(now) });
    expect(body.data.every((p, i) => i === 0 || p.ts > body.data[i - 1]!.ts)).toBe(true);
    expect(await trend("TR001", "1h")).toEqual(body);
  });

  it("buckets the hour of a device in debug mode (3600 readings) into 4 s buckets: at most 1000 points", async () => {
    const body = await trend("TR002", "1h");
    expect(body.bucket_s).toBe(4);
    expect(body.data.length).toBeLessThanOrEqual(MAX_TREND_POINTS);
    expect(body.data.length).toBeGreaterThanOrEqual(900);
    expect(body.data.every((p) => p.ts % 4 === 0 && p.min <= p.avg && p.avg <= p.max)).toBe(true);
  });

  it("answers 24 h in 90 s buckets (≤ 1000) with min, max and avg: a one-reading peak survives as its bucket's max", async () => {
    const body = await trend("TR001", "24h");
    expect(body.bucket_s).toBe(90);
    expect(body.data.length).toBeLessThanOrEqual(MAX_TREND_POINTS);
    expect(body.data.length).toBeGreaterThanOrEqual(959);
    expect(body.data.every((p) => p.ts % 90 === 0)).toBe(true);
    const peak = body.data.find((p) => p.max === PEAK_24H);
    expect(peak).toBeDefined();
    expect(peak!.ts).toBe(now - 3 * HOUR - ((now - 3 * HOUR) % 90));
    expect(peak!.avg).toBeLessThan(PEAK_24H);
    expect(peak!.min).toBeLessThan(20);
    expect(Math.max(...body.data.map((p) => p.max))).toBe(PEAK_24H);
  });

  it("answers 7 d in 15 min buckets (≤ 1000), peaks included", async () => {
    const body = await trend("TR001", "7d");
    expect(body.bucket_s).toBe(900);
    expect(body.data.length).toBeLessThanOrEqual(MAX_TREND_POINTS);
    expect(body.data.length).toBeGreaterThanOrEqual(672);
    expect(body.data.every((p) => p.ts % 900 === 0 && p.min <= p.avg && p.avg <= p.max)).toBe(true);
    expect(body.data.find((p) => p.max === PEAK_7D)?.ts).toBe(now - 5 * DAY - ((now - 5 * DAY) % 900));
    expect(body.data.some((p) => p.max === PEAK_24H)).toBe(true);
  });

  it("answers an empty trend for a device without readings", async () => {
    for (const range of ["1h", "24h", "7d"]) expect((await trend("TR003", range)).data).toEqual([]);
  });

  it("refuses an unknown range (400), an unknown device (404), and no session (401)", async () => {
    expectError(await t.app.inject({ method: "GET", url: "/api/devices/TR001/trend?range=30d", headers: viewer }), 400, "MCS_ERR_VALIDATION", /query\.range/);
    expectError(await t.app.inject({ method: "GET", url: "/api/devices/NOPE/trend", headers: viewer }), 404, "MCS_ERR_NOT_FOUND", "no device NOPE");
    expectError(await t.app.inject({ method: "GET", url: "/api/devices/TR001/trend" }), 401, "MCS_ERR_UNAUTHENTICATED");
  });

  it("is open to a kiosk token (a wall screen)", async () => {
    const { token } = (await t.app.inject({ method: "POST", url: "/api/kiosk-tokens", headers: await t.as("admin"), payload: { name: "wall" } })).json<{ token: string }>();
    const res = await t.app.inject({ method: "GET", url: "/api/devices/TR001/trend?range=24h", headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json<Trend>().bucket_s).toBe(90);
  });
});
