import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceStatusEvent } from "@mcs/protocol";
import { DeviceStore, PresenceStore, TelemetryStore, type Ports } from "@mcs/platform";
import { FakeClock } from "../../test-support/fake-clock.ts";
import { ManualSource } from "../../test-support/manual-source.ts";
import { MODES, openTestPorts } from "../../test-support/ports.ts";
import { startWorker, type Worker } from "../src/worker.ts";

// Issue 3, part 6: a device is offline when its will arrives or when no reading has come
// for 3 report intervals; back online with its first reading or status. Time is a fake
// clock moved by hand; the sweeps are called directly (their timers are set far off).
const NO_TIMERS = { sweepEveryMs: 3_600_000 };
const actor = { name: "test" };

describe.each(MODES)("device presence (%s mode)", (mode) => {
  let ports: Ports;
  let clock: FakeClock;
  let source: ManualSource;
  let worker: Worker;
  let presence: PresenceStore;
  const events: DeviceStatusEvent[] = [];
  let sentinels = 0;
  let unsubscribe: () => Promise<void>;
  let other: Worker;
  let otherSource: ManualSource;
  const first = () => ({ source, worker });
  const second = () => ({ source: otherSource, worker: other });

  /** Hands a message to a worker and waits until its batch is done, presence included. */
  const push = async (to: { source: ManualSource; worker: Worker }, topic: string, payload: object) => {
    await to.source.push(topic, payload);
    await to.worker.processor.drain();
  };
  const reading = (seq: number, ts = Math.floor(clock.now() / 1000)) => ({ ts, seq, v_raw: 1, temp: 25 });
  const stateOf = async (sn: string) => (await presence.one(sn)).state;
  const eventsOf = (sn: string) => events.filter((e) => e.sn === sn).map(({ online, reason }) => ({ online, reason }));
  /** Every event published before this call has been delivered once this resolves (one channel keeps its order). */
  const settle = async () => {
    const sn = `SENTINEL-${mode}-${++sentinels}`;
    await ports.bus.publish("device.status", { sn, online: true, at: "", reason: "status" });
    await expect.poll(() => events.some((e) => e.sn === sn), { timeout: 10_000 }).toBe(true);
  };

  beforeAll(async () => {
    ports = await openTestPorts(mode);
    clock = new FakeClock();
    presence = new PresenceStore(ports.cache);
    const devices = new DeviceStore(ports.db);
    for (const sn of ["PR-A", "PR-C", "PR-D", "PR-E"]) await devices.create({ sn }, "x", actor);
    await devices.create({ sn: "PR-B", report_interval_s: 60 }, "x", actor);
    unsubscribe = await ports.bus.subscribe("device.status", (m) => events.push(m as DeviceStatusEvent));
    source = new ManualSource();
    worker = await startWorker({ ...ports, source, clock, ...NO_TIMERS });
  });
  afterAll(async () => {
    await unsubscribe();
    await worker.stop();
    await ports.close();
  });

  it("makes a device online with its first reading, announced once on the bus", async () => {
    await push(first(), "mcs/PR-A/up", reading(1));
    expect(await stateOf("PR-A")).toEqual({ online: true, at: clock.now(), reason: "reading" });
    clock.advance(5_000);
    await push(first(), "mcs/PR-A/up", reading(2));
    await settle();
    expect(eventsOf("PR-A")).toEqual([{ online: true, reason: "reading" }]);
    expect(events.find((e) => e.sn === "PR-A")?.at).toBe(new Date(clock.now() - 5_000).toISOString());
  });

  it("takes last_seen from the server's receive time, not from the device's ts", async () => {
    clock.advance(1_000);
    await push(first(), "mcs/PR-A/up", reading(3, Math.floor(clock.now() / 1000) - 3600));
    expect((await presence.one("PR-A")).lastSeen).toBe(clock.now());
  });

  it("makes a device offline at once when its will arrives", async () => {
    clock.advance(1_000);
    await push(first(), "mcs/PR-A/status", { online: false });
    expect(await stateOf("PR-A")).toEqual({ online: false, at: clock.now(), reason: "will" });
    await settle();
    expect(eventsOf("PR-A")).toEqual([{ online: true, reason: "reading" }, { online: false, reason: "will" }]);
  });

  it("brings it back with its online status, and stores the firmware and boot counter it reports", async () => {
    clock.advance(1_000);
    await push(first(), "mcs/PR-A/status", { online: true, fw: "1.2.0", boot: 17 });
    expect(await stateOf("PR-A")).toMatchObject({ online: true, reason: "status" });
    expect(await new DeviceStore(ports.db).get("PR-A")).toMatchObject({ fw: "1.2.0", boot: 17 });
    await settle();
    expect(eventsOf("PR-A").at(-1)).toEqual({ online: true, reason: "status" });
  });

  it("makes a device silent for 3 report intervals (10 s each) offline, and not a moment before", async () => {
    await push(first(), "mcs/PR-A/up", reading(4));
    clock.advance(30_000);
    await worker.presence.sweep();
    expect(await stateOf("PR-A")).toMatchObject({ online: true });
    clock.advance(1);
    await worker.presence.sweep();
    expect(await stateOf("PR-A")).toEqual({ online: false, at: clock.now(), reason: "silence" });
    expect(await worker.presence.sweep()).toBe(0);
    await settle();
    expect(eventsOf("PR-A").slice(-2)).toEqual([{ online: true, reason: "status" }, { online: false, reason: "silence" }]);
  });

  it("uses each device's own report interval: 60 s means 3 minutes of silence", async () => {
    await push(first(), "mcs/PR-B/up", reading(1));
    clock.advance(120_000);
    await worker.presence.sweep();
    expect(await stateOf("PR-B")).toMatchObject({ online: true });
    clock.advance(60_001);
    await worker.presence.sweep();
    expect(await stateOf("PR-B")).toMatchObject({ online: false, reason: "silence" });
  });

  it("brings a silent device back online with its next reading, announced once", async () => {
    const before = eventsOf("PR-A").length;
    clock.advance(1_000);
    await Promise.all([push(first(), "mcs/PR-A/up", reading(5)), push(first(), "mcs/PR-A/up", reading(6))]);
    clock.advance(1_000);
    await push(first(), "mcs/PR-A/up", reading(7));
    await settle();
    expect(eventsOf("PR-A").slice(before)).toEqual([{ online: true, reason: "reading" }]);
  });

  it("does not count a device whose readings are all refused as heard", async () => {
    await push(first(), "mcs/PR-D/up", { ts: Math.floor(clock.now() / 1000), seq: 1, v_raw: "1.2 V" });
    expect(await presence.one("PR-D")).toEqual({});
  });

  it("counts a device with a wrong clock as heard: its readings are kept (ts 12, 1970), it is online while it talks", async () => {
    await push(first(), "mcs/PR-E/up", { ts: 12, seq: 1, v_raw: 1 });
    expect(await presence.one("PR-E")).toMatchObject({ state: { online: true, reason: "reading" } });
    // Gone again (its will), so the silence sweeps of the tests below do not count it.
    await push(first(), "mcs/PR-E/status", { online: false });
    await expect.poll(async () => (await presence.one("PR-E")).state?.online).toBe(false);
  });

  it("dead-letters a status message of an unknown device", async () => {
    await push(first(), "mcs/PR-NOBODY/status", { online: true });
    expect((await new TelemetryStore(ports.db).recentDeadLetters(1))[0]).toMatchObject({ sn: "PR-NOBODY", reason: "unknown device" });
    expect(await presence.one("PR-NOBODY")).toEqual({});
  });

  describe("with two workers sharing the cache (a shared subscription splits one device's messages)", () => {
    beforeAll(async () => {
      otherSource = new ManualSource();
      other = await startWorker({ ...ports, source: otherSource, clock, ...NO_TIMERS });
    });
    afterAll(async () => other.stop());

    it("lets the will through one worker undo the online state set through the other", async () => {
      await push(first(), "mcs/PR-C/up", reading(1));
      clock.advance(100);
      await push(second(), "mcs/PR-C/status", { online: false });
      await settle(); // the first worker hears it and stops trusting its own "online"
      clock.advance(100);
      await push(first(), "mcs/PR-C/up", reading(2));
      expect(await stateOf("PR-C")).toMatchObject({ online: true, reason: "reading" });
      expect(eventsOf("PR-C")).toEqual([
        { online: true, reason: "reading" },
        { online: false, reason: "will" },
        { online: true, reason: "reading" },
      ]);
    });

    it("announces a change once when both workers see it at the same moment", async () => {
      clock.advance(100);
      await push(second(), "mcs/PR-C/status", { online: false });
      await settle();
      clock.advance(100);
      const before = eventsOf("PR-C").length;
      await Promise.all([push(first(), "mcs/PR-C/up", reading(3)), push(second(), "mcs/PR-C/up", reading(4))]);
      await settle(); // their "online" announcements are not the sweeps'
      clock.advance(31_000);
      const sweptFrom = events.length;
      const changed = await Promise.all([worker.presence.sweep(), other.presence.sweep()]);
      await settle();
      // Both sweeps saw the same silent devices; each went offline once, by one of them.
      const offline = events.slice(sweptFrom).filter((e) => e.sn.startsWith("PR-"));
      expect(offline.length).toBe(changed[0] + changed[1]);
      expect(new Set(offline.map((e) => e.sn)).size).toBe(offline.length);
      expect(eventsOf("PR-C").slice(before)).toEqual([{ online: true, reason: "reading" }, { online: false, reason: "silence" }]);
    });

    it("ignores older news: a reading received before the will but committed after it", async () => {
      clock.advance(1_000);
      await push(first(), "mcs/PR-C/up", reading(5));
      await settle();
      const receivedEarlier = clock.now();
      clock.advance(10);
      await push(second(), "mcs/PR-C/status", { online: false });
      // The reading arrived before the will; its batch commits late.
      await worker.presence.observe([{ sn: "PR-C", online: true, at: receivedEarlier, reason: "reading" }]);
      expect(await stateOf("PR-C")).toMatchObject({ online: false, reason: "will" });
    });
  });
});
