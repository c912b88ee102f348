import { connect as tlsConnect } from "node:tls";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, type MosquittoInstance } from "../../test-support/mosquitto.ts";
import { MqttIngest, type MqttInboundMessage, type MqttIngestOptions } from "../src/ingest/mqtt-ingest.ts";

// Integration tests of the worker's MQTT consumer against the real Mosquitto 2.0.11, started
// with the project's own deploy/mosquitto/mosquitto.conf and acl (TLS 1.3, password file,
// ACL, persistence). Devices are MQTT.js clients over TLS. No timing assertions: waits have
// deadlines only so that a failure is reported instead of hanging.

const USERS: Record<string, string> = {
  "mcs-worker": "worker-secret-0f3a9c",
  "mcs-backend": "backend-secret-7d21e4",
  A001: "device-secret-a001",
  A002: "device-secret-a002",
  P1: "device-secret-p1",
  P2: "device-secret-p2",
  P3: "device-secret-p3",
  P4: "device-secret-p4",
};

let broker: MosquittoInstance;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  broker = await startMosquitto({ users: USERS });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await broker?.stop();
});

interface TestConsumer {
  ingest: MqttIngest;
  received: MqttInboundMessage[];
  start(): Promise<void>;
}

/** A worker consumer; `autoAck` acknowledges each message on receipt. Its session is removed after the test. */
function consumer(clientId: string, group: string | null, options: Partial<MqttIngestOptions> & { kind?: "tls" | "plain"; password?: string; autoAck?: boolean } = {}): TestConsumer {
  const { kind = "plain", password = USERS["mcs-worker"], autoAck = false, ...rest } = options;
  const ingest = new MqttIngest({
    url: broker.url(kind, "mcs-worker", password),
    ca: broker.ca,
    clientId,
    group,
    reconnectMinMs: 20,
    reconnectMaxMs: 200,
    ...rest,
  });
  const received: MqttInboundMessage[] = [];
  cleanups.push(async () => {
    await ingest.stop();
    await forgetSession(clientId);
  });
  return {
    ingest,
    received,
    start: () =>
      ingest.start((message) => {
        received.push(message);
        if (autoAck) message.ack();
      }),
  };
}

/** Ends a consumer's persistent session, so that its group stops getting a share of later tests' messages. */
async function forgetSession(clientId: string): Promise<void> {
  const client = await mqtt.connectAsync(broker.url("plain"), {
    username: "mcs-worker",
    password: USERS["mcs-worker"],
    clientId,
    clean: true,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 0 },
    reconnectPeriod: 0,
  });
  await client.endAsync();
}

/** A detector: MQTT over TLS with its serial number and secret (MQTT 3.1.1 unless asked for 5). */
async function device(sn: string, protocolVersion: 4 | 5 = 4, password = USERS[sn]): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url("tls"), {
    ca: broker.ca,
    username: sn,
    password,
    clientId: `${sn}-${Math.random().toString(16).slice(2, 10)}`,
    protocolVersion,
    reconnectPeriod: 0,
  });
  cleanups.push(() => client.endAsync(true).then(() => undefined));
  return client;
}

function reading(seq: number, pad = 0): string {
  return JSON.stringify({ ts: 1733040000 + seq, seq, v_raw: 1.234, temp: 25.1, humi: 45.2, bat: 3.92, rssi: -67, err: 0, ...(pad ? { pad: "x".repeat(pad) } : {}) });
}

/** Publishes readings `from`…`to` of `sn` at QoS 1 and resolves when the broker has PUBACKed them all. */
async function publishReadings(client: MqttClient, sn: string, from: number, to: number, pad = 0): Promise<void> {
  for (let start = from; start <= to; start += 500) {
    const end = Math.min(to, start + 499);
    await Promise.all(Array.from({ length: end - start + 1 }, (_, i) => client.publishAsync(`mcs/${sn}/up`, reading(start + i, pad), { qos: 1 })));
  }
}

const seqOf = (message: MqttInboundMessage): number => (JSON.parse(message.payload.toString()) as { seq: number }).seq;
const snOf = (message: MqttInboundMessage): string => message.topic.split("/")[1]!;
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for: ${what}`);
    await sleep(5);
  }
}

describe("MqttIngest on the project's Mosquitto (TLS 1.3, password file, ACL)", () => {
  it("acknowledges nothing before ack(): after its connection drops, the broker redelivers every unacknowledged message, and pings keep the connection up while acks are held", async () => {
    const worker = consumer("a-1", "a", { kind: "tls", keepalive: 2 });
    await worker.start();
    const a001 = await device("A001");
    await publishReadings(a001, "A001", 1, 10);
    await waitFor(() => worker.received.length === 10, "10 messages");

    // Mosquitto drops a client that sends nothing for 1.5 × keepalive (3 s); hold the acks longer.
    await sleep(4_500);
    expect(worker.ingest.connected).toBe(true);
    expect(worker.ingest.counters).toMatchObject({ connects: 1, acked: 0, held: 10 });

    const firstDelivery = worker.received.splice(0);
    worker.ingest.dropConnection();
    await waitFor(() => worker.received.length === 10, "the 10 messages again");
    expect(worker.ingest.counters.connects).toBe(2);
    expect(worker.received.map(seqOf)).toEqual(range(1, 10));
    expect(worker.received.every((m) => m.dup)).toBe(true);

    // Acks of the dropped connection go nowhere; those of the new one are written.
    for (const message of firstDelivery) message.ack();
    await sleep(20);
    expect(worker.ingest.counters).toMatchObject({ acked: 0, ackDropped: 10 });
    for (const message of worker.received.splice(0)) message.ack();
    await waitFor(() => worker.ingest.counters.acked === 10, "10 PUBACKs written");

    // Now the broker has them: after another drop, the next message is a new one, not a redelivery.
    worker.ingest.dropConnection();
    await waitFor(() => worker.ingest.counters.connects === 3 && worker.ingest.connected, "third connection");
    await publishReadings(a001, "A001", 11, 11);
    await waitFor(() => worker.received.length > 0, "reading 11");
    expect(worker.received.map(seqOf)).toEqual([11]);
  });

  it("writes PUBACKs in arrival order: an ack() that comes early is held until every earlier message is acknowledged", async () => {
    const worker = consumer("b-1", "b");
    await worker.start();
    const a001 = await device("A001");
    await publishReadings(a001, "A001", 1, 3);
    await waitFor(() => worker.received.length === 3, "3 messages");
    const [m1, m2, m3] = worker.received.splice(0);
    expect([m1, m2, m3].map((m) => seqOf(m!))).toEqual([1, 2, 3]);

    m3!.ack();
    m2!.ack();
    await sleep(20);
    expect(worker.ingest.counters.acked).toBe(0);

    // The broker got no PUBACK for 2 or 3 either: all three come back.
    worker.ingest.dropConnection();
    await waitFor(() => worker.received.length === 3, "3 redelivered messages");
    const [r1, r2, r3] = worker.received.splice(0);
    expect([r1, r2, r3].map((m) => seqOf(m!))).toEqual([1, 2, 3]);

    r3!.ack();
    r1!.ack();
    await sleep(20);
    expect(worker.ingest.counters.acked).toBe(1);
    r2!.ack();
    await waitFor(() => worker.ingest.counters.acked === 3, "all 3 PUBACKs");

    worker.ingest.dropConnection();
    await waitFor(() => worker.ingest.counters.connects === 3 && worker.ingest.connected, "third connection");
    await publishReadings(a001, "A001", 4, 4);
    await waitFor(() => worker.received.length > 0, "reading 4");
    expect(worker.received.map(seqOf)).toEqual([4]);
  });

  it("splits the load between two consumers of the same group, each message delivered to exactly one", async () => {
    const first = consumer("c-1", "c", { autoAck: true });
    const second = consumer("c-2", "c", { autoAck: true });
    await Promise.all([first.start(), second.start()]);
    const [a001, a002] = await Promise.all([device("A001"), device("A002", 5)]);
    await Promise.all([publishReadings(a001, "A001", 1, 200), publishReadings(a002, "A002", 1, 200)]);
    await waitFor(() => first.received.length + second.received.length === 400, "400 deliveries");

    const key = (m: MqttInboundMessage) => `${snOf(m)}#${seqOf(m)}`;
    const keysOfFirst = new Set(first.received.map(key));
    const keysOfSecond = new Set(second.received.map(key));
    expect(new Set([...keysOfFirst, ...keysOfSecond]).size).toBe(400);
    expect([...keysOfFirst].filter((k) => keysOfSecond.has(k))).toEqual([]);
    expect(first.received.length).toBeGreaterThan(0);
    expect(second.received.length).toBeGreaterThan(0);
  });

  it("keeps a stopped consumer's share queued: 5,000 messages published while it is away all arrive when it comes back with the same client id", async () => {
    const before = consumer("d-1", "d");
    await before.start();
    await before.ingest.stop();

    const a001 = await device("A001");
    await publishReadings(a001, "A001", 1, 5_000);

    const after = consumer("d-1", "d", { autoAck: true });
    await after.start();
    await waitFor(() => after.received.length >= 5_000, "5,000 queued messages");
    expect(after.received.map(seqOf)).toEqual(range(1, 5_000));
    await waitFor(() => after.ingest.counters.acked === 5_000, "5,000 PUBACKs");
  });

  it("survives a broker restart: reconnects by itself, gets back what it had not acknowledged, and continues", async () => {
    const worker = consumer("e-1", "e");
    const connections: boolean[] = [];
    worker.ingest.on("connected", ({ sessionPresent }) => connections.push(sessionPresent));
    await worker.start();
    const before = await device("A001");
    await publishReadings(before, "A001", 1, 100);
    await waitFor(() => worker.received.length === 100, "100 messages");
    for (const message of worker.received.slice(0, 50)) message.ack();
    await waitFor(() => worker.ingest.counters.acked === 50, "50 PUBACKs");
    // Written is not yet read: on a loaded machine the broker may still have the PUBACKs in
    // its socket buffer when SIGTERM comes, and then rightly sends those messages again.
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    await broker.restart();
    await waitFor(() => worker.ingest.counters.connects === 2 && worker.ingest.connected, "reconnection after the restart");
    expect(connections).toEqual([false, true]); // the session came back from the broker's persistence file

    const after = await device("A001");
    await publishReadings(after, "A001", 101, 200);
    await waitFor(() => new Set(worker.received.map(seqOf)).size === 200, "all 200 readings");
    const afterRestart = worker.received.slice(100);
    expect(afterRestart.map(seqOf)).toEqual(range(51, 200));
    expect(afterRestart.slice(0, 50).every((m) => m.dup)).toBe(true);
    for (const message of afterRestart) message.ack();
    await waitFor(() => worker.ingest.counters.acked === 200, "200 PUBACKs");
  });

  it("without a share group, keeps its subscription through a broker restart: readings published before the worker is back are delivered", async () => {
    // Mosquitto 2.0.x does not restore a persistent session's $share subscriptions after a
    // restart; a plain subscription is restored, which is why a single worker runs without a group.
    const first = consumer("f-1", null, { autoAck: true });
    await first.start();
    await first.ingest.stop();
    await broker.restart();
    const sender = await device("A002");
    await publishReadings(sender, "A002", 1, 10);
    await sender.endAsync();
    const back = consumer("f-1", null, { autoAck: true });
    await back.start();
    await waitFor(() => back.received.length === 10, "the 10 readings published while the worker was away");
    expect(back.received.map(seqOf)).toEqual(range(1, 10));
  });

  it("enforces the ACL: a device's publish to another device's topic never reaches the worker, a device gets no other device's commands or readings, and a wrong password is refused", async () => {
    const worker = consumer("f-1", "f", { autoAck: true });
    await worker.start();

    // MQTT 5 publishers are told (reason code 135); MQTT 3.1.1 ones get a PUBACK and the message is dropped.
    const a001v5 = await device("A001", 5);
    await expect(a001v5.publishAsync("mcs/A002/up", reading(1), { qos: 1 })).rejects.toThrow(/not authorized/i);
    const a001 = await device("A001");
    await a001.publishAsync("mcs/A002/up", reading(2), { qos: 1 });
    await a001.publishAsync("mcs/A002/status", JSON.stringify({ online: false }), { qos: 1 });
    await a001.publishAsync("mcs/A001/up", reading(3), { qos: 1 }); // a marker: delivered after anything published before it
    await waitFor(() => worker.received.length > 0, "the marker reading");
    expect(worker.received.map((m) => `${m.topic} ${seqOf(m)}`)).toEqual(["mcs/A001/up 3"]);

    // 2.0.11's acl_file grants every SUBSCRIBE and checks `read` on delivery, so the proof is what arrives.
    const a001Commands: string[] = [];
    a001v5.on("message", (topic) => a001Commands.push(topic));
    await a001v5.subscribeAsync(["mcs/A002/cmd", "mcs/+/up", "mcs/A001/cmd"], { qos: 1 });
    const a002Commands: string[] = [];
    const a002 = await device("A002");
    a002.on("message", (topic) => a002Commands.push(topic));
    await a002.subscribeAsync("mcs/A002/cmd", { qos: 1 });
    await publishReadings(a002, "A002", 1, 1);
    const backend = await mqtt.connectAsync(broker.url("plain"), { username: "mcs-backend", password: USERS["mcs-backend"], reconnectPeriod: 0 });
    cleanups.push(() => backend.endAsync().then(() => undefined));
    await backend.publishAsync("mcs/A002/cmd", JSON.stringify({ id: "c-2", cmd: "reboot", params: {} }), { qos: 1 });
    await backend.publishAsync("mcs/A001/cmd", JSON.stringify({ id: "c-1", cmd: "reboot", params: {} }), { qos: 1 });
    await waitFor(() => a001Commands.length > 0 && a002Commands.length > 0, "each device's own command");
    expect(a001Commands).toEqual(["mcs/A001/cmd"]);
    expect(a002Commands).toEqual(["mcs/A002/cmd"]);

    await expect(device("A001", 4, "not-the-secret")).rejects.toThrow(/not authorized/i);
    await expect(device("A001", 5, "not-the-secret")).rejects.toThrow(/not authorized/i);
    await expect(device("nobody", 4, "whatever")).rejects.toThrow(/not authorized/i);
  });

  it("serves TLS 1.3 only, with a certificate of the platform's CA", async () => {
    const handshake = (maxVersion: "TLSv1.2" | "TLSv1.3") =>
      new Promise<string>((resolve) => {
        const socket = tlsConnect({ host: "127.0.0.1", port: broker.tlsPort, ca: broker.ca, maxVersion }, () => {
          resolve(socket.getProtocol() ?? "none");
          socket.destroy();
        });
        socket.on("error", (error) => resolve(`refused: ${error.message}`));
      });
    expect(await handshake("TLSv1.3")).toBe("TLSv1.3");
    expect(await handshake("TLSv1.2")).toMatch(/refused: .*protocol version/);
  });

  it("retries with backoff while the broker refuses its password, and connects by itself once the reloaded password file accepts it", async () => {
    const rotated = "worker-secret-rotated-5b8e";
    const worker = consumer("f-2", "f2", { password: rotated });
    const started = worker.start();
    started.catch(() => undefined); // awaited below; if the test fails first, stop() rejects it
    try {
      await waitFor(() => worker.ingest.counters.refused >= 2, "two refused attempts");
      expect(worker.ingest.connected).toBe(false);
      await broker.setUsers({ ...USERS, "mcs-worker": rotated });
      await started;
      expect(worker.ingest.connected).toBe(true);
    } finally {
      await broker.setUsers(USERS);
    }
  });

  it("receives a burst of 20,000 QoS 1 messages from four publishers completely, each exactly once and in each publisher's order, acknowledging in batches", async () => {
    const worker = consumer("g-1", "g");
    const held: MqttInboundMessage[] = [];
    const perDevice = new Map<string, number[]>();
    let deliveries = 0;
    await worker.ingest.start((message) => {
      deliveries++;
      held.push(message);
      const sn = snOf(message);
      const seqs = perDevice.get(sn) ?? [];
      seqs.push(seqOf(message));
      perDevice.set(sn, seqs);
    });
    // A "commit" every 20 ms acknowledges everything received so far, as the processor does.
    const commit = setInterval(() => {
      for (const message of held.splice(0)) message.ack();
    }, 20);
    try {
      const publishers = await Promise.all(["P1", "P2", "P3", "P4"].map((sn) => device(sn)));
      await Promise.all(publishers.map((client, i) => publishReadings(client, `P${i + 1}`, 1, 5_000)));
      await waitFor(() => deliveries >= 20_000, "20,000 deliveries", 40_000);
      for (const sn of ["P1", "P2", "P3", "P4"]) expect(perDevice.get(sn), sn).toEqual(range(1, 5_000));
      await waitFor(() => worker.ingest.counters.acked === 20_000, "20,000 PUBACKs");
      expect(deliveries).toBe(20_000);
    } finally {
      clearInterval(commit);
    }
  });

  it("holds at most about receiveMaximum unacknowledged messages, although Mosquitto 2.0.11 keeps sending after the first PUBACK", async () => {
    const before = consumer("h-1", "h", { receiveMaximum: 100 });
    await before.start();
    await before.ingest.stop();
    const a001 = await device("A001");
    await publishReadings(a001, "A001", 1, 1_000, 2_000);

    const worker = consumer("h-1", "h", { receiveMaximum: 100 });
    let mostHeld = 0;
    const held: MqttInboundMessage[] = [];
    // start() resolves with nothing acknowledged yet, though the socket is paused with the
    // SUBACK somewhere behind the backlog: the session present at the CONNACK already subscribes.
    await worker.ingest.start((message) => {
      held.push(message);
      worker.received.push(message);
      mostHeld = Math.max(mostHeld, worker.ingest.counters.held);
    });
    const commit = setInterval(() => {
      for (const message of held.splice(0)) message.ack();
    }, 20);
    try {
      await waitFor(() => worker.received.length >= 1_000, "1,000 messages");
      expect(worker.received.map(seqOf)).toEqual(range(1, 1_000));
      // 100, plus what one socket read delivers before the pause (2 KB messages: a few dozen).
      expect(mostHeld).toBeLessThanOrEqual(200);
      expect(worker.ingest.counters.pauses).toBeGreaterThan(0);
    } finally {
      clearInterval(commit);
    }
  });
});
