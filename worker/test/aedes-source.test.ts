import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from "../../packages/platform/src/broker/aedes-broker.ts";
import { ensureCertificates, type CertificateFiles } from "../../packages/platform/src/broker/certs.ts";
import { AedesSource } from "../src/ingest/aedes-source.ts";
import type { InboundMessage } from "../src/ingest/message-source.ts";

const password = (sn: string) => `pw-${sn}`;

let dir: string;
let certs: CertificateFiles;
let running: { broker: EmbeddedBroker; source: AedesSource; clients: MqttClient[] } | null = null;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mcs-aedes-source-test-"));
  certs = await ensureCertificates(join(dir, "certs"));
});

afterEach(async () => {
  if (!running) return;
  await Promise.all(running.clients.map((c) => c.endAsync(true)));
  await running.source.stop();
  await running.broker.close();
  running = null;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A broker, an AedesSource on it, and the messages it delivers (not acknowledged). */
async function start(options: Partial<EmbeddedBrokerOptions> = {}) {
  const broker = await startEmbeddedBroker({
    port: 0,
    host: "127.0.0.1",
    certs,
    authenticate: async (sn, pw) => pw === password(sn),
    ...options,
  });
  const source = new AedesSource(broker);
  const inbox: InboundMessage[] = [];
  await source.start((message) => inbox.push(message));
  const clients: MqttClient[] = [];
  running = { broker, source, clients };
  const device = async (sn: string) => {
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker.port}`, {
      ca: certs.ca,
      username: sn,
      password: password(sn),
      clientId: sn,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    clients.push(client);
    return client;
  };
  return { broker, source, inbox, device };
}

/** A round trip on the device's connection: whatever the broker sent before it has arrived. */
async function roundTrip(client: MqttClient, sn: string): Promise<void> {
  await client.subscribeAsync(`mcs/${sn}/cmd`, { qos: 1 });
}

const reading = (sn: string, seq: number) => JSON.stringify({ sn, ts: 1733040000, seq, v_raw: 1.234, temp: 25.1, humi: 45.2, bat: 3.92, rssi: -67, err: 0 });
const seqOf = (message: InboundMessage) => (JSON.parse(message.payload.toString()) as { seq: number }).seq;

describe("AedesSource (the embedded mode's message source)", () => {
  it("delivers each device publish on up, status and ack, and is connected while the broker runs", async () => {
    const { broker, source, inbox, device } = await start();
    expect(source.connected).toBe(true);
    const client = await device("A001");
    await client.publishAsync("mcs/A001/up", reading("A001", 1), { qos: 0 });
    await client.publishAsync("mcs/A001/status", '{"online":true}', { qos: 0, retain: true });
    await client.publishAsync("mcs/A001/ack", '{"id":"c1","ok":true,"msg":""}', { qos: 0 });
    await expect.poll(() => inbox.map((m) => m.topic)).toEqual(["mcs/A001/up", "mcs/A001/status", "mcs/A001/ack"]);
    expect(inbox[2]!.payload.toString()).toBe('{"id":"c1","ok":true,"msg":""}');
    for (const message of inbox) message.ack(); // QoS 0: nothing to send, nothing breaks
    await broker.close();
    expect(source.connected).toBe(false);
  });

  it("holds a QoS 1 message's PUBACK until ack(): the device's publish completes only then", async () => {
    const { inbox, device } = await start();
    const client = await device("A001");
    let completed = false;
    const publishing = client.publishAsync("mcs/A001/up", reading("A001", 1), { qos: 1 }).then(() => (completed = true));
    await expect.poll(() => inbox.length).toBe(1);
    await roundTrip(client, "A001"); // a PUBACK sent before this would have arrived by now
    expect(completed).toBe(false);
    inbox[0]!.ack();
    await publishing;
    expect(completed).toBe(true);
  });

  it("holds a QoS 2 message's PUBREC until ack() as well", async () => {
    const { inbox, device } = await start();
    const client = await device("A001");
    let completed = false;
    const publishing = client.publishAsync("mcs/A001/ack", '{"id":"c2","ok":true}', { qos: 2 }).then(() => (completed = true));
    await expect.poll(() => inbox.length).toBe(1);
    await roundTrip(client, "A001");
    expect(completed).toBe(false);
    inbox[0]!.ack();
    await publishing;
    expect(inbox.length).toBe(1);
  });

  it("keeps reading a device while its earlier messages wait for their commit", async () => {
    const { inbox, device } = await start();
    const client = await device("A001");
    let completed = 0;
    const publishing = Array.from({ length: 300 }, (_, i) =>
      client.publishAsync("mcs/A001/up", reading("A001", i), { qos: 1 }).then(() => completed++),
    );
    await expect.poll(() => inbox.length).toBe(300);
    expect(completed).toBe(0);
    for (const message of inbox) message.ack();
    await Promise.all(publishing);
    expect(completed).toBe(300);
  });

  it("sends a device its PUBACKs in arrival order, whatever the order of the acks", async () => {
    const { inbox, device } = await start();
    const client = await device("A001");
    const completedOrder: number[] = [];
    const publishing = [0, 1, 2].map((seq) =>
      client.publishAsync("mcs/A001/up", reading("A001", seq), { qos: 1 }).then(() => completedOrder.push(seq)),
    );
    await expect.poll(() => inbox.length).toBe(3);
    expect(inbox.map(seqOf)).toEqual([0, 1, 2]);
    inbox[2]!.ack();
    await roundTrip(client, "A001");
    expect(completedOrder).toEqual([]);
    inbox[0]!.ack();
    await expect.poll(() => completedOrder).toEqual([0]);
    inbox[1]!.ack();
    await Promise.all(publishing);
    expect(completedOrder).toEqual([0, 1, 2]);
  });

  it("lets other devices' messages flow while one device's batch is held", async () => {
    const { inbox, device } = await start();
    const held = await device("A001");
    const others = await Promise.all(["B002", "C003", "D004"].map((sn) => device(sn)));
    let heldCompleted = 0;
    const heldPublishing = Array.from({ length: 100 }, (_, i) =>
      held.publishAsync("mcs/A001/up", reading("A001", i), { qos: 1 }).then(() => heldCompleted++),
    );
    await expect.poll(() => inbox.length).toBe(100);

    // A commit that takes every device's messages but A001's.
    const committer = setInterval(() => {
      for (const message of inbox) if (!message.topic.startsWith("mcs/A001/")) message.ack();
    }, 5);
    try {
      await Promise.all(
        others.flatMap((client, n) =>
          Array.from({ length: 50 }, (_, i) => client.publishAsync(`mcs/${["B002", "C003", "D004"][n]}/up`, reading("x", i), { qos: 1 })),
        ),
      );
    } finally {
      clearInterval(committer);
    }
    expect(inbox.length).toBe(250);
    expect(heldCompleted).toBe(0);
    for (const message of inbox) message.ack();
    await Promise.all(heldPublishing);
  });

  it("stops reading a device that has too many unacknowledged messages until some are acknowledged, losing none", async () => {
    const { source, device } = await start({ maxUnackedPerDevice: 10 });
    await source.stop();
    const fromGreedy: InboundMessage[] = [];
    const fromOther: InboundMessage[] = [];
    let acked = 0;
    let mostUnacked = 0;
    await source.start((message) => {
      if (message.topic !== "mcs/A001/up") return fromOther.push(message);
      fromGreedy.push(message);
      mostUnacked = Math.max(mostUnacked, fromGreedy.length - acked);
    });
    const greedy = await device("A001");
    const other = await device("B002");
    const publishing = Array.from({ length: 50 }, (_, i) => greedy.publishAsync("mcs/A001/up", reading("A001", i), { qos: 1 }));
    await expect.poll(() => fromGreedy.length).toBe(10);

    // Another device is not held up by it.
    const otherPublishing = other.publishAsync("mcs/B002/up", reading("B002", 0), { qos: 1 });
    await expect.poll(() => fromOther.length).toBe(1);
    fromOther[0]!.ack();
    await otherPublishing;
    expect(fromGreedy.length).toBe(10);

    // The "worker" commits what it has, batch after batch, until all 50 are in.
    while (acked < 50) {
      await expect.poll(() => fromGreedy.length).toBeGreaterThan(acked);
      const batch = fromGreedy.slice(acked);
      acked += batch.length;
      for (const message of batch) message.ack();
    }
    await Promise.all(publishing);
    expect(mostUnacked).toBe(10);
    expect(fromGreedy.map(seqOf)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("delivers 10,000 QoS 1 messages from several publishers exactly once, each acknowledged after its batch commit", async () => {
    const { inbox, device } = await start();
    const sns = ["P01", "P02", "P03", "P04", "P05"];
    const clients = await Promise.all(sns.map((sn) => device(sn)));
    const seen = new Map<string, number>();
    let delivered = 0;
    // Batched commits: every 20 ms, take what has arrived and acknowledge it once "written".
    const committer = setInterval(() => {
      const batch = inbox.splice(0);
      for (const message of batch) {
        const { sn, seq } = JSON.parse(message.payload.toString()) as { sn: string; seq: number };
        seen.set(`${sn}/${seq}`, (seen.get(`${sn}/${seq}`) ?? 0) + 1);
        delivered++;
      }
      setTimeout(() => batch.forEach((message) => message.ack()), 20);
    }, 20);
    try {
      await Promise.all(
        clients.flatMap((client, n) =>
          Array.from({ length: 2000 }, (_, seq) => client.publishAsync(`mcs/${sns[n]}/up`, reading(sns[n]!, seq), { qos: 1 })),
        ),
      );
    } finally {
      clearInterval(committer);
    }
    expect(delivered).toBe(10_000);
    expect(seen.size).toBe(10_000);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
  });

  it("after stop(), keeps new messages unacknowledged for the next start, which gets them", async () => {
    const { source, inbox, device } = await start();
    const client = await device("A001");
    await source.stop();
    let completed = false;
    const publishing = client.publishAsync("mcs/A001/up", reading("A001", 7), { qos: 1 }).then(() => (completed = true));
    await roundTrip(client, "A001");
    expect(inbox).toEqual([]);
    expect(completed).toBe(false);

    const later: InboundMessage[] = [];
    await source.start((message) => later.push(message));
    expect(later.map(seqOf)).toEqual([7]);
    later[0]!.ack();
    await publishing;
  });
});
