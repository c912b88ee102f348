import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createPgDb, DeviceStore, hashMosquittoPassword, migrate, type Db } from "@mcs/platform";
import { startMosquitto, type MosquittoInstance } from "../../test-support/mosquitto.ts";
import { startPostgres } from "../../test-support/postgres.ts";
import { startRedis } from "../../test-support/redis.ts";
import { formatProfile, summarizeProfile, type ProfileSummary } from "./cpu-profile.ts";
import { Histogram, type HistogramData } from "./histogram.ts";
import { forkChild, type ChildHandle } from "./ipc.ts";
import { CpuMeter, findPids, processTree } from "./proc-stats.ts";
import type { RunParams, RunResult } from "./publisher.ts";
import { cleanupOnExit } from "./cleanup.ts";

/**
 * `npm run bench`: the ingest budgets of docs DESIGN.md ("Budgets"), measured on this
 * machine, everything on loopback. See bench/README.md for what each figure means.
 *
 *   services mode  throwaway PostgreSQL + Redis + Mosquitto (the project's config), N
 *                  registered devices publishing over TLS from child processes, and the
 *                  real worker code in a child process:
 *     A  raw broker rate: the publishers at full speed into a subscriber that acks at once
 *     C  publish→commit latency at a fixed rate the worker sustains (default 10,000/s)
 *     B  the worker's sustained rate at full offered load, then 0 lost / 0 duplicated in PostgreSQL
 *   embedded mode  startServer() (Aedes TLS + PGlite + worker + backend) in a child process,
 *                  the same publishers at full speed
 *
 * Everything is tunable by environment (BENCH_*, listed in the README). The last line of
 * stdout is one JSON object with the headline numbers.
 */

const env = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const DEVICES = env("BENCH_DEVICES", 200);
const PUBLISHERS = env("BENCH_PUBLISHERS", 2);
const WINDOW = env("BENCH_WINDOW", 50);
const BROKER_SECONDS = env("BENCH_BROKER_SECONDS", 12);
const LATENCY_RATE = env("BENCH_RATE", 10_000);
const LATENCY_SECONDS = env("BENCH_LATENCY_SECONDS", 20);
/** C first runs this long at its rate unmeasured (JIT, connection pool, prepared statements), as a running worker would be warm. */
const WARMUP_SECONDS = env("BENCH_WARMUP_SECONDS", 3);
const MAX_SECONDS = env("BENCH_MAX_SECONDS", 20);
const EMBEDDED_SECONDS = env("BENCH_EMBEDDED_SECONDS", 20);
const DRAIN_TIMEOUT_MS = env("BENCH_DRAIN_TIMEOUT_S", 60) * 1000;
const WORKER_TLS = process.env.BENCH_WORKER_TLS === "1";
const PROFILE = process.env.BENCH_PROFILE === "1";
const SKIP_EMBEDDED = process.env.BENCH_SKIP_EMBEDDED === "1";
/** Before starting, wait up to this long for other programs to leave the CPU (< 30 % of one core). */
const QUIET_WAIT_MS = env("BENCH_QUIET_WAIT_S", 20) * 1000;
/** The whole bench is stopped (cleanly, everything killed) if it runs longer than this. */
const DEADLINE_MS = env("BENCH_DEADLINE_S", 330) * 1000;

/** Seq ranges per phase, so each phase's readings can be checked on their own. */
const SEQ_BASE = { broker: 0, latency: 10_000_000, max: 20_000_000, embedded: 30_000_000, warmup: 40_000_000 } as const;
const SEQ_SPAN = 10_000_000;

const startedAt = Date.now();
const log = (line: string) => process.stderr.write(`[bench +${((Date.now() - startedAt) / 1000).toFixed(0).padStart(3)}s] ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// --- cleanup: everything started here is stopped, whatever happens ---------------------

const { onCleanup, cleanUp, abort } = cleanupOnExit(log, DEADLINE_MS);

// --- helpers ----------------------------------------------------------------------------

interface Device {
  sn: string;
  password: string;
}

interface FleetResult extends Omit<RunResult, "ackLatency"> {
  ackLatency: Histogram;
}

/** Runs the same fleet run in every publisher process, starting together; merges the results. */
/** Anomalies seen on the way (printed under the report). */
const notes: string[] = [];

async function runFleet(phase: string, publishers: ChildHandle[], params: Omit<RunParams, "startAt">): Promise<FleetResult> {
  const startAt = Date.now() + 300;
  const rate = params.rate === undefined ? undefined : params.rate / publishers.length;
  const results = await Promise.all(
    publishers.map((p) => p.call<RunResult>("run", { ...params, rate, startAt }, params.durationMs + params.drainTimeoutMs + 30_000)),
  );
  const ackLatency = new Histogram();
  for (const r of results) ackLatency.merge(r.ackLatency);
  const unacked = sum(results.map((r) => r.unacked));
  const closed = sum(results.map((r) => r.closed));
  const outOfOrder = sum(results.map((r) => r.outOfOrder));
  if (unacked > 0) notes.push(`${phase}: ${unacked} readings got no PUBACK within ${params.drainTimeoutMs / 1000} s (not counted as published; they may or may not be stored)`);
  if (closed > 0) notes.push(`${phase}: ${closed} publisher connections closed during the run`);
  if (outOfOrder > 0) notes.push(`${phase}: ${outOfOrder} PUBACKs came out of order (the publish→PUBACK times are then approximate)`);
  return {
    sent: sum(results.map((r) => r.sent)),
    acked: sum(results.map((r) => r.acked)),
    unacked,
    outOfOrder,
    closed,
    perDevice: Object.assign({}, ...results.map((r) => r.perDevice)),
    firstSendAt: Math.min(...results.map((r) => r.firstSendAt)),
    lastSendAt: Math.max(...results.map((r) => r.lastSendAt)),
    lastAckAt: Math.max(...results.map((r) => r.lastAckAt)),
    ackLatency,
  };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

async function connectFleet(publishers: ChildHandle[], devices: Device[], target: { host: string; port: number; ca: string; servername: string }) {
  const share = Math.ceil(devices.length / publishers.length);
  await Promise.all(
    publishers.map((p, i) =>
      p.call("connect", { ...target, tls: true, window: WINDOW, devices: devices.slice(i * share, (i + 1) * share) }, 120_000),
    ),
  );
}

interface Verification {
  published: number;
  stored: number;
  distinctKeys: number;
  lost: number;
  duplicated: number;
  /** Stored beyond what the publishers saw acknowledged (only possible with unacked > 0). */
  extra: number;
  /** Devices whose stored seqs are not exactly seqBase … seqBase + published − 1. */
  gappedDevices: number;
  gapExamples: string[];
}

type PerDeviceRow = { sn: string; n: number; distinct_keys: number; min_seq: number; max_seq: number };

const PER_DEVICE_SQL = `SELECT sn, count(*)::int AS n, count(DISTINCT (sn, ts, seq))::int AS distinct_keys, min(seq) AS min_seq, max(seq) AS max_seq
  FROM telemetry WHERE seq >= $1 AND seq < $2 GROUP BY sn`;

/** The database against what the publishers had acknowledged: count(*) and count(DISTINCT (sn, ts, seq)) per device. */
function verify(rows: PerDeviceRow[], perDevice: Record<string, number>, seqBase: number): Verification {
  const bySn = new Map(rows.map((row) => [row.sn, row]));
  const result: Verification = { published: 0, stored: 0, distinctKeys: 0, lost: 0, duplicated: 0, extra: 0, gappedDevices: 0, gapExamples: [] };
  for (const [sn, published] of Object.entries(perDevice)) {
    const row = bySn.get(sn);
    const n = Number(row?.n ?? 0);
    const distinct = Number(row?.distinct_keys ?? 0);
    result.published += published;
    result.stored += n;
    result.distinctKeys += distinct;
    result.duplicated += n - distinct;
    result.lost += Math.max(0, published - distinct);
    result.extra += Math.max(0, distinct - published);
    if (published > 0 && (Number(row?.min_seq) !== seqBase || Number(row?.max_seq) < seqBase + published - 1 || distinct < published)) {
      result.gappedDevices++;
      if (result.gapExamples.length < 3) {
        result.gapExamples.push(`${sn}: ${published} acknowledged (seq ${seqBase}…${seqBase + published - 1}), ${distinct} stored (seq ${row?.min_seq ?? "-"}…${row?.max_seq ?? "-"})`);
      }
    }
    bySn.delete(sn);
  }
  for (const row of bySn.values()) result.extra += Number(row.n); // readings of devices nobody published for
  return result;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(intervalMs);
  }
  log(`gave up waiting for ${what} after ${timeoutMs / 1000} s`);
  return false;
}

const rate = (count: number, fromMs: number, toMs: number) => (toMs > fromMs ? (1000 * count) / (toMs - fromMs) : 0);
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "n/a");
const pct = (cpu: Record<string, number>) =>
  Object.entries(cpu)
    .map(([name, value]) => `${name} ${value.toFixed(0)}%`)
    .join(", ");

/** CPU microseconds per reading of each group of processes (and `other`: the rest of the machine). */
type Costs = Record<string, number>;

function costPerReading(meter: CpuMeter, readings: number): Costs {
  const { used } = meter.cpuSeconds();
  delete used.machine;
  return Object.fromEntries(Object.entries(used).map(([name, seconds]) => [name, readings > 0 ? (1e6 * seconds) / readings : Number.NaN]));
}

/** What the measured processes cost per reading, in all (the bench's own process and `other` excluded). */
function totalCost(costs: Costs): number {
  return sum(Object.entries(costs).filter(([name]) => name !== "other" && name !== "bench").map(([, us]) => us));
}

interface WorkerStats {
  processor: { received: number; stored: number; duplicates: number; deadLetters: number; batches: number; failedCommits: number };
  ingest: { received: number; acked: number; held: number; pauses: number; connects: number; ackDropped: number };
  wirePublishes: number;
  acked: number;
  firstAckAt: number;
  lastAckAt: number;
  latency: HistogramData;
  delivery: HistogramData;
  memory?: { peakMb: number; rssMb: number };
  heapUsedMb: number;
  eventLoopUtilization: number;
}

// --- the run ------------------------------------------------------------------------------

interface Results {
  broker?: { rps: number; published: number; received: number; seconds: number; publisherAckP99: number; deliveryP50: number; deliveryP99: number; cpu: Record<string, number> };
  latency?: { offered: number; achievedPublish: number; p50: number; p90: number; p99: number; max: number; deliveryP50: number; deliveryP99: number; verification: Verification; cpu: Record<string, number>; elu: number; batches: number };
  max?: {
    rps: number;
    rpsWhilePublishing: number;
    publishRps: number;
    published: number;
    seconds: number;
    drainSeconds: number;
    p50: number;
    p99: number;
    verification: Verification;
    cpuLoad: Record<string, number>;
    cpuDrain: Record<string, number>;
    elu: number;
    batches: number;
    pauses: number;
    redelivered: number;
  };
  worker?: { peakRssMb: number; idleRssMb: number; maxHeapUsedMb: number; deadLetters: number };
  /** Busy CPU of the machine (% of one core) measured before the bench started anything. */
  background?: number;
  embedded?: { rps: number; published: number; seconds: number; p50: number; p99: number; verification: Verification; peakRssMb: number; startRssMb: number; heapUsedMb: number; cpu: Record<string, number> };
  profile?: ProfileSummary;
  /** The database check of C's unmeasured warm-up. */
  warmup?: Verification;
  /** CPU µs per reading by process group, per phase. */
  costs: Partial<Record<"A" | "C" | "B" | "embedded", Costs>>;
  notes: string[];
}

async function servicesMode(devices: Device[], results: Results): Promise<void> {
  log(`starting PostgreSQL, Redis and Mosquitto`);
  const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  onCleanup("postgres", () => pg.stop());
  onCleanup("redis", () => redis.stop());
  const db: Db = createPgDb(pg.url, { max: 2 });
  onCleanup("bench db connection", () => db.close());
  await migrate(db);
  const store = new DeviceStore(db);
  for (const device of devices) await store.create({ sn: device.sn }, hashMosquittoPassword(device.password), { name: "bench" });

  const workerPassword = randomBytes(18).toString("base64url");
  const broker: MosquittoInstance = await startMosquitto({
    users: { "mcs-worker": workerPassword, ...Object.fromEntries(devices.map((d) => [d.sn, d.password])) },
  });
  onCleanup("mosquitto", () => broker.stop());
  const workerUrl = WORKER_TLS ? broker.url("tls", "mcs-worker", workerPassword) : broker.url("plain", "mcs-worker", workerPassword);
  const mqttEnv = { MQTT_URL: workerUrl, MQTT_CA: WORKER_TLS ? broker.caPath : "", BENCH_RECEIVE_MAXIMUM: process.env.BENCH_RECEIVE_MAXIMUM };

  const mosquittoPids = () => findPids(join(broker.dir, "mosquitto.conf"));
  const postgresPids = () => {
    const [postmaster] = findPids("postgres", `-p ${pg.port}`);
    return postmaster ? processTree(postmaster) : [];
  };
  const redisPids = () => findPids("redis-server", `:${redis.port}`);

  const publishers = startPublishers();
  log(`connecting ${devices.length} devices over TLS from ${PUBLISHERS} publisher processes`);
  await connectFleet(publishers, devices, { host: "127.0.0.1", port: broker.tlsPort, ca: broker.ca, servername: "localhost" });

  // A: raw broker rate.
  if (BROKER_SECONDS > 0) {
    const sink = forkChild("sink", "./sink.ts", mqttEnv);
    onCleanup("sink", () => sink.kill());
    await sink.ready();
    const meter = new CpuMeter({ publishers: () => publishers.map((p) => p.pid), subscriber: () => [sink.pid], mosquitto: mosquittoPids, bench: benchPids });
    log(`A: broker rate, publishers at full speed for ${BROKER_SECONDS} s into a subscriber that acks at once`);
    const run = await runFleet("A", publishers, { mode: "max", durationMs: BROKER_SECONDS * 1000, seqBase: SEQ_BASE.broker, drainTimeoutMs: 15_000 });
    type SinkStats = { received: number; firstAt: number; lastAt: number; latency: HistogramData };
    await waitFor("the sink to receive everything", async () => (await sink.call<SinkStats>("stats")).received >= run.acked, 15_000);
    const cpu = meter.read();
    const stats = await sink.call<SinkStats>("stats");
    results.costs.A = costPerReading(meter, stats.received);
    const delivery = Histogram.from(stats.latency);
    results.broker = {
      rps: rate(stats.received, stats.firstAt, stats.lastAt),
      published: run.acked,
      received: stats.received,
      seconds: (stats.lastAt - stats.firstAt) / 1000,
      publisherAckP99: run.ackLatency.quantile(0.99),
      deliveryP50: delivery.quantile(0.5),
      deliveryP99: delivery.quantile(0.99),
      cpu,
    };
    log(`A: ${fmt(results.broker.rps)} msg/s through the broker (${fmt(stats.received)} of ${fmt(run.acked)} published); CPU ${pct(cpu)}`);
    await sink.call("stop");
    await sink.exited();
  }

  // The worker under test (the product's code path), its own process.
  const profileDir = PROFILE ? mkdtempSync(join(tmpdir(), "mcs-bench-prof-")) : undefined;
  if (profileDir) onCleanup("profile folder", () => rmSync(profileDir, { recursive: true, force: true }));
  const worker = forkChild(
    "worker",
    "./bench-worker.ts",
    {
      ...mqttEnv,
      DATABASE_URL: pg.url,
      REDIS_URL: redis.url,
      MQTT_CLIENT_ID: "bench-worker",
      BENCH_BATCH_MESSAGES: process.env.BENCH_BATCH_MESSAGES,
      BENCH_BATCH_READINGS: process.env.BENCH_BATCH_READINGS,
      BENCH_LINGER_MS: process.env.BENCH_LINGER_MS,
      BENCH_WIRE_COUNT: process.env.BENCH_WIRE_COUNT,
      BENCH_HEAP_PROFILE: process.env.BENCH_OUTPUT_DIR && process.env.BENCH_HEAP_PROFILE === "1" ? join(process.env.BENCH_OUTPUT_DIR, "worker.heapprofile") : undefined,
    },
    [...(process.env.BENCH_WORKER_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? []), ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [])],
  );
  onCleanup("worker", () => worker.kill());
  await worker.ready();
  const idleRssMb = (await worker.call<WorkerStats>("stats")).memory?.rssMb ?? Number.NaN;
  let maxHeapUsedMb = 0;
  const groups = {
    publishers: () => publishers.map((p) => p.pid),
    worker: () => [worker.pid],
    mosquitto: mosquittoPids,
    postgres: postgresPids,
    redis: redisPids,
    bench: benchPids,
  };
  const meter = new CpuMeter(groups);
  const workerStats = () => worker.call<WorkerStats>("stats");
  const perDevice = (from: number) => db.query<PerDeviceRow>(PER_DEVICE_SQL, [from, from + SEQ_SPAN]);

  // C: latency at a fixed offered rate.
  let latencyRun: FleetResult | undefined;
  if (LATENCY_SECONDS > 0) {
    if (WARMUP_SECONDS > 0) {
      log(`C: warm-up, ${fmt(LATENCY_RATE)} readings/s for ${WARMUP_SECONDS} s (checked in the database, not in the latency)`);
      await worker.call("reset");
      const warm = await runFleet("C warm-up", publishers, { mode: "rate", rate: LATENCY_RATE, durationMs: WARMUP_SECONDS * 1000, seqBase: SEQ_BASE.warmup, drainTimeoutMs: 15_000 });
      await waitFor("the worker to commit the warm-up", async () => (await workerStats()).acked >= warm.acked, DRAIN_TIMEOUT_MS);
      results.warmup = verify(await perDevice(SEQ_BASE.warmup), warm.perDevice, SEQ_BASE.warmup);
      if (results.warmup.lost + results.warmup.duplicated > 0) notes.push(`C warm-up: lost ${results.warmup.lost}, duplicated ${results.warmup.duplicated}`);
    }
    await worker.call("reset");
    meter.reset();
    log(`C: ${fmt(LATENCY_RATE)} readings/s for ${LATENCY_SECONDS} s, publish→commit latency`);
    const run = await runFleet("C", publishers, { mode: "rate", rate: LATENCY_RATE, durationMs: LATENCY_SECONDS * 1000, seqBase: SEQ_BASE.latency, drainTimeoutMs: 15_000 });
    latencyRun = run;
    if (!(await waitFor("the worker to commit the latency run", async () => (await workerStats()).acked >= run.acked, DRAIN_TIMEOUT_MS))) {
      await reportStuck(worker, run, "C");
      // Does the broker still hold them (unsent, or sent and lost on the way)? A reconnect makes
      // it resend its unacknowledged messages; messages it dropped stay missing.
      log("C: dropping the worker's MQTT connection to see whether the broker redelivers the missing readings");
      await worker.call("reconnect");
      const recovered = await waitFor("redelivery after a reconnect", async () => (await workerStats()).acked >= run.acked, 15_000);
      await reportStuck(worker, run, "C after reconnect");
      notes.push(`C: ${recovered ? "the missing readings came after the worker reconnected (the broker had held them)" : "the missing readings did not come even after the worker reconnected"}`);
    }
    const cpu = meter.read();
    const stats = await workerStats();
    results.costs.C = costPerReading(meter, stats.acked);
    const latency = Histogram.from(stats.latency);
    const delivery = Histogram.from(stats.delivery);
    const verification = verify(await perDevice(SEQ_BASE.latency), run.perDevice, SEQ_BASE.latency);
    results.latency = {
      offered: LATENCY_RATE,
      achievedPublish: rate(run.sent, run.firstSendAt, run.lastSendAt),
      p50: latency.quantile(0.5),
      p90: latency.quantile(0.9),
      p99: latency.quantile(0.99),
      max: latency.max,
      deliveryP50: delivery.quantile(0.5),
      deliveryP99: delivery.quantile(0.99),
      verification,
      cpu,
      elu: stats.eventLoopUtilization,
      batches: stats.processor.batches,
    };
    log(`C: p50 ${results.latency.p50.toFixed(1)} ms, p99 ${results.latency.p99.toFixed(1)} ms; lost ${verification.lost}; CPU ${pct(cpu)}`);
    if (verification.lost > 0) {
      // Which seqs are missing, as offsets from the phase's base (a device sends ~50 a second here).
      const missing = await db.query<{ sn: string; offsets: number[] }>(
        `SELECT p.sn, array_agg(s - $1 ORDER BY s) AS offsets
         FROM unnest($2::text[], $3::int[]) AS p(sn, n), generate_series($1::int, $1::int + p.n - 1) AS s
         WHERE NOT EXISTS (SELECT 1 FROM telemetry t WHERE t.sn = p.sn AND t.seq = s AND t.seq >= $1)
         GROUP BY p.sn ORDER BY p.sn`,
        [SEQ_BASE.latency, Object.keys(run.perDevice), Object.values(run.perDevice)],
      );
      log(`C: missing seqs (offset from the base) per device: ${missing.map((m) => `${m.sn} [${m.offsets.join(",")}]`).join("; ")}`);
    }
  }

  // B: sustained rate at full offered load.
  if (MAX_SECONDS > 0) {
    await worker.call("reset");
    const before = await workerStats();
    meter.reset();
    const phaseMeter = new CpuMeter(groups);
    log(`B: publishers at full speed for ${MAX_SECONDS} s into the worker`);
    const progress: { at: number; acked: number; heapUsedMb: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const sample = await worker.call<{ at: number; acked: number; heapUsedMb: number }>("progress");
        progress.push(sample);
        maxHeapUsedMb = Math.max(maxHeapUsedMb, sample.heapUsedMb);
        await sleep(500);
      }
    })();
    const run = await runFleet("B", publishers, { mode: "max", durationMs: MAX_SECONDS * 1000, seqBase: SEQ_BASE.max, drainTimeoutMs: 15_000 });
    const cpuLoad = meter.read();
    meter.reset();
    log(`B: ${fmt(run.acked)} published at ${fmt(rate(run.acked, run.firstSendAt, run.lastSendAt))}/s; waiting for the worker to drain the broker's queue`);
    if (!(await waitFor("the worker to drain the queue", async () => (await workerStats()).acked >= run.acked, DRAIN_TIMEOUT_MS))) {
      await reportStuck(worker, run, "B");
    }
    sampling = false;
    await sampler;
    const cpuDrain = meter.read();
    const stats = await workerStats();
    results.costs.B = costPerReading(phaseMeter, stats.acked);
    const verification = verify(await perDevice(SEQ_BASE.max), run.perDevice, SEQ_BASE.max);
    // What the worker had committed by the time the publishers stopped (the last sample before).
    let atStop = { at: run.firstSendAt, acked: 0 };
    for (const sample of progress) if (sample.at <= run.lastSendAt) atStop = sample;
    const latency = Histogram.from(stats.latency);
    results.max = {
      rps: rate(stats.acked, run.firstSendAt, stats.lastAckAt),
      rpsWhilePublishing: rate(atStop.acked, run.firstSendAt, atStop.at),
      publishRps: rate(run.acked, run.firstSendAt, run.lastSendAt),
      published: run.acked,
      seconds: (stats.lastAckAt - run.firstSendAt) / 1000,
      drainSeconds: Math.max(0, (stats.lastAckAt - run.lastSendAt) / 1000),
      p50: latency.quantile(0.5),
      p99: latency.quantile(0.99),
      verification,
      cpuLoad,
      cpuDrain,
      elu: stats.eventLoopUtilization,
      batches: stats.processor.batches - before.processor.batches,
      pauses: stats.ingest.pauses - before.ingest.pauses,
      redelivered: stats.processor.duplicates,
    };
    log(`B: ${fmt(results.max.rps)} readings/s end to end (${fmt(results.max.rpsWhilePublishing)}/s while publishing); lost ${verification.lost}, duplicated ${verification.duplicated}`);
    for (const example of verification.gapExamples) log(`B: gap: ${example}`);
    results.worker = { peakRssMb: stats.memory?.peakMb ?? Number.NaN, idleRssMb, maxHeapUsedMb, deadLetters: stats.processor.deadLetters };
  }

  // Readings of C that were missing when C was checked but arrived later (held up until more traffic came) are late, not lost.
  if (results.latency && latencyRun && results.latency.verification.lost > 0) {
    const again = verify(await perDevice(SEQ_BASE.latency), latencyRun.perDevice, SEQ_BASE.latency);
    results.notes.push(
      `C: ${results.latency.verification.lost} readings were not committed ${DRAIN_TIMEOUT_MS / 1000} s after their publish; at the end of the services run, ${again.lost} were still missing (any others had been held up until more traffic came)`,
    );
    results.latency.verification = again;
  }
  await worker.call("stop", undefined, 30_000);
  await worker.exited();
  if (profileDir) {
    const file = readdirSync(profileDir).find((name) => name.endsWith(".cpuprofile"));
    if (file) {
      results.profile = summarizeProfile(join(profileDir, file));
      if (process.env.BENCH_OUTPUT_DIR) copyFileSync(join(profileDir, file), join(process.env.BENCH_OUTPUT_DIR, "worker.cpuprofile"));
    } else {
      results.notes.push("BENCH_PROFILE=1 but the worker wrote no profile");
    }
  }
  await Promise.all(publishers.map((p) => p.call("disconnect")));
  await cleanUp(); // publishers, broker, Redis, PostgreSQL: the embedded run gets the machine to itself
}

/** This orchestrator and the tsx process that launched it. */
const benchPids = () => [process.pid, process.ppid];

/** Where the missing readings are: still in the broker, or taken by the worker and not committed. */
async function reportStuck(worker: ChildHandle, run: FleetResult, phase: string): Promise<void> {
  const stats = await worker.call<WorkerStats>("stats");
  log(
    `${phase}: publishers had ${fmt(run.acked)} acknowledged by the broker; the worker's MqttIngest received ${fmt(stats.ingest.received)} ` +
      `(held unacknowledged ${stats.ingest.held}, PUBACKs written ${fmt(stats.ingest.acked)}, connects ${stats.ingest.connects}, acks dropped ${stats.ingest.ackDropped}` +
      `${process.env.BENCH_WIRE_COUNT === "1" ? `, PUBLISH packets on the wire ${fmt(stats.wirePublishes)}` : ""}), its processor received ${fmt(stats.processor.received)}, ` +
      `stored ${fmt(stats.processor.stored)} in ${fmt(stats.processor.batches)} batches; acks in this phase ${fmt(stats.acked)}`,
  );
}

function startPublishers(): ChildHandle[] {
  const nodeArgs = process.env.BENCH_PUBLISHER_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  const publishers = Array.from({ length: PUBLISHERS }, (_, i) => forkChild(`publisher-${i + 1}`, "./publisher.ts", {}, nodeArgs));
  for (const p of publishers) onCleanup(p.name, () => p.kill());
  return publishers;
}

async function embeddedMode(devices: Device[], results: Results): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "mcs-bench-embedded-"));
  onCleanup("embedded data folder", () => rmSync(dataDir, { recursive: true, force: true }));
  log("embedded: starting startServer() with PGlite and the Aedes TLS broker");
  const server = forkChild("embedded", "./embedded.ts", {
    MCS_DATA_DIR: dataDir,
    HTTP_PORT: "0",
    HTTP_HOST: "127.0.0.1",
    MQTT_TLS_PORT: "0",
    HTTPS_PORT: "0",
    MCS_DEMO_DEVICES: "0",
    MCS_ADMIN_PASSWORD: randomBytes(12).toString("base64url"),
    DATABASE_URL: "",
    REDIS_URL: "",
    MQTT_URL: "",
  });
  onCleanup("embedded server", () => server.kill());
  const info = (await server.ready(120_000)) as { mqttPort: number; caPath: string; rssMb: number };
  await server.call("register", { devices }, 120_000);
  const publishers = startPublishers();
  await connectFleet(publishers, devices, { host: "127.0.0.1", port: info.mqttPort, ca: readFileSync(info.caPath, "utf8"), servername: "localhost" });
  const meter = new CpuMeter({ publishers: () => publishers.map((p) => p.pid), server: () => [server.pid], bench: benchPids });
  log(`embedded: publishers at full speed for ${EMBEDDED_SECONDS} s (the PUBACK waits for the commit)`);
  const run = await runFleet("embedded", publishers, { mode: "max", durationMs: EMBEDDED_SECONDS * 1000, seqBase: SEQ_BASE.embedded, drainTimeoutMs: DRAIN_TIMEOUT_MS });
  const cpu = meter.read();
  const rows = await server.call<PerDeviceRow[]>("perDevice", { from: SEQ_BASE.embedded, to: SEQ_BASE.embedded + SEQ_SPAN });
  const verification = verify(rows, run.perDevice, SEQ_BASE.embedded);
  results.costs.embedded = costPerReading(meter, verification.distinctKeys);
  const stats = await server.call<{ memory?: { peakMb: number }; heapUsedMb: number }>("stats");
  results.embedded = {
    // Every PUBACK comes after its commit: acknowledged readings / (first publish → last PUBACK).
    rps: rate(verification.distinctKeys, run.firstSendAt, run.lastAckAt),
    published: run.acked,
    seconds: (run.lastAckAt - run.firstSendAt) / 1000,
    p50: run.ackLatency.quantile(0.5),
    p99: run.ackLatency.quantile(0.99),
    verification,
    peakRssMb: stats.memory?.peakMb ?? Number.NaN,
    startRssMb: info.rssMb,
    heapUsedMb: stats.heapUsedMb,
    cpu,
  };
  log(`embedded: ${fmt(results.embedded.rps)} readings/s stored; lost ${verification.lost}; CPU ${pct(cpu)}`);
  for (const example of verification.gapExamples) log(`embedded: gap: ${example}`);
  await Promise.all(publishers.map((p) => p.call("disconnect")));
  await server.call("stop", undefined, 30_000);
  await server.exited();
  await cleanUp();
}

function printReport(results: Results): void {
  const out: string[] = [];
  const row = (label: string, value: string, note = "") => out.push(`  ${label.padEnd(44)} ${value.padStart(14)}  ${note}`);
  out.push("");
  out.push(`MCS-IoT ingest bench — ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), Node ${process.version}, ${DEVICES} devices, ${PUBLISHERS} publisher processes, window ${WINDOW}/connection`);
  out.push(`CPU figures are % of one core; "other" is what the rest of the machine used meanwhile. Before the start the machine was ${fmt(results.background ?? Number.NaN)} % busy; load average at the end ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  if ((results.background ?? 0) > 20) out.push(`WARNING: other programs were using the CPU before the bench started; every figure below is lower than on an idle machine`);
  const b = results.broker;
  if (b) {
    out.push("", "A. raw broker rate (Mosquitto, publishers over TLS → MqttIngest acking at once)");
    row("delivered to the subscriber", `${fmt(b.rps)} /s`, `${fmt(b.received)} in ${b.seconds.toFixed(1)} s`);
    row("publish→delivery p50 / p99", `${b.deliveryP50.toFixed(1)} / ${b.deliveryP99.toFixed(1)} ms`);
    row("CPU", "", pct(b.cpu));
  }
  const c = results.latency;
  if (c) {
    out.push("", `C. latency at a fixed offered rate (worker: MqttIngest → processor → PostgreSQL, Redis)`);
    row("offered / published", `${fmt(c.offered)} /s`, `achieved ${fmt(c.achievedPublish)} /s`);
    row("publish→commit p50 / p90 / p99", `${c.p50.toFixed(1)} / ${c.p90.toFixed(1)} / ${c.p99.toFixed(1)} ms`, `max ${c.max.toFixed(0)} ms`);
    row("  of which publish→delivery to the worker p50 / p99", `${c.deliveryP50.toFixed(1)} / ${c.deliveryP99.toFixed(1)} ms`, "(broker, TCP/TLS, the worker's event loop)");
    row("stored / published, lost, duplicated", `${fmt(c.verification.distinctKeys)} / ${fmt(c.verification.published)}`, `lost ${c.verification.lost}, duplicated ${c.verification.duplicated}, extra ${c.verification.extra}, devices with gaps ${c.verification.gappedDevices}`);
    row("worker event-loop utilisation, batches", `${(100 * c.elu).toFixed(0)} %`, `${fmt(c.batches)} batches`);
    row("CPU", "", pct(c.cpu));
  }
  const m = results.max;
  if (m) {
    out.push("", `B. worker at full offered load (${MAX_SECONDS} s of publishing, then the broker's queue drains)`);
    row("sustained, end to end (first publish → last commit)", `${fmt(m.rps)} /s`, `${fmt(m.published)} readings in ${m.seconds.toFixed(1)} s`);
    row("committed while the publishers ran", `${fmt(m.rpsWhilePublishing)} /s`, `publishers offered ${fmt(m.publishRps)} /s; drain took ${m.drainSeconds.toFixed(1)} s`);
    row("publish→commit p50 / p99 (includes queueing)", `${m.p50.toFixed(0)} / ${m.p99.toFixed(0)} ms`);
    row("stored / published", `${fmt(m.verification.distinctKeys)} / ${fmt(m.verification.published)}`, `count(*) ${fmt(m.verification.stored)}, distinct (sn,ts,seq) ${fmt(m.verification.distinctKeys)}`);
    row("lost / duplicated", `${m.verification.lost} / ${m.verification.duplicated}`, `extra ${m.verification.extra}, devices with gaps ${m.verification.gappedDevices}, redelivered (ignored by the key) ${m.redelivered}`);
    row("worker event-loop utilisation, batches", `${(100 * m.elu).toFixed(0)} %`, `${fmt(m.batches)} batches (~${fmt(m.published / Math.max(1, m.batches))} readings each), ${m.pauses} receive-maximum pauses`);
    row("CPU while publishing", "", pct(m.cpuLoad));
    if (m.drainSeconds >= 3) row("CPU while draining", "", pct(m.cpuDrain));
  }
  if (results.worker) {
    row("worker peak RSS (VmHWM)", `${results.worker.peakRssMb.toFixed(0)} MB`, `${results.worker.idleRssMb.toFixed(0)} MB after start; JS heap used up to ${results.worker.maxHeapUsedMb.toFixed(0)} MB (sampled in B); dead letters ${results.worker.deadLetters}`);
  }
  const e = results.embedded;
  if (e) {
    out.push("", "Embedded (startServer: Aedes TLS + PGlite + worker + backend, one process)");
    row("stored, end to end", `${fmt(e.rps)} /s`, `${fmt(e.verification.distinctKeys)} of ${fmt(e.published)} in ${e.seconds.toFixed(1)} s`);
    row("publish→PUBACK (= commit) p50 / p99", `${e.p50.toFixed(0)} / ${e.p99.toFixed(0)} ms`);
    row("lost / duplicated", `${e.verification.lost} / ${e.verification.duplicated}`, `devices with gaps ${e.verification.gappedDevices}`);
    row("server peak RSS (VmHWM)", `${e.peakRssMb.toFixed(0)} MB`, `${e.startRssMb.toFixed(0)} MB after start; JS heap used at the end ${e.heapUsedMb.toFixed(0)} MB`);
    row("CPU", "", pct(e.cpu));
  }
  const phases = (["A", "C", "B", "embedded"] as const).filter((phase) => results.costs[phase]);
  if (phases.length > 0) {
    const titles = { A: "A broker", C: "C 10k/s", B: "B full load", embedded: "embedded" };
    const names = [...new Set(phases.flatMap((phase) => Object.keys(results.costs[phase]!)))].sort((a, b) => (a === "other" ? 1 : b === "other" ? -1 : 0));
    out.push("", `CPU per reading, µs (all processes of each role; robust to other load, unlike the rates). Capacity = ${cpus().length} cores / total.`);
    out.push(`  ${"".padEnd(26)}${phases.map((phase) => titles[phase].padStart(14)).join("")}`);
    for (const name of names) {
      const label = name === "other" ? "other programs (excluded)" : name;
      out.push(`  ${label.padEnd(26)}${phases.map((phase) => fmt(results.costs[phase]![name] ?? Number.NaN, 1).padStart(14)).join("")}`);
    }
    out.push(`  ${"total".padEnd(26)}${phases.map((phase) => fmt(totalCost(results.costs[phase]!), 1).padStart(14)).join("")}`);
    out.push(`  ${"capacity on idle cores /s".padEnd(26)}${phases.map((phase) => fmt((cpus().length * 1e6) / totalCost(results.costs[phase]!)).padStart(14)).join("")}`);
  }
  const servicesRps = m?.rps ?? Number.NaN;
  const brokerRps = b?.rps ?? Number.NaN;
  out.push("", "Budgets (DESIGN.md): services ≥ 10,000/s, p99 < 1 s, ≥ 0.7 × broker, 0 lost, 0 duplicated; embedded ≥ 2,000/s");
  row("services / broker", `${(servicesRps / brokerRps).toFixed(2)}`, `${fmt(servicesRps)} / ${fmt(brokerRps)}`);
  if (results.profile) out.push("", "Worker " + formatProfile(results.profile));
  for (const note of results.notes) out.push(`note: ${note}`);
  out.push("");
  process.stdout.write(out.join("\n") + "\n");
}

async function main(): Promise<void> {
  for (const tool of ["/usr/sbin/mosquitto", "/usr/bin/redis-server", "/usr/lib/postgresql"]) {
    if (!existsSync(tool)) throw new Error(`${tool} is missing: the bench needs PostgreSQL, Redis and Mosquitto installed`);
  }
  const devices: Device[] = Array.from({ length: DEVICES }, (_, i) => ({ sn: `BENCH${String(i + 1).padStart(4, "0")}`, password: randomBytes(18).toString("base64url") }));
  const results: Results = { notes, costs: {} };
  // Other programs on these 2 cores distort every figure: wait a little for a quiet moment.
  const quietUntil = Date.now() + QUIET_WAIT_MS;
  for (;;) {
    const idle = new CpuMeter({});
    await sleep(2000);
    results.background = idle.read().machine ?? 0;
    if (results.background < 30 || Date.now() >= quietUntil) break;
    log(`the machine is ${fmt(results.background)} % busy (of one core) with other programs; waiting for a quieter moment`);
  }
  log(`the machine was ${fmt(results.background)} % busy (of one core) before the start`);
  try {
    if (process.env.BENCH_SKIP_SERVICES !== "1") await servicesMode(devices, results);
    if (!SKIP_EMBEDDED) await embeddedMode(devices, results);
  } finally {
    await cleanUp();
  }
  printReport(results);
  const b = results.broker;
  const m = results.max;
  const checks = [results.warmup, results.latency?.verification, m?.verification, results.embedded?.verification];
  const lost = sum(checks.map((check) => check?.lost ?? 0));
  const duplicated = sum(checks.map((check) => check?.duplicated ?? 0));
  const round = (n: number | undefined, digits = 0) => (n === undefined || !Number.isFinite(n) ? null : Number(n.toFixed(digits)));
  const summary = {
    services_rps: round(m?.rps),
    services_p99_ms: round(results.latency?.p99, 1),
    lost,
    duplicated,
    broker_rps: round(b?.rps),
    ratio_to_broker: round(m && b ? m.rps / b.rps : undefined, 3),
    embedded_rps: round(results.embedded?.rps),
    worker_rss_mb: round(results.worker?.peakRssMb, 1),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => abort(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, 1),
);
