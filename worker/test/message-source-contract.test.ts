import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCertificates, startEmbeddedBroker, type EmbeddedBroker } from "@mcs/platform";
import { startMosquitto, type MosquittoInstance } from "../../test-support/mosquitto.ts";
import { AedesSource } from "../src/ingest/aedes-source.ts";
import type { InboundMessage, MessageSource } from "../src/ingest/message-source.ts";
import { MqttIngest } from "../src/ingest/mqtt-ingest.ts";

const DEVICES: Record<string, string> = { C001: "pw-C001-secret", C002: "pw-C002-secret" };

/** One broker and its way into the worker: what the contract is run against. */
interface BrokerUnderTest {
  source(): MessageSource;
  device(sn: string, options?: mqtt.IClientOptions): Promise<MqttClient>;
  close(): Promise<void>;
}

const implementations: [string, () => Promise<BrokerUnderTest>][] = [
  [
    "Mosquitto (project config) + the lean MQTT 5 connection",
    async () => {
      const broker: MosquittoInstance = await startMosquitto({ users: { "mcs-worker": "worker-pw-contract", ...DEVICES } });
      return {
        source: () => new MqttIngest({ url: broker.url("tls", "mcs-worker", "worker-pw-contract"), ca: broker.ca, clientId: "contract-worker" }),
        device: (sn, options) => mqtt.connectAsync(broker.url("tls", sn, DEVICES[sn]), { ca: broker.ca, protocolVersion: 4, ...options }),
        close: () => broker.stop(),
      };
    },
  ],
  [
    "embedded Aedes + the in-process source",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "mcs-contract-"));
      const certs = await ensureCertificates(dir);
      const broker: EmbeddedBroker = await startEmbeddedBroker({ port: 0, host: "127.0.0.1", certs, authenticate: async (u, p) => DEVICES[u] === p });
      return {
        source: () => new AedesSource(broker),
        device: (sn, options) =>
          mqtt.connectAsync(`mqtts://localhost:${broker.port}`, { username: sn, password: DEVICES[sn], ca: certs.ca, protocolVersion: 4, ...options }),
        async close() {
          await broker.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  ],
];

// DESIGN "Two ways to run, one code base": the Broker port's two implementations pass the same tests.
describe.each(implementations)("the broker port: %s", (_name, open) => {
  let broker: BrokerUnderTest;
  let source: MessageSource;
  const received: InboundMessage[] = [];
  const payloads = (topic: string) => received.filter((m) => m.topic === topic).map((m) => m.payload.toString());

  beforeAll(async () => {
    broker = await open();
    source = broker.source();
    await source.start((message) => {
      received.push(message);
      message.ack();
    });
    expect(source.connected).toBe(true);
  });
  afterAll(async () => {
    await source?.stop();
    await broker?.close();
  });

  it("delivers a device's QoS 1 reading with its topic and payload", async () => {
    const device = await broker.device("C001");
    await device.publishAsync("mcs/C001/up", '{"ts":1,"seq":1,"v_raw":1}', { qos: 1 });
    await expect.poll(() => payloads("mcs/C001/up")).toEqual(['{"ts":1,"seq":1,"v_raw":1}']);
    await device.endAsync();
  });

  it("delivers a backlog array of 1000 readings (about 60 KB) as one message", async () => {
    const device = await broker.device("C001");
    const backlog = JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ ts: 1_700_000_000 + i, seq: i, v_raw: i / 3 })));
    await device.publishAsync("mcs/C001/up", backlog, { qos: 1 });
    await expect.poll(() => payloads("mcs/C001/up")).toContain(backlog);
    await device.endAsync();
  });

  it("delivers nothing a device publishes on another device's topic", async () => {
    const intruder = await broker.device("C001", { reconnectPeriod: 0 });
    intruder.on("error", () => {});
    intruder.publish("mcs/C002/up", '{"forged":true}', { qos: 1 });
    const honest = await broker.device("C002");
    await honest.publishAsync("mcs/C002/up", '{"honest":true}', { qos: 1 });
    await expect.poll(() => payloads("mcs/C002/up")).toContain('{"honest":true}');
    expect(payloads("mcs/C002/up")).not.toContain('{"forged":true}');
    intruder.end(true);
    await honest.endAsync();
  });

  it("delivers a device's status, and its will when the connection dies", async () => {
    const will = { topic: "mcs/C002/status", payload: Buffer.from('{"online":false}'), qos: 1 as const, retain: true };
    const device = await broker.device("C002", { will, keepalive: 5, reconnectPeriod: 0 });
    await device.publishAsync("mcs/C002/status", '{"online":true,"fw":"1.0.0","boot":1}', { qos: 1, retain: true });
    await expect.poll(() => payloads("mcs/C002/status")).toContain('{"online":true,"fw":"1.0.0","boot":1}');
    (device as unknown as { stream: { destroy(): void } }).stream.destroy(); // the link dies: no DISCONNECT
    await expect.poll(() => payloads("mcs/C002/status"), { timeout: 15_000 }).toContain('{"online":false}');
    device.end(true);
  });
});
