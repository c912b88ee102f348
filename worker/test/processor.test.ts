import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeviceStore, TelemetryStore, type Ports } from "@mcs/platform";
import { ManualSource } from "../../test-support/manual-source.ts";
import { MODES, openTestPorts } from "../../test-support/ports.ts";
import { startWorker, type Worker } from "../src/worker.ts";

const actor = { name: "test" };
const now = () => Math.floor(Date.now() / 1000);
const reading = (seq: number, extra: object = {}) => ({ ts: now(), seq, v_raw: 100, temp: 30, humi: 40, bat: 3.9, rssi: -60, err: 0, ...extra });

describe.each(MODES)("the worker's processor (%s mode)", (mode) => {
  let ports: Ports;
  let source: ManualSource;
  let worker: Worker;
  let devices: DeviceStore;
  let telemetry: TelemetryStore;
  const stored = async (sn: string) => telemetry.range(sn, new Date(0), new Date(Date.now() + 3_600_000), 100_000);

  beforeAll(async () => {
    ports = await openTestPorts(mode);
    devices = new DeviceStore(ports.db);
    telemetry = new TelemetryStore(ports.db);
    await devices.create({ sn: "A001", k: 2, b: 1, t_comp: 0.5, t_ref: 25 }, "x", actor);
    await devices.create({ sn: "OFF1", enabled: false }, "x", actor);
    source = new ManualSource();
    worker = await startWorker({ ...ports, source });
  });
  afterAll(async () => {
    await worker.stop();
    await ports.close();
  });

  it("stores a calibrated reading: k=2, b=1, t_comp=0.5, t_ref=25, v_raw=100, temp=30 reads 203.5", async () => {
    const r = reading(1);
    await source.push("mcs/A001/up", r);
    const [point] = await stored("A001");
    expect(point).toEqual({ ts: r.ts, ppm: 203.5, v_raw: 100, temp: 30, humi: 40, bat: 3.9, rssi: -60, err: 0, flags: [] });
  });

  it("stores the same message sent twice once, and acknowledges both", async () => {
    const r = reading(2);
    await Promise.all([source.push("mcs/A001/up", r), source.push("mcs/A001/up", r)]);
    await source.push("mcs/A001/up", r);
    const rows = await ports.db.query(`SELECT seq FROM telemetry WHERE sn = 'A001' AND seq = 2`);
    expect(rows).toHaveLength(1);
    expect(worker.processor.stats.duplicates).toBeGreaterThanOrEqual(2);
  });

  it("stores a backlog array of 1000 readings whole and in order", async () => {
    // Far enough back that the range holds none of the other tests' readings (at now() a
    // second or more earlier, now() - 20 000 and now() - 30 000).
    const start = now() - 50_000;
    const backlog = Array.from({ length: 1000 }, (_, i) => ({ ts: start + i * 10, seq: 1000 + i, v_raw: i, temp: 25 }));
    await source.push("mcs/A001/up", backlog);
    const points = (await stored("A001")).filter((p) => p.ts >= start && p.ts < start + 10_000);
    expect(points).toHaveLength(1000);
    expect(points.map((p) => p.v_raw)).toEqual(backlog.map((r) => r.v_raw));
    expect(points[999]?.ppm).toBe(2 * 999 + 1);
  });

  it("keeps the good readings of a batch and dead-letters the bad one with its reason", async () => {
    const before = await telemetry.countDeadLetters();
    const t = now() - 20_000;
    await source.push("mcs/A001/up", [
      { ts: t, seq: 1, v_raw: 1 },
      { ts: t, seq: 2, v_raw: "high" },
      { ts: t, seq: 3, v_raw: 3 },
    ]);
    expect((await stored("A001")).filter((p) => p.ts === t).map((p) => p.v_raw)).toEqual([1, 3]);
    expect(await telemetry.countDeadLetters()).toBe(before + 1);
    expect((await telemetry.recentDeadLetters(1))[0]).toMatchObject({ sn: "A001", reason: expect.stringMatching(/reading 1: v_raw/) });
  });

  it("dead-letters readings of unknown and disabled devices, and garbage, without stopping", async () => {
    const before = await telemetry.countDeadLetters();
    await source.push("mcs/NOBODY/up", reading(1));
    await source.push("mcs/OFF1/up", reading(1));
    await source.push("mcs/A001/up", "{not json");
    await source.push("mcs/A001/up", Buffer.from([0, 0xff, 0xfe, 0]));
    const reasons = (await telemetry.recentDeadLetters(4)).map((d) => d.reason);
    expect(await telemetry.countDeadLetters()).toBe(before + 4);
    expect(reasons).toEqual(expect.arrayContaining(["unknown device", "device is disabled", "payload is not JSON"]));
  });

  it("keeps a reading whose clock is wrong (ts 12: 1970) at its receive time, flagged, its own time beside it", async () => {
    const before = await telemetry.countDeadLetters();
    await source.push("mcs/A001/up", reading(77, { ts: 12 }));
    expect(await telemetry.countDeadLetters()).toBe(before);
    const kept = (await stored("A001")).find((p) => p.device_ts === 12);
    expect(kept).toMatchObject({ flags: ["clock"], device_ts: 12 });
    expect(Math.abs(kept!.ts - now())).toBeLessThan(5);
  });

  it("stores the rest of a batch when the database refuses one message, which becomes a dead letter", async () => {
    // A constraint stands in for any value the database may refuse that validation let through.
    await ports.db.query(`ALTER TABLE telemetry ADD CONSTRAINT refuse_666 CHECK (seq <> 666)`);
    const t = now() - 30_000;
    const pushes = [1, 2, 666, 4].map((seq) => source.push("mcs/A001/up", { ts: t, seq, v_raw: seq }));
    await Promise.all(pushes);
    expect((await stored("A001")).filter((p) => p.ts === t).map((p) => p.v_raw)).toEqual([1, 2, 4]);
    expect((await telemetry.recentDeadLetters(1))[0]?.reason).toMatch(/^database refused: .*refuse_666/);
    await ports.db.query(`ALTER TABLE telemetry DROP CONSTRAINT refuse_666`);
  });

  it("applies a calibration change within a second of the device.changed message", async () => {
    await devices.update("A001", { k: 10 }, actor);
    await ports.bus.publish("device.changed", { sn: "A001", action: "updated" });
    await expect.poll(() => worker.calibrations.get("A001")?.k, { timeout: 1000 }).toBe(10);
    const r = reading(3, { temp: 25 });
    await source.push("mcs/A001/up", r);
    expect((await stored("A001")).find((p) => p.ts === r.ts && p.ppm === 1001)).toBeDefined();
  });

  it("keeps each device's latest state in the cache and announces it on the bus", async () => {
    const seen: unknown[] = [];
    const off = await ports.bus.subscribe("readings", (m) => seen.push(m));
    await source.push("mcs/A001/up", reading(4, { v_raw: 5, temp: 25, err: 0x10 }));
    const latest = JSON.parse((await ports.cache.hget("mcs:latest", "A001")) ?? "null");
    // The 1001 %LEL before it (over its CH4 preset's full scale) still holds: the temperature fault never hides it.
    expect(latest).toMatchObject({ sn: "A001", ppm: 51, status: "alarm" });
    await expect.poll(() => seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toEqual([expect.objectContaining({ sn: "A001", ppm: 51 })]);
    await off();
  });

  it("shows a sensor fault's reading (err 0x01: its value means nothing) with the last trustworthy value and when it was read", async () => {
    const before = JSON.parse((await ports.cache.hget("mcs:latest", "A001")) ?? "null") as { ts: number; ppm: number };
    await source.push("mcs/A001/up", reading(5, { ts: before.ts + 1, v_raw: 0, temp: 25, err: 0x01 }));
    const latest = JSON.parse((await ports.cache.hget("mcs:latest", "A001")) ?? "null");
    expect(latest).toMatchObject({ sn: "A001", ts: before.ts + 1, ppm: before.ppm, ppm_ts: before.ts });
  });

});
