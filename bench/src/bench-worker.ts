import { readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { performance } from "node:perf_hooks";
import { loadConfig, MqttCommandPublisher, openPorts } from "@mcs/platform";
import { MqttIngest, startWorker, type MessageSource } from "@mcs/worker";
import { Histogram, publishTimeOf } from "./histogram.ts";
import { serveIpc } from "./ipc.ts";
import { memoryOf } from "./proc-stats.ts";

/**
 * The worker under test: what worker/src/main.ts does (loadConfig → openPorts → MqttIngest
 * and MqttCommandPublisher → startWorker), with one addition: the MqttIngest's messages are wrapped so that each
 * `ack()` (which the processor calls right after the batch's commit) records
 * now − the reading's publish time. Nothing else differs from the product's code path.
 *
 * Env as the worker process (DATABASE_URL, REDIS_URL, MQTT_URL, MQTT_CA, MQTT_CLIENT_ID),
 * plus the tuning knobs the product exposes as options:
 * BENCH_RECEIVE_MAXIMUM (MqttIngestOptions.receiveMaximum), BENCH_BATCH_MESSAGES,
 * BENCH_BATCH_READINGS, BENCH_LINGER_MS (ProcessorOptions via startWorker's `batch`).
 */
const numberEnv = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);

// BENCH_HEAP_PROFILE=<file>: sample every allocation site (also of objects the GC has
// collected since) from the start, and write the profile there on stop.
const heapProfile = process.env.BENCH_HEAP_PROFILE;
const inspector = heapProfile ? new Session() : undefined;
if (inspector) {
  inspector.connect();
  await inspector.post("HeapProfiler.startSampling", {
    samplingInterval: 16_384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  } as never);
}

const config = loadConfig();
if (!config.mqttUrl || !config.databaseUrl) throw new Error("bench worker needs MQTT_URL and DATABASE_URL");
const ports = await openPorts(config);
const ca = config.mqttCa ? readFileSync(config.mqttCa) : undefined;
const ingest = new MqttIngest({ url: config.mqttUrl, ca, clientId: config.mqttClientId, receiveMaximum: numberEnv("BENCH_RECEIVE_MAXIMUM") });
// As worker/src/main.ts: commands to devices go out on a connection of their own.
const commands = new MqttCommandPublisher({ url: config.mqttUrl, ca, clientId: `${config.mqttClientId}-cmd` });

const latency = new Histogram();
/** Publish → handed to the processor: the broker's and the transport's share of the latency. */
const delivery = new Histogram();
let acked = 0;
let firstAckAt = 0;
let lastAckAt = 0;
let elu = performance.eventLoopUtilization();

/** Date.now() once per synchronous run (a socket chunk's messages, a commit's acks), not once per message. */
let cachedNow = 0;
function now(): number {
  if (cachedNow === 0) {
    cachedNow = Date.now();
    queueMicrotask(() => (cachedNow = 0));
  }
  return cachedNow;
}

function onAck(publishedAt: number): void {
  const at = now();
  acked++;
  if (firstAckAt === 0) firstAckAt = at;
  lastAckAt = at;
  latency.record(at - publishedAt);
}

let delivered = 0;
const source: MessageSource = {
  get connected() {
    return ingest.connected;
  },
  start: (deliver) =>
    ingest.start((message) => {
      // The processor gets MqttIngest's own message object, as in worker/src/main.ts; only
      // its ack() is wrapped to note the time (one closure per message: the bench's overhead).
      const publishedAt = publishTimeOf(message.payload);
      if ((++delivered & 7) === 0) delivery.record(now() - publishedAt); // 1 in 8 is plenty
      const ack = message.ack;
      (message as { ack: () => void }).ack = () => {
        ack();
        onAck(publishedAt);
      };
      deliver(message);
    }),
  stop: () => ingest.stop(),
};

/**
 * BENCH_WIRE_COUNT=1: counts the PUBLISH packets on the worker's socket with a framing parser
 * of its own (a second 'data' listener on MqttIngest's private socket), to tell a message the
 * broker never sent from one the ingest's parser did not deliver. Diagnostics only.
 */
let wirePublishes = 0;
if (process.env.BENCH_WIRE_COUNT === "1") {
  ingest.on("connected", () => {
    const socket = (ingest as unknown as { conn?: { socket: import("node:net").Socket } }).conn?.socket;
    if (!socket) return;
    let need = 0; // bytes of the current packet's body still to skip
    let header: number[] = []; // type byte and remaining-length bytes of a packet being framed
    socket.on("data", (chunk: Buffer) => {
      let i = 0;
      while (i < chunk.length) {
        if (need > 0) {
          const skip = Math.min(need, chunk.length - i);
          need -= skip;
          i += skip;
          continue;
        }
        header.push(chunk[i++]!);
        if (header.length >= 2 && (header[header.length - 1]! & 0x80) === 0) {
          let length = 0;
          for (let k = header.length - 1; k >= 1; k--) length = length * 128 + (header[k]! & 0x7f);
          if (header[0]! >> 4 === 3) wirePublishes++;
          need = length;
          header = [];
        }
      }
    });
  });
}

const batch = {
  maxBatchMessages: numberEnv("BENCH_BATCH_MESSAGES"),
  maxBatchReadings: numberEnv("BENCH_BATCH_READINGS"),
  lingerMs: numberEnv("BENCH_LINGER_MS"),
};
const worker = await startWorker({ ...ports, source, commands, batch: Object.values(batch).some((v) => v !== undefined) ? batch : undefined });

serveIpc({
  progress: () => ({
    at: Date.now(),
    acked,
    received: worker.processor.stats.received,
    held: ingest.counters.held,
    rssMb: memoryOf(process.pid)?.rssMb,
    heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20,
  }),
  stats: () => ({
    processor: worker.processor.stats,
    ingest: ingest.counters,
    wirePublishes,
    acked,
    firstAckAt,
    lastAckAt,
    latency: latency.toJSON(),
    delivery: delivery.toJSON(),
    memory: memoryOf(process.pid),
    heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20,
    eventLoopUtilization: performance.eventLoopUtilization(elu).utilization,
  }),
  /** Drops the MQTT connection as a network failure would; the ingest reconnects and the broker redelivers what it holds. */
  reconnect() {
    ingest.dropConnection();
    return true;
  },
  reset() {
    acked = 0;
    firstAckAt = 0;
    lastAckAt = 0;
    latency.reset();
    delivery.reset();
    elu = performance.eventLoopUtilization();
    return true;
  },
  async stop() {
    await worker.stop();
    await commands.close();
    await ports.close();
    if (inspector && heapProfile) {
      const { profile } = await inspector.post("HeapProfiler.stopSampling");
      writeFileSync(heapProfile, JSON.stringify(profile));
    }
    // Exit on the next turn (after this answer is sent): --cpu-prof writes its profile then.
    setTimeout(() => process.exit(0), 50);
    return true;
  },
});
process.send!({ ready: true });
