import { createHmac, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topics } from "@mcs/protocol";
import { ChannelStore } from "@mcs/platform";
import { MqttIngest, startWorker, type Worker } from "@mcs/worker";
import { startMosquitto, type MosquittoInstance } from "../../test-support/mosquitto.ts";
import { buildTestApp, type TestApp } from "../../backend/test/helper.ts";

// Issue 10, acceptance on real MQTT traffic (Mosquitto with the project's config, PostgreSQL,
// Redis, a webhook receiver that checks the signature): a detector registered without limits
// alarms at its gas preset's levels and shows FAULT over full scale; a leak found only in a
// backlog that arrives after live data raises a late alarm and notifies a channel.
const WORKER_PASSWORD = "worker-secret-failsafe-1";
const EVENTUALLY = { timeout: 15_000, interval: 25 };
const HOUR = 3_600_000;

interface Hooked {
  event: string;
  title: string;
  text: string;
  alarms: { id: number; sn: string; type: string; level: number; kind: string; ppm: number | null; at: string; late: boolean; ended_at?: string | null; peak_ppm: number | null }[];
}

describe("fail-safe by default, on real MQTT traffic", () => {
  let broker: MosquittoInstance;
  let t: TestApp;
  let worker: Worker;
  let receiver: Server;
  let admin: { authorization: string };
  const hooked: { body: Hooked; signed: boolean }[] = [];
  const users: Record<string, string> = { "mcs-worker": WORKER_PASSWORD };
  const clients = new Map<string, MqttClient>();

  const api = async (method: "GET" | "POST" | "PATCH", url: string, payload?: object) => {
    const res = await t.app.inject({ method, url, headers: admin, ...(payload && { payload }) });
    return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
  };
  const alarmsOf = async (sn: string) => (await api("GET", `/api/alarms?sn=${sn}`)).body.data as Record<string, unknown>[];

  /** A detector registered through the API as an integrator would (gas and unit, nothing else), connected with its own password. */
  const register = async (sn: string, fields: Record<string, unknown>) => {
    const created = await api("POST", "/api/devices", { sn, k: 1, b: 0, t_comp: 0, t_ref: 25, ...fields });
    expect(created.status).toBe(201);
    users[sn] = created.body.mqtt_password as string;
    await broker.setUsers(users);
    clients.set(sn, await mqtt.connectAsync(broker.url("tls"), { ca: broker.ca, username: sn, password: users[sn], clientId: sn, protocolVersion: 4, reconnectPeriod: 0 }));
    return created.body;
  };
  /** Publishes one message (a reading, or a backlog array) and waits until its readings are stored (or found stored already) and judged. */
  const publish = async (sn: string, payload: object | object[]) => {
    const handled = () => worker.processor.stats.stored + worker.processor.stats.duplicates;
    const before = handled();
    await clients.get(sn)!.publishAsync(topics.up(sn), JSON.stringify(payload), { qos: 1 });
    await expect.poll(() => handled() - before, EVENTUALLY).toBe(Array.isArray(payload) ? payload.length : 1);
    await worker.processor.drain();
  };
  const reading = (tsMs: number, seq: number, value: number) => ({ ts: Math.floor(tsMs / 1000), seq, v_raw: value, temp: 25, humi: 40, bat: 3.9, rssi: -60, err: 0 });

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const raw = Buffer.concat(chunks);
        const signed = req.headers["x-mcs-signature"] === `sha256=${createHmac("sha256", "hook-secret").update(raw).digest("hex")}`;
        hooked.push({ body: JSON.parse(raw.toString()) as Hooked, signed });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    broker = await startMosquitto({ users });
    t = await buildTestApp("services");
    admin = await t.as("admin");
    worker = await startWorker({
      ...t.ports, clock: t.clock, sweepEveryMs: HOUR, notifyEveryMs: HOUR,
      source: new MqttIngest({ url: broker.url("plain", "mcs-worker", WORKER_PASSWORD), clientId: `failsafe-worker-${randomUUID()}`, group: null }),
    });
    await new ChannelStore(t.ports.db).create(
      {
        type: "webhook", name: "control room", enabled: true, config: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/ops`, secret: "hook-secret" },
        locale: "zh-CN", sns: null, types: null, min_level: 1, schedule: null, level2_always: true, repeat_every_min: 0, escalate_after_min: 0, min_interval_s: 0,
      },
      { name: "test" }, (c) => c.name, t.clock.now(),
    );
    await worker.alarms.channelCache.reload();
  });
  afterAll(async () => {
    await Promise.all([...clients.values()].map((client) => client.endAsync(true)));
    await worker?.stop();
    await t?.close();
    await broker?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it("gives a detector registered without limits its gas preset, says so, and alarms at the preset's levels", async () => {
    const device = await register("FS-CH4", { gas: "CH4", unit: "%LEL" });
    expect(device).toMatchObject({ high_limit: 25, high_limit_2: 50, range_max: 100, deadband: 2, preset_applied: ["high_limit", "high_limit_2", "range_max", "deadband"] });
    const now = t.clock.now();
    await publish("FS-CH4", reading(now, 1, 10));
    await publish("FS-CH4", reading(now + 10_000, 2, 60));
    expect(await alarmsOf("FS-CH4")).toEqual([expect.objectContaining({ type: "HIGH", level: 2, state: "unacked", ppm: 60, late: false })]);
    await expect.poll(async () => (await api("GET", "/api/devices/FS-CH4")).body, EVENTUALLY).toMatchObject({ status: "alarm", ppm: 60 });
  });

  it("shows FAULT and the gas alarm at its highest level over full scale (150 %LEL on a 0–100 detector), and keeps the peak", async () => {
    const now = t.clock.now();
    await publish("FS-CH4", reading(now + 20_000, 3, 150));
    const alarms = await alarmsOf("FS-CH4");
    expect(alarms.find((a) => a.type === "FAULT")).toMatchObject({ level: 1, state: "unacked", reason: "over-range: value 150 > range max 100" });
    expect(alarms.find((a) => a.type === "HIGH")).toMatchObject({ level: 2, ppm: 60, peak_ppm: 150, peak_at: new Date(Math.floor((now + 20_000) / 1000) * 1000).toISOString() });
    await expect.poll(async () => (await api("GET", "/api/devices/FS-CH4")).body, EVENTUALLY).toMatchObject({ status: "alarm" });
  });

  it("judges a gas without range of its own by its preset's full scale (a device stored before presets were applied)", async () => {
    await register("FS-OLD", { gas: "CH4", unit: "%LEL", high_limit: 25, high_limit_2: 50 });
    await t.ports.db.query(`UPDATE devices SET range_max = NULL WHERE sn = 'FS-OLD'`);
    await t.ports.bus.publish("device.changed", { sn: "FS-OLD", action: "updated" });
    await expect.poll(() => worker.calibrations.get("FS-OLD")?.range_max, EVENTUALLY).toBeNull();
    await publish("FS-OLD", reading(t.clock.now(), 1, 140));
    expect((await alarmsOf("FS-OLD")).map((a) => `${a.type} ${a.level}`).sort()).toEqual(["FAULT 1", "HIGH 2"]);
  });

  it("refuses a gas without a preset until its limits and range are given, naming the fields; monitor only needs a reason and is never green", async () => {
    const refused = await api("POST", "/api/devices", { sn: "FS-XYZ", gas: "C2H4", unit: "%LEL" });
    expect(refused).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/^body\.high_limit: there is no alarm preset for C2H4 in %LEL; give high_limit or low_limit and range_max/) } } });
    const noReason = await api("POST", "/api/devices", { sn: "FS-MON", gas: "C2H4", unit: "%LEL", monitor_only: true });
    expect(noReason).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/^body\.monitor_reason: /) } } });
    await register("FS-MON", { gas: "C2H4", unit: "%LEL", monitor_only: true, monitor_reason: "trial sensor, limits pending" });
    await publish("FS-MON", reading(t.clock.now(), 1, 3));
    expect(await alarmsOf("FS-MON")).toEqual([expect.objectContaining({ type: "FAULT", reason: "not configured: monitor only, no alarm limits (trial sensor, limits pending)" })]);
    await expect.poll(async () => (await api("GET", "/api/devices/FS-MON")).body, EVENTUALLY).toMatchObject({ status: "fault", monitor_only: true, high_limit: null });
  });

  it("raises a late alarm for a leak found only in a backlog sent after live data, and notifies it as 补报", async () => {
    await register("FS-LATE", { gas: "H2S", unit: "ppm" });
    await worker.notifications.run(); // what the tests above raised goes out first
    const now = t.clock.now();
    const start = now - 10 * 60_000;
    // Live first (the detector reconnected), then its backlog: it was offline during the leak.
    await publish("FS-LATE", reading(now, 100, 1));
    expect(await alarmsOf("FS-LATE")).toEqual([]);
    const backlog = Array.from({ length: 59 }, (_, i) => reading(start + i * 10_000, 40 + i, i >= 10 && i < 20 ? 20 : 1));
    await publish("FS-LATE", backlog);

    const [alarm] = await alarmsOf("FS-LATE");
    const leakStart = new Date(Math.floor((start + 100_000) / 1000) * 1000).toISOString();
    expect(alarm).toMatchObject({ type: "HIGH", level: 2, late: true, raised_at: leakStart, state: "cleared_unacked", condition_active: false, ppm: 20, peak_ppm: 20 });
    expect(Date.parse(alarm!.received_at as string)).toBeGreaterThanOrEqual(now - 1000);
    const detail = (await api("GET", `/api/alarms/${alarm!.id}`)).body;
    expect(detail.episodes).toEqual([expect.objectContaining({ level: 2, started_at: leakStart, ended_at: new Date(Math.floor((start + 200_000) / 1000) * 1000).toISOString(), late: true, peak: 20 })]);
    // The live state stays that of the newest reading: normal.
    await expect.poll(async () => (await api("GET", "/api/devices/FS-LATE")).body, EVENTUALLY).toMatchObject({ status: "online", ppm: 1 });

    await worker.notifications.run();
    const notice = hooked.find((h) => h.body.alarms.some((a) => a.sn === "FS-LATE"));
    expect(notice).toMatchObject({ signed: true, body: { event: "alarm.late", alarms: [expect.objectContaining({ sn: "FS-LATE", type: "HIGH", level: 2, kind: "late", late: true, at: leakStart, peak_ppm: 20 })] } });
    expect(notice!.body.title).toMatch(/^【补报·二级报警】FS-LATE/);
    expect(notice!.body.text).toContain("补报（迟到数据）");

    // Resent (a broker restart): stored once, judged once, told once.
    await publish("FS-LATE", backlog.slice(0, 30));
    await worker.notifications.run();
    expect(await alarmsOf("FS-LATE")).toHaveLength(1);
    expect(hooked.filter((h) => h.body.alarms.some((a) => a.sn === "FS-LATE"))).toHaveLength(1);
  });
});
