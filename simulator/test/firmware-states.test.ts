import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, type MosquittoInstance } from "../../test-support/mosquitto.ts";
import { Detector, type DetectorOptions, type FakeClock } from "../src/index.ts";
import { Operator, WORKER_PASSWORD, fakeClock } from "./support.ts";

// Issue 3, part 1: the firmware state machine on the real Mosquitto with the project config.
describe("the emulated detector's firmware state machine", () => {
  const SNS = ["FSM-1", "FSM-2", "FSM-3", "FSM-4"];
  let broker: MosquittoInstance;
  let operator: Operator;
  const detectors: Detector[] = [];

  const detector = (sn: string, clock: FakeClock, options: Partial<DetectorOptions> = {}) => {
    const d = new Detector({ sn, password: `pw-${sn}`, url: broker.url("tls"), ca: broker.ca, clock, gas: "CO", ...options });
    detectors.push(d);
    return d;
  };

  beforeAll(async () => {
    broker = await startMosquitto({ users: { "mcs-worker": WORKER_PASSWORD, ...Object.fromEntries(SNS.map((sn) => [sn, `pw-${sn}`])) } });
    operator = await Operator.connect(broker, "fsm-operator");
  });
  afterAll(async () => {
    await Promise.all(detectors.map((d) => d.stop()));
    await operator?.close();
    await broker?.stop();
  });

  it("powers on through init and network connect to running, and publishes its retained status with fw and boot", async () => {
    const clock = fakeClock();
    const d = detector("FSM-1", clock, { fw: "1.2.0" });
    await d.start();
    expect(d.transitions.map((t) => t.to)).toEqual(["power_on", "init", "network_connect", "running"]);
    await expect.poll(() => operator.status.find((s) => s.sn === "FSM-1")?.status).toEqual({ online: true, fw: "1.2.0", boot: 1 });
    expect(d.boot).toBe(1);
  });

  it("reports every interval with seq counting from 1 in this boot", async () => {
    const clock = fakeClock();
    const d = detector("FSM-2", clock, { intervalMs: 10_000 });
    await d.start();
    await clock.advance(50_000);
    await expect.poll(() => operator.readings("FSM-2").length).toBe(6);
    const readings = operator.readings("FSM-2");
    expect(readings.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(readings.map((r) => r.ts - readings[0]!.ts)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(Object.keys(readings[0]!).sort()).toEqual(["bat", "err", "humi", "rssi", "seq", "temp", "ts", "v_raw"]);
  });

  it("goes to offline mode when its network drops, keeps measuring into the backlog, and on reconnect sends the backlog in order before live data", async () => {
    const clock = fakeClock();
    const d = detector("FSM-3", clock);
    await d.start();
    await expect.poll(() => d.backlog).toBe(0);
    d.cutLink();
    expect(d.state).toBe("offline");
    await clock.advance(50_000);
    expect(d.backlog).toBe(5);
    d.restoreLink();
    await d.until("running");
    await clock.advance(10_000);
    await expect.poll(() => operator.readings("FSM-3").length).toBe(7);
    const messages = operator.up.filter((m) => m.sn === "FSM-3");
    expect(messages.map((m) => m.readings.map((r) => r.seq))).toEqual([[1], [2, 3, 4, 5, 6], [7]]);
    expect(messages.map((m) => m.array)).toEqual([false, true, false]);
    const path = d.transitions.map((t) => `${t.to} (${t.reason})`);
    expect(path.slice(3, 5)).toEqual([expect.stringMatching(/^running/), "offline (network lost)"]);
    // Backoff retries while there is no coverage fail at once, then coverage comes back.
    expect(path).toContain("offline (no network coverage)");
    expect(path.slice(-2)).toEqual(["reconnect (network back)", expect.stringMatching(/^running \(connected; 5 unsent readings\)/)]);
  });

  it("while the broker is away retries with backoff, and comes back by itself with what it measured meanwhile", async () => {
    const clock = fakeClock();
    const d = detector("FSM-4", clock, { reconnectMinMs: 1_000, reconnectMaxMs: 8_000 });
    await d.start();
    await expect.poll(() => d.backlog).toBe(0);
    await broker.stop();
    await d.until("offline");
    for (let i = 0; i < 6; i++) {
      await clock.advance(8_000);
      await d.until("offline");
    }
    const attempts = d.transitions.filter((t) => t.to === "reconnect").length;
    expect(attempts).toBeGreaterThanOrEqual(3);
    await broker.restart();
    while (d.state !== "running") {
      await clock.advance(1_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await expect.poll(() => operator.readings("FSM-4").map((r) => r.seq)).toEqual(Array.from({ length: d.seq }, (_, i) => i + 1));
  });

  it("a power cut leaves the will: the retained status turns {\"online\":false}", async () => {
    const d = detectors.find((x) => x.sn === "FSM-1")!;
    await d.stop();
    expect(d.state).toBe("off");
    await expect.poll(() => operator.lastStatus("FSM-1")).toEqual({ online: false });
  });
});
