import { mkdtemp, rm } from "node:fs/promises";
import type { EventEmitter } from "node:events";
import { connect as tcpConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedBroker, type DeviceMessage, type EmbeddedBroker } from "../src/broker/aedes-broker.ts";
import { ensureCertificates, type CertificateFiles } from "../src/broker/certs.ts";

const passwords: Record<string, string> = { A001: "pw-a001", B002: "pw-b002", C003: "pw-c003", D004: "pw-d004" };
const authenticate = async (sn: string, password: string) => passwords[sn] === password;

let dir: string;
let certs: CertificateFiles;
let broker: EmbeddedBroker;
/** Everything the broker hands over; acknowledged at once unless a test says otherwise. */
const taken: DeviceMessage[] = [];
const clients: MqttClient[] = [];

function device(sn: string, options: IClientOptions = {}, port = broker.port): Promise<MqttClient> {
  return mqtt
    .connectAsync(`mqtts://127.0.0.1:${port}`, {
      ca: certs.ca,
      username: sn,
      password: passwords[sn],
      clientId: `${sn}-${Math.random().toString(36).slice(2, 8)}`,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      ...options,
    })
    .then((client) => {
      clients.push(client);
      return client;
    });
}

/** The message `check` waits for among those taken so far or still to come. */
async function takenWhere(check: (m: DeviceMessage) => boolean): Promise<DeviceMessage> {
  for (;;) {
    const found = taken.find(check);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A round trip on the device's connection: whatever the broker sent before has arrived. */
async function roundTrip(client: MqttClient, sn: string): Promise<void> {
  await client.subscribeAsync(`mcs/${sn}/cmd`, { qos: 1 });
}

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => (client.connected ? client.once("close", () => resolve()) : resolve()));
}

async function retainedPackets(topic: string): Promise<{ payload: string; qos: number }[]> {
  type Stored = { payload: Buffer; qos: number };
  const persistence = (broker.aedes as unknown as { persistence: { createRetainedStream(pattern: string): AsyncIterable<Stored> } }).persistence;
  const found: { payload: string; qos: number }[] = [];
  for await (const packet of persistence.createRetainedStream(topic)) found.push({ payload: packet.payload.toString(), qos: packet.qos });
  return found;
}

async function retained(topic: string): Promise<string[]> {
  return (await retainedPackets(topic)).map((p) => p.payload);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mcs-broker-test-"));
  certs = await ensureCertificates(join(dir, "certs"));
  broker = await startEmbeddedBroker({ port: 0, host: "127.0.0.1", certs, authenticate });
  broker.takeDeviceMessages((message) => {
    taken.push(message);
    message.ack();
  });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the embedded MQTT broker", () => {
  it("lets a device in over TLS with its serial number and MQTT password", async () => {
    const client = await device("A001");
    expect(client.connected).toBe(true);
    expect(broker.connectedClients()).toBeGreaterThanOrEqual(1);
  });

  it("refuses a wrong password, an empty password and an unknown device", async () => {
    await expect(device("A001", { password: "wrong" })).rejects.toMatchObject({ code: 4 });
    await expect(device("A001", { password: "" })).rejects.toMatchObject({ code: 4 });
    await expect(device("Z999", { password: "anything" })).rejects.toMatchObject({ code: 4 });
    await expect(device("A001", { username: "mcs/+/up", password: "pw-a001" })).rejects.toMatchObject({ code: 4 });
  });

  it("answers 'server unavailable' when the password cannot be checked", async () => {
    const failing = await startEmbeddedBroker({
      port: 0,
      host: "127.0.0.1",
      certs,
      authenticate: () => Promise.reject(new Error("database down")),
    });
    try {
      await expect(device("A001", {}, failing.port)).rejects.toMatchObject({ code: 3 });
    } finally {
      await failing.close();
    }
  });

  it("fails to start on a port already taken, leaving nothing running", async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    await expect(startEmbeddedBroker({ port: broker.port, host: "127.0.0.1", certs, authenticate })).rejects.toMatchObject({ code: "EADDRINUSE" });
    expect(process.getActiveResourcesInfo().filter((r) => r === "Timeout").length).toBe(before);
  });

  it("speaks only TLS: a plain MQTT connection is dropped without a CONNACK", async () => {
    const plain = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, {
      username: "A001",
      password: passwords.A001,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    let connected = false;
    plain.on("connect", () => (connected = true));
    plain.on("error", () => {});
    await new Promise<void>((r) => plain.once("close", () => r()));
    await plain.endAsync(true);
    expect(connected).toBe(false);
  });

  it("hands over a device's publishes on its own up, status and ack topics", async () => {
    const client = await device("B002");
    await client.publishAsync("mcs/B002/up", '{"seq":1}', { qos: 1 });
    await client.publishAsync("mcs/B002/status", '{"online":true}', { qos: 1, retain: true });
    await client.publishAsync("mcs/B002/ack", '{"id":"x","ok":true}', { qos: 1 });
    for (const topic of ["mcs/B002/up", "mcs/B002/status", "mcs/B002/ack"]) {
      const message = await takenWhere((m) => m.topic === topic);
      expect(message).toMatchObject({ sn: "B002", qos: 1 });
    }
    expect(await retainedPackets("mcs/B002/status")).toEqual([{ payload: '{"online":true}', qos: 1 }]);
  });

  it("never delivers nor retains a publish to another device's topic, and disconnects the sender", async () => {
    const routed: string[] = [];
    const spy = (packet: { topic: string }, done: () => void) => {
      routed.push(packet.topic);
      done();
    };
    await new Promise<void>((r) => broker.aedes.subscribe("mcs/#", spy, r));
    try {
      for (const topic of ["mcs/C003/up", "mcs/C003/status", "mcs/A001/cmd", "mcs/A001/other", "$SYS/x", "mcs/A001"]) {
        const client = await device("A001");
        const gone = closed(client);
        client.publish(topic, "forged", { qos: 1, retain: true });
        await gone;
      }
      const honest = await device("C003");
      await honest.publishAsync("mcs/C003/status", "honest", { qos: 1, retain: true });
      await takenWhere((m) => m.topic === "mcs/C003/status");
      expect(taken.filter((m) => m.payload.toString() === "forged")).toEqual([]);
      expect(routed).toEqual(["mcs/C003/status"]);
      expect(await retained("mcs/C003/status")).toEqual(["honest"]);
    } finally {
      await new Promise<void>((r) => broker.aedes.unsubscribe("mcs/#", spy, r));
    }
  });

  it("lets a device subscribe only to its own cmd, refusing others' topics, wildcards and $share", async () => {
    const client = await device("A001");
    const refusal: unknown = await client
      .subscribeAsync(["mcs/B002/cmd", "mcs/+/cmd", "#", "mcs/#", "$share/g/mcs/B002/cmd", "mcs/A001/+", "mcs/A001/cmd"], { qos: 1 })
      .then(() => null, (error: unknown) => error);
    expect(refusal).toMatchObject({ packet: { granted: [128, 128, 128, 128, 128, 128, 1] } });
    const received: string[] = [];
    client.on("message", (topic, payload) => received.push(`${topic} ${payload.toString()}`));
    await broker.publish("mcs/B002/cmd", '{"id":"for-b"}', { qos: 1, retain: false });
    await broker.publish("mcs/A001/cmd", '{"id":"for-a"}', { qos: 1, retain: false });
    await expect.poll(() => received).toContain('mcs/A001/cmd {"id":"for-a"}');
    await roundTrip(client, "A001");
    expect(received).toEqual(['mcs/A001/cmd {"id":"for-a"}']);
    expect(client.connected).toBe(true);
  });

  it("delivers a command to the device on its own cmd with QoS 1", async () => {
    const client = await device("D004");
    await client.subscribeAsync("mcs/D004/cmd", { qos: 1 });
    const got = new Promise<{ topic: string; payload: string; qos: number }>((resolve) =>
      client.once("message", (topic, payload, packet) => resolve({ topic, payload: payload.toString(), qos: packet.qos })),
    );
    await broker.publish("mcs/D004/cmd", '{"id":"1","cmd":"reboot","params":{}}', { qos: 1, retain: false });
    expect(await got).toEqual({ topic: "mcs/D004/cmd", payload: '{"id":"1","cmd":"reboot","params":{}}', qos: 1 });
  });

  it("does not let a device take over another device's client id", async () => {
    const owner = await device("B002", { clientId: "shared-id" });
    await expect(device("A001", { clientId: "shared-id" })).rejects.toMatchObject({ code: 2 });
    await roundTrip(owner, "B002");
    expect(owner.connected).toBe(true);
  });

  it("publishes a device's will on its status topic, retained, when it drops off", async () => {
    const client = await device("C003", {
      will: { topic: "mcs/C003/status", payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
    });
    await client.publishAsync("mcs/C003/status", '{"online":true,"fw":"1.2.0","boot":17}', { qos: 1, retain: true });
    await takenWhere((m) => m.payload.toString().includes('"boot":17'));
    client.stream.destroy(); // a dropped connection, no DISCONNECT
    const will = await takenWhere((m) => m.payload.toString() === '{"online":false}');
    expect(will).toMatchObject({ sn: "C003", topic: "mcs/C003/status", retain: true });
    await expect.poll(() => retained("mcs/C003/status")).toEqual(['{"online":false}']);
  });

  it("never publishes a will aimed at another device's topic", async () => {
    const liar = await device("A001", {
      will: { topic: "mcs/B002/status", payload: Buffer.from("liar-will"), qos: 1, retain: true },
    });
    const witness = await device("D004", {
      will: { topic: "mcs/D004/status", payload: Buffer.from("witness-will"), qos: 1, retain: true },
    });
    liar.stream.destroy();
    witness.stream.destroy();
    await takenWhere((m) => m.payload.toString() === "witness-will");
    expect(taken.filter((m) => m.payload.toString() === "liar-will")).toEqual([]);
    expect(await retained("mcs/B002/status")).not.toContain("liar-will");
  });

  it("survives broker errors and a connection that sends garbage, and keeps serving devices", async () => {
    (broker.aedes as unknown as EventEmitter).emit("error", new Error("persistence hiccup"));
    const garbage = tlsConnect({ host: "127.0.0.1", port: broker.port, ca: certs.ca });
    garbage.on("error", () => {});
    await new Promise((r) => garbage.once("secureConnect", r));
    const dropped = new Promise((r) => garbage.once("close", r));
    garbage.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02]));
    await dropped;
    const client = await device("D004");
    await client.publishAsync("mcs/D004/up", "still-here", { qos: 1 });
    await takenWhere((m) => m.payload.toString() === "still-here");
  });

  it("tears everything down on close: devices, half-open connections, the listener and its handles", async () => {
    const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r.startsWith("TCP")).length;
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = { tcp: tcpHandles(), timers: timers() };

    const own = await startEmbeddedBroker({ port: 0, host: "127.0.0.1", certs, authenticate });
    const client = await device("A001", {}, own.port);
    const gone = closed(client);
    const halfOpen = tcpConnect(own.port, "127.0.0.1"); // never says hello
    await new Promise((r) => halfOpen.once("connect", r));
    const halfOpenGone = new Promise((r) => halfOpen.once("close", r));
    halfOpen.on("error", () => {});

    await own.close();
    await Promise.all([gone, halfOpenGone]);
    await client.endAsync(true);
    expect(own.aedes.closed).toBe(true);
    expect(own.connectedClients()).toBe(0);
    await expect(device("A001", { connectTimeout: 2_000 }, own.port)).rejects.toThrow();
    // Nothing of the broker's left: no more handles than before (a timer of something else may end meanwhile).
    await expect.poll(() => tcpHandles() <= before.tcp && timers() <= before.timers).toBe(true);
  });
});
