import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { createPgDb, DeviceStore, migrate, type Db } from "@mcs/platform";
import { createTestDatabase } from "../../test-support/databases.ts";
import { startMosquitto, type MosquittoInstance } from "../../test-support/mosquitto.ts";
import { startProductProcess, type ProductProcess } from "../../test-support/processes.ts";
import type { Reading } from "@mcs/protocol";
import { Detector, type DetectorOptions, type FakeClock } from "../src/index.ts";
import { Operator, WORKER_PASSWORD, fakeClock } from "./support.ts";

// Issue 3, acceptance: with the real Mosquitto (project config), the real worker and
// PostgreSQL, a detector that loses its connection keeps its readings and, back online,
// they are all stored exactly once and in order.
describe("a detector's offline backlog, stored by the real worker", () => {
  const SNS = ["OFF-1000", "OFF-1200", "OFF-BOOT"];
  let broker: MosquittoInstance;
  let worker: ProductProcess;
  let db: Db;
  let operator: Operator;
  let flashRoot: string;
  const detectors: Detector[] = [];

  const detector = (sn: string, clock: FakeClock, options: Partial<DetectorOptions> = {}) => {
    const d = new Detector({ sn, password: `pw-${sn}`, url: broker.url("tls"), ca: broker.ca, clock, gas: "H2S", intervalMs: 10_000, ...options });
    detectors.push(d);
    return d;
  };
  /** Every reading each detector measured, as the device made it. */
  const measuredBy = (...ds: Detector[]) => {
    const all: Reading[] = [];
    for (const d of ds) d.on("reading", (r) => all.push(r));
    return all;
  };
  const stored = (sn: string) =>
    db.query<{ ts: number; seq: number; v_raw: number }>(
      `SELECT extract(epoch FROM ts)::int AS ts, seq, v_raw FROM telemetry WHERE sn = $1 ORDER BY ts, seq`,
      [sn],
    );
  const key = (r: { ts: number; seq: number; v_raw: number }) => ({ ts: r.ts, seq: r.seq, v_raw: r.v_raw });

  beforeAll(async () => {
    const databaseUrl = await createTestDatabase("sim");
    db = createPgDb(databaseUrl, { max: 2 });
    await migrate(db);
    const devices = new DeviceStore(db);
    for (const sn of SNS) await devices.create({ sn, gas: "H2S", unit: "ppm" }, "unused-here", { name: "test" });
    broker = await startMosquitto({ users: { "mcs-worker": WORKER_PASSWORD, ...Object.fromEntries(SNS.map((sn) => [sn, `pw-${sn}`])) } });
    worker = startProductProcess("worker/src/main.ts", {
      DATABASE_URL: databaseUrl,
      REDIS_URL: inject("redisUrl"),
      MQTT_URL: broker.url("tls", "mcs-worker", WORKER_PASSWORD),
      MQTT_CA: broker.caPath,
      MQTT_CLIENT_ID: "mcs-worker-sim-test",
    });
    await vi.waitFor(() => {
      if (!worker.output().includes("subscribed")) throw new Error(`the worker has not subscribed:\n${worker.output()}`);
    }, { timeout: 15_000, interval: 50 });
    operator = await Operator.connect(broker, "backlog-operator");
    flashRoot = mkdtempSync(join(tmpdir(), "mcs-sim-flash-"));
  });
  afterAll(async () => {
    await Promise.all(detectors.map((d) => d.stop()));
    await operator?.close();
    await worker?.stop();
    await broker?.stop();
    await db?.close();
    if (flashRoot) rmSync(flashRoot, { recursive: true, force: true });
  });

  it("buffers 1000 readings while the broker is down and, reconnected, all 1000 are stored exactly once and in order", async () => {
    const clock = fakeClock();
    const d = detector("OFF-1000", clock);
    const measured = measuredBy(d);
    await d.start();
    await expect.poll(() => d.backlog).toBe(0);

    await broker.stop();
    await d.until("offline");
    await clock.advance(1000 * 10_000);
    expect(d.backlog).toBe(1000);
    expect(d.dropped).toBe(0);

    await broker.restart();
    // Mosquitto 2.0.11 restores the worker's session but not its shared subscription after
    // a restart: until the worker subscribes again, readings would be PUBACKed and lost.
    // Here the device waits for that; the platform issue is reported separately.
    await expect.poll(() => worker.output().split('"msg":"subscribed"').length - 1, { timeout: 20_000 }).toBe(2);
    d.retryNow();
    await expect.poll(() => d.backlog, { timeout: 20_000 }).toBe(0);
    await expect.poll(async () => (await stored("OFF-1000")).length, { timeout: 20_000 }).toBe(1001).catch((error) => {
      throw new Error(`${error}\n--- worker ---\n${worker.output().slice(-4000)}`);
    });
    expect((await stored("OFF-1000")).map(key)).toEqual(measured.map(key));
    // On the wire: the whole backlog in one array (the protocol's limit is 1000 a message).
    const backlog = operator.up.filter((m) => m.sn === "OFF-1000" && m.array);
    expect(backlog.map((m) => m.readings.length)).toEqual([1000]);
    expect(backlog[0]!.readings.map((r) => r.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 2));
  });

  it("buffering 1200 keeps the newest 1000, reports 200 dropped, and stores those 1000 exactly once and in order", async () => {
    const clock = fakeClock();
    const d = detector("OFF-1200", clock);
    const measured = measuredBy(d);
    const dropped: number[] = [];
    d.on("dropped", (e) => dropped.push(e.count));
    await d.start();
    await expect.poll(() => d.backlog).toBe(0);

    d.cutLink();
    await clock.advance(1200 * 10_000);
    expect(d.backlog).toBe(1000);
    expect(d.dropped).toBe(200);
    expect(dropped.reduce((a, b) => a + b, 0)).toBe(200);

    d.restoreLink();
    await expect.poll(() => d.backlog, { timeout: 20_000 }).toBe(0);
    const expected = [measured[0]!, ...measured.slice(201)];
    await expect.poll(async () => (await stored("OFF-1200")).length, { timeout: 20_000 }).toBe(1001);
    expect((await stored("OFF-1200")).map(key)).toEqual(expected.map(key));
    expect(d.dropped).toBe(200);
  });

  it("a reboot with a backlog in flash loses nothing: the next boot sends it, in batches, before its own readings", async () => {
    const clock = fakeClock();
    const flash = join(flashRoot, "OFF-BOOT");
    const first = detector("OFF-BOOT", clock, { flash, batchSize: 200 });
    const measured = measuredBy(first);
    await first.start();
    await expect.poll(() => first.backlog).toBe(0);
    first.cutLink();
    await clock.advance(500 * 10_000);
    expect(first.backlog).toBe(500);
    await first.stop(); // power cut: RAM is gone, the flash folder stays
    await clock.advance(5_000);

    const second = detector("OFF-BOOT", clock, { flash, batchSize: 200 });
    second.on("reading", (r) => measured.push(r));
    await second.start();
    expect(second.boot).toBe(2);
    await expect.poll(() => second.backlog, { timeout: 20_000 }).toBe(0);
    await clock.advance(20_000);
    await expect.poll(async () => (await stored("OFF-BOOT")).length, { timeout: 20_000 }).toBe(1 + 500 + 3);
    expect((await stored("OFF-BOOT")).map(key)).toEqual(measured.map(key));

    // Boot 1's backlog went first in batches of at most 200, then boot 2's readings (seq from 1).
    const messages = operator.up.filter((m) => m.sn === "OFF-BOOT").map((m) => m.readings.map((r) => r.seq));
    expect(messages.map((seqs) => seqs.length)).toEqual([1, 200, 200, 101, 1, 1]);
    expect(messages.slice(1, 4).flat()).toEqual([...Array.from({ length: 500 }, (_, i) => i + 2), 1]);
    expect(messages.slice(4).flat()).toEqual([2, 3]);
    await expect.poll(() => operator.lastStatus("OFF-BOOT")).toEqual({ online: true, fw: "1.0.0", boot: 2 });
  });
});
