import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { cacheKeys, type AlarmBusEvent, type BusChannels, type LatestReading } from "@mcs/protocol";
import { createPgDb, DeviceStore, migrate, RedisBus, RedisCache } from "@mcs/platform";
import { freePort } from "../../test-support/free-port.ts";
import { startPostgres } from "../../test-support/postgres.ts";
import { startProductProcess, type ProductProcess } from "../../test-support/processes.ts";
import { startRedis } from "../../test-support/redis.ts";
import { frontendDist, frontendRoot, routeBundle, type RouteBundle } from "./bundle-size.ts";
import { Histogram } from "./histogram.ts";
import { forkChild, type ChildHandle } from "./ipc.ts";
import { CpuMeter, cpuSecondsOf, findPids, memoryOf, processTree } from "./proc-stats.ts";
import type { ConnectResult, WindowResult } from "./ws-screens.ts";
import { cleanupOnExit } from "./cleanup.ts";

/**
 * `npm run bench:ws [-- --seconds 60 --devices 500 --screens 50]`: the big screen's load
 * budget (issue 6, item 4). The backend runs as its own process in services mode (throwaway
 * PostgreSQL and Redis, no broker: the backend only needs MQTT to send commands); this
 * process plays the worker, publishing on the Redis bus exactly what the worker publishes
 * after each committed batch (`readings`: LatestReading[], plus `alarm` events), and a child
 * process holds the screens (`/ws/dashboard` clients, bench/src/ws-screens.ts).
 *
 * Phases, each with the same bus traffic (every device once per 10 s):
 *   0 screens (the baseline: what hearing the bus costs the backend), 1 screen, M screens,
 *   then 0 again after the screens left (CPU should fall back to the baseline).
 * Figures per phase: backend CPU (% of one core, /proc) and RSS, publish→screen latency of
 * realtime and alarm values, realtime frames per screen per second. Plus the first-load
 * gzipped JS of the `/screen` and `/login` routes from frontend/dist. See bench/README.md.
 */

const { values: args } = parseArgs({
  options: {
    devices: { type: "string", default: "500" },
    screens: { type: "string", default: "50" },
    seconds: { type: "string", default: "60" },
    /** Length of the 0-screen and 1-screen phases (default: min(seconds, 20)). */
    "baseline-seconds": { type: "string" },
    /** The worker commits a batch every few tens of ms at this rate; one bus message per tick here. */
    "tick-ms": { type: "string", default: "100" },
    "alarm-every": { type: "string", default: "5" },
  },
});
const DEVICES = Number(args.devices);
const SCREENS = Number(args.screens);
const SECONDS = Number(args.seconds);
const BASELINE_SECONDS = Number(args["baseline-seconds"] ?? Math.min(SECONDS, 20));
const TICK_MS = Number(args["tick-ms"]);
const ALARM_EVERY_MS = Number(args["alarm-every"]) * 1000;
const REPORT_INTERVAL_MS = 10_000; // each device reports once per 10 s (the plan's detectors)
const MODULO_MS = 50_000; // the publish time travels in ppm modulo this (see ws-screens.ts)
const ADMIN_PASSWORD = "bench-admin-password-1";
const BUNDLE_BUDGET_KB = 600;

const clock = () => performance.timeOrigin + performance.now();
const startedAt = Date.now();
const log = (line: string) => process.stderr.write(`[bench:ws +${((Date.now() - startedAt) / 1000).toFixed(0).padStart(3)}s] ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const notes: string[] = [];

// --- cleanup: everything started here is stopped, whatever happens ---------------------

const { onCleanup, cleanUp, abort } = cleanupOnExit(log, (270 + SECONDS + 3 * BASELINE_SECONDS) * 1000);

// --- the worker's part: readings and alarms on the bus -----------------------------------

/**
 * Publishes what the worker publishes after each committed batch, spread evenly: device i
 * reports at i × 10 s / N within each 10 s, so N/10 readings a second; they go out every
 * `TICK_MS` as one `readings` message (the worker's batches at 50 readings/s are this
 * small). Like the worker, the latest state also goes to the cache hash the snapshot reads.
 * Every `ALARM_EVERY_MS` one device's HIGH alarm is raised, and closed 2 s later.
 */
class BusPublisher {
  readings = 0;
  alarms = 0;
  private sent = 0;
  private busy = false;
  private started = 0;
  private timers: NodeJS.Timeout[] = [];
  private pending = new Set<Promise<unknown>>();
  private alarmId = 0;

  constructor(private readonly bus: RedisBus, private readonly cache: RedisCache, private readonly sns: string[], private readonly epochMs: number) {}

  /** ppm carrying the publish time (ms since the epoch, modulo 50 s): see ws-screens.ts. */
  private ppmNow(): number {
    return Math.floor(clock() - this.epochMs) % MODULO_MS;
  }

  latest(sn: string): LatestReading {
    const t = clock();
    return { sn, ts: Math.floor(t / 1000), ppm: this.ppmNow(), status: "online", flags: 0, bat: 3.9, rssi: -61 };
  }

  start(): void {
    this.started = clock();
    this.timers.push(setInterval(() => this.track(this.tick()), TICK_MS));
    if (ALARM_EVERY_MS > 0) this.timers.push(setInterval(() => this.track(this.raiseAndClose()), ALARM_EVERY_MS));
  }

  private track(work: Promise<unknown>): void {
    this.pending.add(work);
    void work.catch((error: unknown) => notes.push(`publisher: ${String(error)}`)).finally(() => this.pending.delete(work));
  }

  private async tick(): Promise<void> {
    if (this.busy) return; // Redis slower than the tick: the next tick sends what is due then
    this.busy = true;
    try {
      const due = Math.floor(((clock() - this.started) * this.sns.length) / REPORT_INTERVAL_MS);
      if (due <= this.sent) return;
      const batch: LatestReading[] = [];
      for (; this.sent < due; this.sent++) batch.push(this.latest(this.sns[this.sent % this.sns.length]!));
      // As the worker's publishLatest: cache and bus together.
      await Promise.all([
        this.cache.hset(cacheKeys.latest, Object.fromEntries(batch.map((r) => [r.sn, JSON.stringify(r)]))),
        this.cache.hset(cacheKeys.seen, Object.fromEntries(batch.map((r) => [r.sn, String(Date.now())]))),
        this.publish("readings", batch),
      ]);
      this.readings += batch.length;
    } finally {
      this.busy = false;
    }
  }

  private async raiseAndClose(): Promise<void> {
    const id = ++this.alarmId;
    const sn = this.sns[(id * 37) % this.sns.length]!;
    const event = (kind: string, state: AlarmBusEvent["state"]): AlarmBusEvent => ({
      id, sn, type: "HIGH", level: 2, kind, state, ppm: this.ppmNow(), at: new Date().toISOString(),
    });
    await this.publish("alarm", event("raised", "unacked"));
    this.alarms++;
    await sleep(2000);
    await this.publish("alarm", event("closed", "closed"));
    this.alarms++;
  }

  private publish<C extends keyof BusChannels>(channel: C, message: BusChannels[C]): Promise<void> {
    return this.bus.publish(channel, message);
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled([...this.pending]);
  }
}

// --- phases --------------------------------------------------------------------------

interface Phase {
  name: string;
  screens: number;
  seconds: number;
  cpu: Record<string, number>;
  rss: { start: number; end: number; max: number; peak: number };
  /** The backend's CPU in its busiest 1-s sample, % of one core. */
  busiestSecondPct: number;
  readings: number;
  alarms: number;
  window?: WindowResult;
  realtime?: Histogram;
  alarm?: Histogram;
  connect?: ConnectResult;
}

interface Rig {
  backend: ProductProcess;
  publisher: BusPublisher;
  screens: ChildHandle;
  meter: CpuMeter;
  wsUrl: string;
  token: string;
  epochMs: number;
  connected: number;
}

async function runPhase(rig: Rig, name: string, screens: number, seconds: number): Promise<Phase> {
  let connect: ConnectResult | undefined;
  if (screens > rig.connected) {
    log(`${name}: connecting ${screens - rig.connected} screen(s)`);
    connect = await rig.screens.call<ConnectResult>("connect", { url: rig.wsUrl, token: rig.token, count: screens - rig.connected, epochMs: rig.epochMs, moduloMs: MODULO_MS });
    rig.connected = connect.screens;
    if (connect.failures.length > 0) notes.push(`${name}: ${connect.opened - connect.withSnapshot} screen(s) got no snapshot: ${connect.failures.join("; ")}`);
    await sleep(3000); // let the connections' own cost (snapshots) pass before measuring
  } else if (screens < rig.connected) {
    await rig.screens.call("closeAll");
    rig.connected = 0;
    await sleep(2000);
  }
  log(`${name}: measuring ${seconds} s with ${screens} screen(s)`);
  const pid = rig.backend.child.pid!;
  const rssStart = memoryOf(pid)?.rssMb ?? Number.NaN;
  let rssMax = rssStart;
  // Each second: RSS, and the backend's CPU in that second (a steady 1 % can hide a 1-s spike, e.g. a reload of every device).
  let cpuBefore = cpuSecondsOf(pid);
  let busiest = 0;
  let busiestAt = 0;
  let second = 0;
  const sampler = setInterval(() => {
    rssMax = Math.max(rssMax, memoryOf(pid)?.rssMb ?? 0);
    const cpuNow = cpuSecondsOf(pid);
    second++;
    if (100 * (cpuNow - cpuBefore) > busiest) [busiest, busiestAt] = [100 * (cpuNow - cpuBefore), second];
    cpuBefore = cpuNow;
  }, 1000);
  if (screens > 0) await rig.screens.call("startWindow");
  rig.meter.reset();
  const before = { readings: rig.publisher.readings, alarms: rig.publisher.alarms };
  await sleep(seconds * 1000);
  const cpu = rig.meter.read();
  const window = screens > 0 ? await rig.screens.call<WindowResult>("readWindow") : undefined;
  clearInterval(sampler);
  const memory = memoryOf(pid);
  if (!memory) throw new Error(`the backend exited during ${name}:\n${rig.backend.output().slice(-3000)}`);
  const phase: Phase = {
    name, screens, seconds, cpu, connect, window,
    rss: { start: rssStart, end: memory.rssMb, max: Math.max(rssMax, memory.rssMb), peak: memory.peakMb },
    busiestSecondPct: busiest,
    readings: rig.publisher.readings - before.readings,
    alarms: rig.publisher.alarms - before.alarms,
    realtime: window ? Histogram.from(window.realtime) : undefined,
    alarm: window ? Histogram.from(window.alarm) : undefined,
  };
  log(`${name}: backend ${cpu.backend!.toFixed(1)} % of one core (busiest second ${busiest.toFixed(0)} % at +${busiestAt} s), other ${cpu.other!.toFixed(0)} %, RSS ${memory.rssMb.toFixed(0)} MB` +
    (phase.realtime ? `, realtime p50/p99 ${phase.realtime.quantile(0.5).toFixed(0)}/${phase.realtime.quantile(0.99).toFixed(0)} ms` : ""));
  if (window && window.closed.length > 0) notes.push(`${name}: ${window.closed.length} screen connection(s) closed: ${[...new Set(window.closed)].join("; ")}`);
  return phase;
}

// --- setup ---------------------------------------------------------------------------

async function waitForHttp(url: string, backend: ProductProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (backend.child.exitCode !== null) throw new Error(`the backend exited at start:\n${backend.output().slice(-3000)}`);
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`the backend did not answer within ${timeoutMs / 1000} s:\n${backend.output().slice(-3000)}`);
      await sleep(250);
    }
  }
}

/**
 * Builds the frontend's current sources into a temp folder of our own (never over
 * frontend/dist, which a running server or test of someone else may be serving) and
 * measures the routes there; if the build fails, measures frontend/dist and says so.
 */
async function bundles(): Promise<{ screen: RouteBundle; login: RouteBundle; from: string } | undefined> {
  const out = mkdtempSync(join(tmpdir(), "mcs-bench-ws-dist-"));
  onCleanup("frontend build", () => rmSync(out, { recursive: true, force: true }));
  // Relative to the frontend's root: the build's precompress plugin joins root and outDir.
  const child = spawn("npx", ["vite", "build", "--outDir", relative(frontendRoot, out), "--emptyOutDir", "--logLevel", "error"], { cwd: frontendRoot, stdio: ["ignore", "pipe", "pipe"] });
  onCleanup("vite", () => child.exitCode === null && child.signalCode === null && child.kill());
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  let dist = out;
  if (code !== 0 || !existsSync(join(out, "index.html"))) {
    // The first line of Vite's error after its heading (colours removed), e.g. a module it could not resolve.
    const lines = output.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((line) => line.trim());
    const after = lines.slice(lines.indexOf("error during build:") + 1).filter((line) => line && !line.startsWith("Build failed with"));
    notes.push(`the frontend build failed (${after[0] ?? `exit ${code}`}): bundle sizes are of frontend/dist as it is`);
    dist = frontendDist;
    if (!existsSync(join(dist, "index.html"))) return undefined;
  }
  return { screen: routeBundle("/screen", dist), login: routeBundle("/login", dist), from: dist === out ? "a fresh build of frontend/src" : "frontend/dist" };
}

async function main(): Promise<void> {
  // Other programs on the same cores distort CPU figures: wait up to 10 s for a quiet moment, and say how busy it was.
  let background = 0;
  for (const until = Date.now() + 10_000; ;) {
    const idle = new CpuMeter({});
    await sleep(2000);
    background = idle.read().machine ?? 0;
    if (background < 30 || Date.now() >= until) break;
  }
  log(`the machine was ${background.toFixed(0)} % busy (of one core) before the start`);

  // Bundle sizes first: the build must not overlap the measurements.
  log("building the frontend (for its bundle sizes)");
  const bundle = await bundles();
  if (!bundle) notes.push("no frontend build: no bundle sizes");
  else if (!bundle.screen.found) notes.push("the router table of the build has no /screen route: the screen's figure is the entry alone");

  const pg = await startPostgres();
  onCleanup("postgres", () => pg.stop());
  const redis = await startRedis();
  onCleanup("redis", () => redis.stop());
  const db = createPgDb(pg.url);
  onCleanup("db", () => db.close());
  await migrate(db);
  const sns = Array.from({ length: DEVICES }, (_, i) => `WS${String(i + 1).padStart(4, "0")}`);
  const store = new DeviceStore(db);
  for (const sn of sns) await store.create({ sn }, "x", { name: "bench" });
  log(`${DEVICES} devices created`);

  // The worker would have filled the cache: latest state and presence (all online), which the snapshot reads.
  const epochMs = clock();
  const cache = await RedisCache.connect(redis.url);
  onCleanup("cache", () => cache.close());
  const bus = await RedisBus.connect(redis.url);
  onCleanup("bus", () => bus.close());
  const publisher = new BusPublisher(bus, cache, sns, epochMs);
  await cache.hset(cacheKeys.latest, Object.fromEntries(sns.map((sn) => [sn, JSON.stringify(publisher.latest(sn))])));
  await cache.hset(cacheKeys.presence, Object.fromEntries(sns.map((sn) => [sn, JSON.stringify({ online: true, at: Date.now(), reason: "reading" })])));

  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "mcs-bench-ws-"));
  onCleanup("data dir", () => rmSync(dataDir, { recursive: true, force: true }));
  const backend = startProductProcess("backend/src/main.ts", {
    DATABASE_URL: pg.url, REDIS_URL: redis.url, HTTP_PORT: String(port), HTTP_HOST: "127.0.0.1",
    MCS_ADMIN_PASSWORD: ADMIN_PASSWORD, MCS_DATA_DIR: dataDir, MCS_SECURE_COOKIES: "false", LOG_LEVEL: "warn",
  });
  onCleanup("backend", () => backend.stop());
  await waitForHttp(`http://127.0.0.1:${port}/api/health`, backend);
  const login = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }),
  });
  if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const { token } = (await login.json()) as { token: string };
  log(`backend up on port ${port} (pid ${backend.child.pid}), logged in`);

  const screens = forkChild("screens", "./ws-screens.ts");
  onCleanup("screens", () => screens.kill());
  await screens.ready();

  const redisPids = findPids("redis-server", `:${redis.port}`);
  const pgPids = findPids("postgres", `-p ${pg.port}`);
  const meter = new CpuMeter({
    backend: () => processTree(backend.child.pid!),
    screens: () => [screens.pid],
    redis: () => redisPids,
    postgres: () => pgPids.flatMap(processTree),
    bench: () => [process.pid],
  });
  publisher.start();
  onCleanup("publisher", () => publisher.stop());
  // The backend's first half-minute (JIT, and V8's memory-reducing GC of the start-up's garbage,
  // ~20–30 s after the start: RSS falls by ~45 MB, 10 % of a core for a second) would count in the baseline.
  log("publisher running; 30 s of warm-up");
  await sleep(30_000);

  const rig: Rig = { backend, publisher, screens, meter, wsUrl: `ws://127.0.0.1:${port}/ws/dashboard`, token, epochMs, connected: 0 };
  const phases: Phase[] = [];
  phases.push(await runPhase(rig, "0 screens (baseline)", 0, BASELINE_SECONDS));
  phases.push(await runPhase(rig, "1 screen", 1, BASELINE_SECONDS));
  phases.push(await runPhase(rig, `${SCREENS} screens`, SCREENS, SECONDS));
  phases.push(await runPhase(rig, "0 screens (after)", 0, Math.min(BASELINE_SECONDS, 10)));

  await publisher.stop();
  const stopAt = Date.now();
  await backend.stop();
  const stopMs = Date.now() - stopAt;
  if (stopMs > 5000) notes.push(`the backend took ${(stopMs / 1000).toFixed(1)} s to stop on SIGTERM`);
  await cleanUp();
  report(phases, bundle, background);
}

// --- report --------------------------------------------------------------------------

const ms = (h: Histogram | undefined, q: number) => (h && h.count > 0 ? h.quantile(q) : Number.NaN);
const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : "—");
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "—");
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "—");
const kb = (bytes: number) => bytes / 1000;
const round = (n: number, digits = 0) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : null);

function framesPerSecond(phase: Phase): { mean: number; max: number; fastGaps: number; minGap: number; alarmFrames: number; bytesPerS: number } {
  const w = phase.window;
  if (!w || w.perScreen.length === 0) return { mean: Number.NaN, max: Number.NaN, fastGaps: 0, minGap: Number.NaN, alarmFrames: 0, bytesPerS: Number.NaN };
  const rates = w.perScreen.map((s) => s.realtimePerSecond);
  const gaps = w.perScreen.map((s) => s.minGapMs).filter((g) => g >= 0);
  return {
    mean: rates.reduce((a, b) => a + b, 0) / rates.length,
    max: Math.max(...rates),
    fastGaps: w.perScreen.reduce((sum, s) => sum + s.fastGaps, 0),
    minGap: gaps.length > 0 ? Math.min(...gaps) : Number.NaN,
    alarmFrames: w.perScreen.reduce((sum, s) => sum + s.alarmFrames, 0) / w.perScreen.length,
    bytesPerS: w.perScreen.reduce((sum, s) => sum + s.bytes, 0) / w.perScreen.length / w.seconds,
  };
}

function report(phases: Phase[], bundle: Awaited<ReturnType<typeof bundles>>, background: number): void {
  const out: string[] = [];
  const col = (cells: string[]) => out.push(`  ${cells[0]!.padEnd(42)}${cells.slice(1).map((c) => c.padStart(22)).join("")}`);
  out.push("");
  out.push(`MCS-IoT WebSocket fan-out bench — ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), Node ${process.version}`);
  out.push(`${DEVICES} devices each reporting once per 10 s (${f0(DEVICES / 10)} readings/s on the Redis bus in ${TICK_MS} ms batches), an alarm raised every ${ALARM_EVERY_MS / 1000} s and closed 2 s later`);
  out.push(`CPU is % of one core. Before the start the machine was ${f0(background)} % busy; load average at the end ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  if (background > 30) out.push("WARNING: other programs were using the CPU; latencies are longer and CPU shares noisier than on an idle machine");
  out.push("");
  col(["", ...phases.map((p) => p.name)]);
  col(["measured, s", ...phases.map((p) => f0(p.seconds))]);
  col(["backend CPU, % of one core", ...phases.map((p) => f1(p.cpu.backend!))]);
  col(["  in the busiest second", ...phases.map((p) => f0(p.busiestSecondPct))]);
  col(["  × baseline (0 screens)", ...phases.map((p) => f2(p.cpu.backend! / phases[0]!.cpu.backend!))]);
  col(["screens process / redis / postgres CPU %", ...phases.map((p) => `${f0(p.cpu.screens!)}/${f0(p.cpu.redis!)}/${f0(p.cpu.postgres!)}`)]);
  col(["other programs CPU %", ...phases.map((p) => f0(p.cpu.other!))]);
  col(["backend RSS start → end (max), MB", ...phases.map((p) => `${f0(p.rss.start)}→${f0(p.rss.end)} (${f0(p.rss.max)})`)]);
  col(["readings / alarm events published", ...phases.map((p) => `${p.readings} / ${p.alarms}`)]);
  col(["realtime latency p50 / p95, ms", ...phases.map((p) => (p.realtime ? `${f0(ms(p.realtime, 0.5))} / ${f0(ms(p.realtime, 0.95))}` : "—"))]);
  col(["realtime latency p99 / max, ms", ...phases.map((p) => (p.realtime ? `${f0(ms(p.realtime, 0.99))} / ${f0(p.realtime.max)}` : "—"))]);
  col(["alarm latency p50 / p95, ms", ...phases.map((p) => (p.alarm ? `${f1(ms(p.alarm, 0.5))} / ${f1(ms(p.alarm, 0.95))}` : "—"))]);
  col(["alarm latency p99 / max, ms", ...phases.map((p) => (p.alarm ? `${f1(ms(p.alarm, 0.99))} / ${f1(p.alarm.max)}` : "—"))]);
  col(["values received / published × screens", ...phases.map((p) => (p.window ? f2(p.realtime!.count / (p.readings * p.screens)) : "—"))]);
  col(["alarm frames per screen / published", ...phases.map((p) => (p.window ? `${f0(framesPerSecond(p).alarmFrames)} / ${p.alarms}` : "—"))]);
  col(["realtime frames/s per screen mean / max", ...phases.map((p) => (p.window ? `${f2(framesPerSecond(p).mean)} / ${f2(framesPerSecond(p).max)}` : "—"))]);
  col(["receive gaps < 900 ms / min gap, ms", ...phases.map((p) => (p.window ? `${framesPerSecond(p).fastGaps} / ${f0(framesPerSecond(p).minGap)}` : "—"))]);
  col(["bytes/s per screen", ...phases.map((p) => (p.window ? f0(framesPerSecond(p).bytesPerS) : "—"))]);
  col(["items with an unchanged ppm / undecodable", ...phases.map((p) => (p.window ? `${p.window.repeats} / ${p.window.undecodable}` : "—"))]);
  const connects = phases.filter((p) => p.connect);
  for (const p of connects) {
    const c = p.connect!;
    const h = Histogram.from(c.snapshotMs);
    if (c.withSnapshot === 0) {
      out.push(`  snapshot (${p.name}): none of ${c.opened} new screens got one`);
      continue;
    }
    out.push(`  snapshot (${p.name}): ${c.withSnapshot} of ${c.opened} new screens, ${c.snapshotItems.min}–${c.snapshotItems.max} devices each, upgrade→snapshot p50 ${f0(h.quantile(0.5))} ms, max ${f0(h.max)} ms`);
  }
  if (bundle) {
    out.push("", `Frontend first load (${bundle.from}, JS gzip -9, entry + modulepreloads + the route's lazy chunk and its preloads, static imports followed; kB = 1000 bytes)`);
    for (const b of [bundle.screen, bundle.login]) {
      out.push(`  ${b.route.padEnd(10)} ${f1(kb(b.jsGzipBytes)).padStart(7)} kB JS gzip (${f0(kb(b.jsRawBytes))} kB raw, ${b.jsFiles.length} files)${b.found ? "" : " — route not in the build"}, CSS ${f1(kb(b.cssGzipBytes))} kB gzip`);
    }
  }

  const main = phases.find((p) => p.screens === SCREENS)!;
  const idle = phases[0]!;
  const one = phases[1]!;
  const fps = framesPerSecond(main);
  const ratioToCore = main.cpu.backend! / 100;
  out.push("", "Budgets (issue 6, DESIGN.md):");
  out.push(`  backend CPU, ${DEVICES} devices × ${SCREENS} screens / one core      ${f2(ratioToCore)}   (< 1; ${f1(main.cpu.backend!)} % of one core, ${f2(main.cpu.backend! / idle.cpu.backend!)} × the 0-screen baseline of ${f1(idle.cpu.backend!)} %, ${f2((main.cpu.backend! - idle.cpu.backend!) / SCREENS)} % per screen)`);
  out.push(`  realtime frames/s per screen (max over screens)          ${f2(fps.max)}   (≤ 1; ${fps.fastGaps} consecutive frames < 900 ms apart)`);
  if (bundle) out.push(`  /screen first-load JS gzip / ${BUNDLE_BUDGET_KB} kB                       ${f2(kb(bundle.screen.jsGzipBytes) / BUNDLE_BUDGET_KB)}   (≤ 1; ${f1(kb(bundle.screen.jsGzipBytes))} kB${bundle.screen.found ? "" : ", route not built"})`);
  for (const note of notes) out.push(`note: ${note}`);
  out.push("");
  process.stdout.write(out.join("\n") + "\n");

  const summary = {
    devices: DEVICES,
    screens: SCREENS,
    seconds: SECONDS,
    backend_cpu_pct: round(main.cpu.backend!, 1),
    backend_cpu_ratio_to_core: round(ratioToCore, 3),
    backend_cpu_idle_pct: round(idle.cpu.backend!, 1),
    backend_cpu_1_screen_pct: round(one.cpu.backend!, 1),
    backend_cpu_ratio_to_idle: round(main.cpu.backend! / idle.cpu.backend!, 2),
    realtime_p50_ms: round(ms(main.realtime, 0.5)),
    realtime_p95_ms: round(ms(main.realtime, 0.95)),
    realtime_p99_ms: round(ms(main.realtime, 0.99)),
    realtime_max_ms: round(main.realtime?.max ?? Number.NaN),
    alarm_p50_ms: round(ms(main.alarm, 0.5), 1),
    alarm_p99_ms: round(ms(main.alarm, 0.99), 1),
    alarm_max_ms: round(main.alarm?.max ?? Number.NaN, 1),
    realtime_frames_per_s_max: round(fps.max, 2),
    fast_frame_gaps: fps.fastGaps,
    backend_rss_mb: round(main.rss.end, 1),
    backend_rss_growth_mb: round(main.rss.end - main.rss.start, 1),
    screen_js_gzip_kb: bundle ? round(kb(bundle.screen.jsGzipBytes), 1) : null,
    login_js_gzip_kb: bundle ? round(kb(bundle.login.jsGzipBytes), 1) : null,
    screen_js_ratio_to_budget: bundle ? round(kb(bundle.screen.jsGzipBytes) / BUNDLE_BUDGET_KB, 3) : null,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => abort(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, 1),
);
