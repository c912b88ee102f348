import { readFileSync } from "node:fs";
import { MqttIngest } from "@mcs/worker";
import { Histogram, publishTimeOf } from "./histogram.ts";
import { serveIpc } from "./ipc.ts";

/**
 * The "subscriber that does nothing" of the raw broker rate: the worker's own MQTT
 * connection (MqttIngest: MQTT 5, a shared subscription, the same receive maximum)
 * acknowledging every message the moment it arrives. What it receives per second is the most
 * the broker can hand the worker on this machine with these publishers.
 *
 * Its share group is `bench-sink` (BENCH_SINK_GROUP), not the worker's `workers`: measured on
 * Mosquitto 2.0.11, after a member with session expiry 0 leaves `$share/workers/...`, the
 * broker still hands it every other message of the group's next ~40 and drops them (having
 * PUBACKed them to the publishers), so the worker's first phase lost readings. A group of its
 * own keeps the sink's leftovers out of the worker's way.
 *
 * Env: MQTT_URL, MQTT_CA (PEM file, for mqtts), BENCH_RECEIVE_MAXIMUM, BENCH_SINK_GROUP.
 */
const url = process.env.MQTT_URL;
if (!url) throw new Error("MQTT_URL is required");

const latency = new Histogram();
let received = 0;
let firstAt = 0;
let lastAt = 0;

const ingest = new MqttIngest({
  url,
  ca: process.env.MQTT_CA ? readFileSync(process.env.MQTT_CA) : undefined,
  clientId: "bench-sink",
  group: process.env.BENCH_SINK_GROUP || "bench-sink",
  receiveMaximum: process.env.BENCH_RECEIVE_MAXIMUM ? Number(process.env.BENCH_RECEIVE_MAXIMUM) : undefined,
  // No session left behind: once this sink disconnects, the broker must not keep queueing
  // messages for it.
  sessionExpiry: 0,
});

await ingest.start((message) => {
  const now = Date.now();
  received++;
  if (firstAt === 0) firstAt = now;
  lastAt = now;
  latency.record(now - publishTimeOf(message.payload));
  message.ack();
});

serveIpc({
  stats: () => ({ received, firstAt, lastAt, latency: latency.toJSON(), ingest: ingest.counters }),
  reset() {
    received = 0;
    firstAt = 0;
    lastAt = 0;
    latency.reset();
    return true;
  },
  async stop() {
    await ingest.stop();
    setImmediate(() => process.exit(0));
    return true;
  },
});
process.send!({ ready: true });
