import { randomUUID } from "node:crypto";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topics } from "@mcs/protocol";
import { MqttIngest, startWorker, type Worker } from "@mcs/worker";
import { startMosquitto, type MosquittoInstance } from "../../test-support/mosquitto.ts";
import { buildTestApp, type TestApp } from "../../backend/test/helper.ts";

// Issue 11, acceptance on real MQTT traffic (Mosquitto with the project's config, PostgreSQL,
// Redis): trouble at the detector (its error bits, a wrong clock, unreadable messages)
// never hides a gas alarm, and is never silent.
const WORKER_PASSWORD = "worker-secret-faults-1";
const EVENTUALLY = { timeout: 15_000, interval: 25 };
const HOUR = 3_600_000;

describe("a fault never masks an alarm, on real MQTT traffic", () => {
  let broker: MosquittoInstance;
  let t: TestApp;
  let worker: Worker;
  let admin: { authorization: string };
  const users: Record<string, string> = { "mcs-worker": WORKER_PASSWORD };
  const clients = new Map<string, MqttClient>();

  const api = async (url: string) => {
    const res = await t.app.inject({ method: "GET", url, headers: admin });
    return res.json<Record<string, unknown>>();
  };
  const open = async (sn: string) => (await api(`/api/alarms?sn=${sn}&state=open`)).data as Record<string, unknown>[];
  const alarmsOf = async (sn: string) => (await open(sn)).map((a) => ({ type: a.type, level: a.level, reason: a.reason }));
  /** The alarms whose condition holds (an ended one stays open, cleared_unacked, until someone answers). */
  const holding = async (sn: string) => (await open(sn)).filter((a) => a.condition_active).map((a) => a.type);

  /** A CH4 detector (preset 25 / 50 %LEL, range 100), connected over TLS with its own password. */
  const register = async (sn: string) => {
    const created = await t.app.inject({ method: "POST", url: "/api/devices", headers: admin, payload: { sn, gas: "CH4", unit: "%LEL", k: 1, b: 0, t_comp: 0, t_ref: 25 } });
    expect(created.statusCode).toBe(201);
    users[sn] = created.json<{ mqtt_password: string }>().mqtt_password;
    await broker.setUsers(users);
    clients.set(sn, await mqtt.connectAsync(broker.url("tls"), { ca: broker.ca, username: sn, password: users[sn], clientId: sn, protocolVersion: 4, reconnectPeriod: 0 }));
  };
  /** One message, 10 s after the previous one on the test's clock; resolves once the worker has committed it. */
  const publish = async (sn: string, payload: string) => {
    t.clock.advance(10_000);
    const handled = () => worker.processor.stats.received;
    const before = handled();
    await clients.get(sn)!.publishAsync(topics.up(sn), payload, { qos: 1 });
    await expect.poll(() => handled() - before, EVENTUALLY).toBe(1);
    await worker.processor.drain();
  };
  const reading = (seq: number, value: number, extra: Record<string, number> = {}) =>
    JSON.stringify({ ts: Math.floor(t.clock.now() / 1000) + 10, seq, v_raw: value, temp: 25, humi: 40, bat: 3.9, rssi: -60, err: 0, ...extra });

  beforeAll(async () => {
    broker = await startMosquitto({ users });
    t = await buildTestApp("services");
    admin = await t.as("admin");
    worker = await startWorker({
      ...t.ports, clock: t.clock, sweepEveryMs: HOUR, notifyEveryMs: HOUR,
      source: new MqttIngest({ url: broker.url("plain", "mcs-worker", WORKER_PASSWORD), clientId: `faults-worker-${randomUUID()}`, group: null }),
    });
  });
  afterAll(async () => {
    await Promise.all([...clients.values()].map((client) => client.endAsync(true)));
    await worker?.stop();
    await t?.close();
    await broker?.stop();
  });

  it("60 %LEL with the low-battery bit (0x08): HIGH level 2 and LOW_BATTERY, shown as an alarm", async () => {
    await register("FM-BAT");
    await publish("FM-BAT", reading(1, 60, { err: 0x08 }));
    expect(await alarmsOf("FM-BAT")).toEqual(expect.arrayContaining([
      { type: "HIGH", level: 2, reason: "value 60 > level 2 limit 50" },
      { type: "LOW_BATTERY", level: 1, reason: "err 0x0008: the detector reports low battery" },
    ]));
    await expect.poll(async () => (await api("/api/devices/FM-BAT")).status, EVENTUALLY).toBe("alarm");
  });

  it("60 %LEL with the detector's own over-range bit (0x02): HIGH at its highest level and FAULT", async () => {
    await register("FM-RANGE");
    await publish("FM-RANGE", reading(1, 60, { err: 0x02 }));
    expect((await alarmsOf("FM-RANGE")).sort((a, b) => String(a.type).localeCompare(String(b.type)))).toEqual([
      { type: "FAULT", level: 1, reason: "err 0x0002: over range" },
      { type: "HIGH", level: 2, reason: "err 0x0002: over range" },
    ]);
  });

  it("60 %LEL with ts = 30 (a clock reset to 1970): stored at its receive time, HIGH level 2 and a clock FAULT, the device online", async () => {
    await register("FM-CLOCK");
    t.clock.advance(10_000);
    await publish("FM-CLOCK", JSON.stringify({ ts: 30, seq: 1, v_raw: 60, temp: 25, err: 0 }));
    expect((await alarmsOf("FM-CLOCK")).map((a) => `${a.type} ${a.level} ${a.reason}`).sort()).toEqual([
      "FAULT 1 clock: the detector's own time is implausible (judged at its receive time)",
      "HIGH 2 value 60 > level 2 limit 50",
    ]);
    await expect.poll(async () => (await api("/api/devices/FM-CLOCK")).status, EVENTUALLY).toBe("alarm");
    const telemetry = (await api(`/api/devices/FM-CLOCK/telemetry?from=${Math.floor(t.clock.now() / 1000) - 60}&to=${Math.floor(t.clock.now() / 1000) + 60}`)).data as Record<string, unknown>[];
    expect(telemetry).toEqual([expect.objectContaining({ ppm: 60, device_ts: 30, flags: ["clock"] })]);
    // The clock is right again: the clock FAULT ends, the gas alarm stays what the gas says.
    await publish("FM-CLOCK", reading(2, 60));
    expect(await holding("FM-CLOCK")).toEqual(["HIGH"]);
  });

  it("a detector sending only malformed JSON for 40 s gets a FAULT naming the refusal; its page says why", async () => {
    await register("FM-JUNK");
    for (let i = 0; i < 5; i++) await publish("FM-JUNK", `{"ts":${i},"v_raw":`);
    const alarms = await alarmsOf("FM-JUNK");
    expect(alarms).toEqual([{ type: "FAULT", level: 1, reason: expect.stringMatching(/^messages refused for 40 s \(5\), the last: payload is not JSON$/) }]);
    const device = await api("/api/devices/FM-JUNK");
    expect(device).toMatchObject({ last_refusal: { reason: "payload is not JSON" } });
    // Readable again: the FAULT ends with its first good reading.
    await publish("FM-JUNK", reading(1, 5));
    expect(await holding("FM-JUNK")).toEqual([]);
    expect(await open("FM-JUNK")).toEqual([expect.objectContaining({ type: "FAULT", state: "cleared_unacked" })]);
  });
});
