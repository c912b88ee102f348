import { createHmac, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topics } from "@mcs/protocol";
import { ChannelStore, OutboxStore, type ChannelInput } from "@mcs/platform";
import { MqttIngest, startWorker, type Worker } from "@mcs/worker";
import { startMosquitto, type MosquittoInstance } from "../../test-support/mosquitto.ts";
import { buildTestApp, type TestApp } from "../../backend/test/helper.ts";

// Issue 4, acceptance: the worker judges real MQTT traffic (Mosquitto with the project's
// config, PostgreSQL, Redis) and notifies a real webhook receiver that checks the HMAC
// signature. The clock is fake: repeats and escalations happen when the test moves it.
// It starts on a Saturday at 03:00 in Shanghai, outside any working hours.
const WORKER_PASSWORD = "worker-secret-alarms-1";
const SATURDAY_3AM_SHANGHAI = Date.parse("2026-11-28T03:00:00+08:00");
const EVENTUALLY = { timeout: 15_000, interval: 25 };
const HOUR = 3_600_000;
const MINUTE = 60_000;

interface Received {
  path: string;
  body: { event: string; alarms: { id: number; sn: string; type: string; level: number; kind: string; ppm: number | null }[] };
  signed: boolean;
}

describe("the alarm center on real MQTT traffic", () => {
  let broker: MosquittoInstance;
  let t: TestApp;
  let worker: Worker;
  let receiver: Server;
  let hook: string;
  let admin: { authorization: string };
  const received: Received[] = [];
  const users: Record<string, string> = { "mcs-worker": WORKER_PASSWORD };
  const clients = new Map<string, MqttClient>();
  const seq = new Map<string, number>();

  const api = async (method: "GET" | "POST", url: string, payload?: object) => {
    const res = await t.app.inject({ method, url, headers: admin, ...(payload && { payload }) });
    return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
  };
  const alarmsOf = async (sn: string) => (await api("GET", `/api/alarms?sn=${sn}`)).body.data as { id: number; type: string; level: number; state: string }[];
  const delivered = (sn: string, path = "/ops") => received.filter((r) => r.path === path && r.body.alarms.some((alarm) => alarm.sn === sn));

  /** A detector registered through the API, connected over TLS with its own password. */
  const device = async (sn: string, fields: Record<string, unknown>) => {
    const created = await api("POST", "/api/devices", { sn, gas: "CO", unit: "ppm", ...fields });
    expect(created.status).toBe(201);
    users[sn] = created.body.mqtt_password as string;
    await broker.setUsers(users);
    clients.set(sn, await mqtt.connectAsync(broker.url("tls"), { ca: broker.ca, username: sn, password: users[sn], clientId: sn, protocolVersion: 4, reconnectPeriod: 0 }));
  };
  /** Readings 10 s apart on the fake clock, each its own message; resolves once all are stored and judged. */
  const report = async (sn: string, values: number[], extra: Record<string, number> = {}) => {
    const before = worker.processor.stats.stored;
    for (const value of values) {
      t.clock.advance(10_000);
      const next = (seq.get(sn) ?? 0) + 1;
      seq.set(sn, next);
      // v_raw = value with k = 1, b = 0: the ppm is the value.
      await clients.get(sn)!.publishAsync(topics.up(sn), JSON.stringify({ ts: Math.floor(t.clock.now() / 1000), seq: next, v_raw: value, temp: 20, err: 0, ...extra }), { qos: 1 });
    }
    await expect.poll(() => worker.processor.stats.stored - before, EVENTUALLY).toBe(values.length);
    await worker.processor.drain();
  };
  const dispatch = () => worker.notifications.run();
  /** The worker's MQTT session, as production runs it: one fixed client id, a plain subscription. */
  const clientId = `alarms-worker-${randomUUID()}`;
  const ingest = () => new MqttIngest({ url: broker.url("plain", "mcs-worker", WORKER_PASSWORD), clientId, group: null });
  const channel = async (input: Partial<ChannelInput> & { path: string }) => {
    const { path, ...rules } = input;
    const created = await new ChannelStore(t.ports.db).create(
      {
        type: "webhook", name: `receiver ${path}`, enabled: true, config: { url: `${hook}${path}`, secret: "hook-secret" }, locale: "zh-CN",
        sns: null, types: null, min_level: 1, schedule: null, level2_always: true, repeat_every_min: 0, escalate_after_min: 0, min_interval_s: 0, ...rules,
      },
      { name: "test" }, (c) => c.name, t.clock.now(),
    );
    await worker.alarms.channelCache.reload();
    return created;
  };

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const raw = Buffer.concat(chunks);
        const expected = `sha256=${createHmac("sha256", "hook-secret").update(raw).digest("hex")}`;
        received.push({ path: req.url ?? "", body: JSON.parse(raw.toString()) as Received["body"], signed: req.headers["x-mcs-signature"] === expected });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    broker = await startMosquitto({ users });
    t = await buildTestApp("services");
    t.clock.ms = SATURDAY_3AM_SHANGHAI;
    admin = await t.as("admin");
    worker = await startWorker({ ...t.ports, clock: t.clock, source: ingest(), sweepEveryMs: HOUR, notifyEveryMs: HOUR });
    // The operators' channel hears every device at every hour; the escalation group hears after 15 min unanswered.
    await channel({ path: "/ops", sns: ["ALM-A1", "ALM-B1", "ALM-C1", "ALM-E1", "ALM-F1"], repeat_every_min: 5 });
    await channel({ path: "/managers", sns: ["ALM-E1"], escalate_after_min: 15 });
    // The day shift's channel hears D1 in working hours only.
    await channel({ path: "/day", sns: ["ALM-D1"], schedule: { timezone: "Asia/Shanghai", windows: [{ days: [1, 2, 3, 4, 5], start: "08:00", end: "18:00" }], holidays: [], workdays: [] }, level2_always: true });
  });
  afterAll(async () => {
    await Promise.all([...clients.values()].map((client) => client.endAsync(true)));
    await worker?.stop();
    await t?.close();
    await broker?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it("raises exactly one HIGH alarm and sends one notification for readings above high_limit", async () => {
    await device("ALM-A1", { high_limit: 17, high_limit_2: 34, deadband: 2 });
    await report("ALM-A1", [5, 20, 22, 21, 25]);
    expect(await alarmsOf("ALM-A1")).toEqual([expect.objectContaining({ type: "HIGH", level: 1, state: "unacked", ppm: 20 })]);
    await expect.poll(async () => (await api("GET", "/api/devices/ALM-A1")).body, EVENTUALLY).toMatchObject({ status: "alarm", ppm: 25 });
    await dispatch();
    expect(delivered("ALM-A1")).toEqual([{ path: "/ops", signed: true, body: expect.objectContaining({ alarms: [expect.objectContaining({ sn: "ALM-A1", type: "HIGH", level: 1, ppm: 20 })] }) }]);
    await dispatch();
    expect(delivered("ALM-A1")).toHaveLength(1);
  });

  it("after a worker restart, neither forgets the open alarm nor raises it again", async () => {
    const [before] = await alarmsOf("ALM-A1");
    await worker.stop();
    worker = await startWorker({ ...t.ports, clock: t.clock, source: ingest(), sweepEveryMs: HOUR, notifyEveryMs: HOUR });
    await report("ALM-A1", [26, 24]);
    expect(await alarmsOf("ALM-A1")).toEqual([expect.objectContaining({ id: before!.id, state: "unacked" })]);
    await report("ALM-A1", [5]);
    expect(await alarmsOf("ALM-A1")).toEqual([expect.objectContaining({ id: before!.id, state: "cleared_unacked" })]);
    await dispatch();
    expect(delivered("ALM-A1")).toHaveLength(1);
  });

  it("raises one alarm for a signal chattering around the limit within the deadband", async () => {
    await device("ALM-B1", { high_limit: 17, deadband: 2 });
    await report("ALM-B1", [16, 18, 16.5, 17.5, 15.5, 18.2, 16, 17.1, 15.2, 19]);
    expect(await alarmsOf("ALM-B1")).toHaveLength(1);
    await dispatch();
    expect(delivered("ALM-B1")).toHaveLength(1);
  });

  it("records a second alarm within 10 minutes but does not notify it again", async () => {
    await device("ALM-C1", { high_limit: 17, deadband: 2 });
    await report("ALM-C1", [20]);
    await dispatch();
    const [first] = await alarmsOf("ALM-C1");
    expect((await api("POST", `/api/alarms/${first!.id}/ack`, { comment: "checked, a valve was open" })).status).toBe(200);
    await report("ALM-C1", [5]);
    expect((await alarmsOf("ALM-C1"))[0]).toMatchObject({ id: first!.id, state: "closed" });
    t.clock.advance(2 * MINUTE);
    await report("ALM-C1", [24]);
    const alarms = await alarmsOf("ALM-C1");
    expect(alarms).toEqual([expect.objectContaining({ state: "unacked", ppm: 24 }), expect.objectContaining({ id: first!.id, state: "closed" })]);
    await dispatch();
    expect(delivered("ALM-C1")).toHaveLength(1);
    const outbox = await new OutboxStore(t.ports.db).forAlarm(alarms[0]!.id);
    expect(outbox).toEqual([expect.objectContaining({ status: "suppressed", detail: expect.stringMatching(/^debounced/) })]);
  });

  it("records an alarm outside working hours without sending it, but sends a level 2 alarm at any hour", async () => {
    await device("ALM-D1", { high_limit: 17, high_limit_2: 34, deadband: 2 });
    await report("ALM-D1", [20]);
    expect(await alarmsOf("ALM-D1")).toEqual([expect.objectContaining({ type: "HIGH", level: 1, state: "unacked" })]);
    await dispatch();
    expect(delivered("ALM-D1", "/day")).toEqual([]);
    await report("ALM-D1", [40]);
    await dispatch();
    expect(delivered("ALM-D1", "/day")).toEqual([expect.objectContaining({ body: expect.objectContaining({ alarms: [expect.objectContaining({ sn: "ALM-D1", level: 2 })] }) })]);
  });

  it("raises FAULT for a reading with err ≠ 0, and no gas alarm from it", async () => {
    await device("ALM-F1", { high_limit: 17 });
    await report("ALM-F1", [30], { err: 4 });
    expect(await alarmsOf("ALM-F1")).toEqual([expect.objectContaining({ type: "FAULT", level: 1, state: "unacked" })]);
    await expect.poll(async () => (await api("GET", "/api/devices/ALM-F1")).body, EVENTUALLY).toMatchObject({ status: "fault" });
    await dispatch();
    expect(delivered("ALM-F1")).toEqual([expect.objectContaining({ body: expect.objectContaining({ alarms: [expect.objectContaining({ sn: "ALM-F1", type: "FAULT" })] }) })]);
  });

  it("repeats an unacknowledged alarm every 5 min, escalates it after 15 min, and stops once acknowledged", async () => {
    await device("ALM-E1", { high_limit: 17, deadband: 2 });
    await report("ALM-E1", [25]);
    await dispatch();
    expect(delivered("ALM-E1")).toHaveLength(1);
    // The other tests' alarms are unacknowledged too: their repeats share the messages (grouped).
    const kinds = () => received.flatMap((r) => r.body.alarms.filter((alarm) => alarm.sn === "ALM-E1").map((alarm) => `${r.path} ${alarm.kind}`));
    for (let minute = 1; minute <= 16; minute++) {
      t.clock.advance(MINUTE);
      await dispatch();
    }
    expect(kinds()).toEqual(["/ops raised", "/ops repeat", "/ops repeat", "/ops repeat", "/managers escalation"]);
    const [alarm] = await alarmsOf("ALM-E1");
    expect((await api("POST", `/api/alarms/${alarm!.id}/ack`, { comment: "on my way" })).status).toBe(200);
    for (let minute = 1; minute <= 20; minute++) {
      t.clock.advance(MINUTE);
      await dispatch();
    }
    expect(kinds()).toHaveLength(5);
  });

  it("groups an alarm storm into one message per channel", async () => {
    const storm = Array.from({ length: 12 }, (_, i) => `ALM-S${i + 1}`);
    await channel({ path: "/storm", sns: storm });
    for (const sn of storm) await device(sn, { high_limit: 17 });
    const before = received.length;
    for (const sn of storm) await report(sn, [30]);
    await dispatch();
    const messages = received.slice(before).filter((r) => r.path === "/storm");
    expect(messages).toHaveLength(1);
    expect(messages[0]!.body.event).toBe("alarm.group");
    expect(messages[0]!.body.alarms.map((alarm) => alarm.sn).sort()).toEqual([...storm].sort());
  });
});
