import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CommandSchema, topics, type AckMessage, type CommandMessage } from "@mcs/protocol";
import {
  DeviceStore,
  EmbeddedCommandPublisher,
  ensureCertificates,
  MqttCommandPublisher,
  startEmbeddedBroker,
  TelemetryStore,
  verifyMosquittoPassword,
  type EmbeddedBroker,
} from "@mcs/platform";
import { AedesSource, MqttIngest, startWorker, type Worker } from "@mcs/worker";
import { startMosquitto, type MosquittoInstance } from "../../test-support/mosquitto.ts";
import type { Mode } from "../../test-support/ports.ts";
import { buildTestApp, type TestApp } from "../../backend/test/helper.ts";

// Issue 3, parts 4 and 6, end to end: API → broker → device → ack → API, presence from the
// device's status, will and silence. Services mode: real PostgreSQL, Redis and Mosquitto with
// the project's config and ACL, the worker on its lean MQTT connection, the worker and the
// backend publishing as `mcs-worker` and `mcs-backend`. Embedded mode: PGlite, the in-memory
// cache and bus, the in-process Aedes broker. Devices are plain MQTT.js clients over TLS.
// The clock is fake: expiry and silence happen when the test moves it.
const SERVICE_USERS = { "mcs-worker": "worker-secret-rt-1", "mcs-backend": "backend-secret-rt-1" };
const HOUR = 3_600_000;
/** Deadlines only, so that a failure is reported instead of hanging; nothing here is timed. */
const EVENTUALLY = { timeout: 15_000, interval: 20 };

interface Stack {
  t: TestApp;
  worker: Worker;
  /** Where devices connect (TLS) and the CA they trust. */
  url: string;
  ca: string;
  /** Lets a device registered through the API log in (Mosquitto reads a password file). */
  allow(sn: string, password: string): Promise<void>;
  close(): Promise<void>;
}

async function servicesStack(): Promise<Stack> {
  const broker: MosquittoInstance = await startMosquitto({ users: SERVICE_USERS });
  const users: Record<string, string> = { ...SERVICE_USERS };
  const backendPublisher = new MqttCommandPublisher({ url: broker.url("plain", "mcs-backend", SERVICE_USERS["mcs-backend"]), clientId: `rt-backend-${randomUUID()}` });
  const workerPublisher = new MqttCommandPublisher({ url: broker.url("plain", "mcs-worker", SERVICE_USERS["mcs-worker"]), clientId: `rt-worker-cmd-${randomUUID()}` });
  await Promise.all([backendPublisher.waitConnected(), workerPublisher.waitConnected()]);
  const t = await buildTestApp("services", { commands: backendPublisher });
  const source = new MqttIngest({ url: broker.url("plain", "mcs-worker", SERVICE_USERS["mcs-worker"]), clientId: `rt-worker-${randomUUID()}` });
  const worker = await startWorker({ ...t.ports, clock: t.clock, source, commands: workerPublisher, sweepEveryMs: HOUR });
  return {
    t, worker, url: broker.url("tls"), ca: broker.ca,
    async allow(sn, password) {
      users[sn] = password;
      await broker.setUsers(users);
    },
    async close() {
      await t.app.close();
      await worker.stop();
      await Promise.all([backendPublisher.close(), workerPublisher.close()]);
      await t.ports.close();
      await broker.stop();
    },
  };
}

async function embeddedStack(): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), "mcs-rt-"));
  const certs = await ensureCertificates(join(dir, "certs"));
  let t: TestApp | undefined;
  const broker: EmbeddedBroker = await startEmbeddedBroker({
    port: 0, host: "127.0.0.1", certs,
    authenticate: async (sn, password) => {
      const hash = t ? await new DeviceStore(t.ports.db).passwordHash(sn) : null;
      return hash !== null && verifyMosquittoPassword(password, hash);
    },
  });
  const publisher = new EmbeddedCommandPublisher(broker);
  t = await buildTestApp("embedded", { commands: publisher });
  const worker = await startWorker({ ...t.ports, clock: t.clock, source: new AedesSource(broker), commands: publisher, sweepEveryMs: HOUR });
  const app = t;
  return {
    t: app, worker, url: `mqtts://127.0.0.1:${broker.port}`, ca: certs.ca,
    allow: async () => {},
    async close() {
      await app.app.close();
      await worker.stop();
      await broker.close();
      await app.ports.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A detector as far as commands go: answers each command with `answer`, and can vanish (its will). */
class TestDevice {
  readonly received: CommandMessage[] = [];
  answer: (command: CommandMessage) => Omit<AckMessage, "id"> = () => ({ ok: true, msg: "done" });
  private client: MqttClient | undefined;

  constructor(private readonly stack: Stack, readonly sn: string, private readonly password: string) {}

  async connect(boot: number): Promise<void> {
    const client = await mqtt.connectAsync(this.stack.url, {
      ca: this.stack.ca, username: this.sn, password: this.password, clientId: `${this.sn}-${boot}`,
      protocolVersion: 4, clean: true, reconnectPeriod: 0,
      will: { topic: topics.status(this.sn), payload: Buffer.from(JSON.stringify({ online: false })), qos: 1, retain: true },
    });
    this.client = client;
    client.on("message", (topic, payload) => {
      const command = CommandSchema.parse(JSON.parse(payload.toString()));
      this.received.push(command);
      // A device that vanishes mid-answer loses its ack with the connection, as a real one would.
      client.publishAsync(topics.ack(this.sn), JSON.stringify({ id: command.id, ...this.answer(command) }), { qos: 1 }).catch(() => {});
    });
    await client.subscribeAsync(topics.cmd(this.sn), { qos: 1 });
    await client.publishAsync(topics.status(this.sn), JSON.stringify({ online: true, fw: "1.0.0", boot }), { qos: 1, retain: true });
  }

  publish(kind: "up" | "ack", message: object): Promise<unknown> {
    return this.client!.publishAsync(topics[kind](this.sn), JSON.stringify(message), { qos: 1 });
  }

  /** Gone without a word (power cut, lost 4G): the broker publishes its will. */
  async vanish(): Promise<void> {
    const client = this.client!;
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    client.stream.destroy();
    await closed;
    await client.endAsync(true);
  }

  async close(): Promise<void> {
    await this.client?.endAsync(true);
  }
}

const STACKS: [Mode, () => Promise<Stack>][] = [
  ["services", servicesStack],
  ["embedded", embeddedStack],
];

describe.each(STACKS)("commands and presence end to end (%s mode)", (_mode, open) => {
  let stack: Stack;
  let device: TestDevice;
  let admin: { authorization: string };
  const sn = "RT-1";
  const api = async (method: "GET" | "POST", url: string, payload?: object) => {
    const res = await stack.t.app.inject({ method, url, headers: admin, ...(payload && { payload }) });
    return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
  };
  const send = async (payload: object) => {
    const res = await api("POST", `/api/devices/${sn}/commands`, payload);
    expect(res).toMatchObject({ status: 202, body: { status: "pending" } });
    return res.body.id as string;
  };
  const command = async (id: string) => (await api("GET", `/api/devices/${sn}/commands/${id}`)).body;
  const deviceView = async () => (await api("GET", `/api/devices/${sn}`)).body;
  const nowS = () => Math.floor(stack.t.clock.now() / 1000);

  beforeAll(async () => {
    stack = await open();
    admin = await stack.t.as("admin");
    const created = await api("POST", "/api/devices", { sn, gas: "CO", unit: "ppm" });
    const password = created.body.mqtt_password as string;
    await stack.allow(sn, password);
    device = new TestDevice(stack, sn, password);
  });
  afterAll(async () => {
    await device?.close();
    await stack?.close();
  });

  it("shows a device online, with its firmware, once it has connected and published its status", async () => {
    await device.connect(1);
    await expect.poll(deviceView, EVENTUALLY).toMatchObject({ status: "online", fw: "1.0.0", boot: 1, last_seen: new Date(stack.t.clock.now()).toISOString() });
  });

  it("carries a command API → broker → device → ack → API: acked with the device's message", async () => {
    device.answer = () => ({ ok: true, msg: "reporting every 1 s for 5 min" });
    const id = await send({ cmd: "set_debug", params: { interval_s: 1, duration_min: 5 } });
    await expect.poll(() => command(id), EVENTUALLY).toMatchObject({ status: "acked", msg: "reporting every 1 s for 5 min", sent_at: expect.any(String), acked_at: expect.any(String) });
    expect(device.received).toEqual([{ id, cmd: "set_debug", params: { interval_s: 1, duration_min: 5 } }]);
  });

  it("ends a command the device refuses (ok:false) as failed, with its reason", async () => {
    device.answer = () => ({ ok: false, msg: "params.k must not be 0" });
    const id = await send({ cmd: "set_calib", params: { k: 0 } });
    await expect.poll(() => command(id), EVENTUALLY).toMatchObject({ status: "failed", msg: "params.k must not be 0" });
  });

  it("dead-letters an ack for a command that does not exist", async () => {
    const unknown = randomUUID();
    await device.publish("ack", { id: unknown, ok: true, msg: "" });
    const dead = () => new TelemetryStore(stack.t.ports.db).recentDeadLetters(5);
    await expect.poll(dead, EVENTUALLY).toContainEqual(expect.objectContaining({ topic: `mcs/${sn}/ack`, reason: `unknown command id ${unknown}` }));
  });

  it("shows the device offline at once when its will arrives, keeps a command for it pending, and delivers it when it returns", async () => {
    await device.vanish();
    await expect.poll(deviceView, EVENTUALLY).toMatchObject({ status: "offline" });
    device.answer = () => ({ ok: true, msg: "rebooted" });
    const id = await send({ cmd: "reboot" });
    await stack.worker.commandSweep.run();
    expect(await command(id)).toMatchObject({ status: "pending", sent_at: null });
    const before = device.received.length;
    await device.connect(2);
    await expect.poll(() => command(id), EVENTUALLY).toMatchObject({ status: "acked", msg: "rebooted" });
    expect(device.received.slice(before)).toEqual([{ id, cmd: "reboot", params: {} }]);
    expect(await deviceView()).toMatchObject({ status: "online", boot: 2 });
  });

  it("times out a command whose device does not come back before it expires (fake clock)", async () => {
    await device.vanish();
    await expect.poll(deviceView, EVENTUALLY).toMatchObject({ status: "offline" });
    const id = await send({ cmd: "reboot", expires_in_s: 60 });
    stack.t.clock.advance(60_000);
    await stack.worker.commandSweep.run();
    expect(await command(id)).toMatchObject({ status: "timeout", sent_at: null, finished_at: new Date(stack.t.clock.now()).toISOString() });
  });

  it("shows a device that stops publishing offline after 3 report intervals, and online again with its next reading", async () => {
    await device.connect(3);
    await expect.poll(deviceView, EVENTUALLY).toMatchObject({ status: "online", boot: 3 });
    await device.publish("up", { ts: nowS(), seq: 1, v_raw: 1, temp: 25 });
    await expect.poll(async () => (await deviceView()).ppm, EVENTUALLY).not.toBeNull();
    stack.t.clock.advance(30_001);
    await stack.worker.presence.sweep();
    expect(await deviceView()).toMatchObject({ status: "offline" });
    await device.publish("up", { ts: nowS(), seq: 2, v_raw: 2, temp: 25 });
    await expect.poll(deviceView, EVENTUALLY).toMatchObject({ status: "online", last_seen: new Date(stack.t.clock.now()).toISOString() });
  });
});
