// Memory of the whole deployed stack at the plan's 500 detectors (issue 14; the table in
// docs/deploy.md): nginx, backend, worker, PostgreSQL, Redis and Mosquitto, as the compose
// stack runs them (test-support/stack.ts: bundled JavaScript, the project's nginx and
// Mosquitto configs, PostgreSQL with the compose file's settings), with 500 simulated
// detectors reporting every 10 s over TLS 1.3 and one big screen open through nginx.
//
//   npm run bench:stack-memory [-- --devices 500 --seconds 120]
//
// Memory is PSS (proportional set size: pages shared between processes, like PostgreSQL's
// shared buffers, are counted once across them), sampled every 5 s; each program's peak is
// printed against its compose mem_limit, and the sum against the plan's 2 GB server.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { WebSocket } from "ws";
import { createPgDb, DeviceStore, hashMosquittoPassword, migrate } from "@mcs/platform";
import { Fleet, GAS_PROFILES, type GasName } from "../../simulator/src/index.ts";
import { httpsRequest } from "../../test-support/https.ts";
import { startPostgres } from "../../test-support/postgres.ts";
import { startRedis } from "../../test-support/redis.ts";
import { startStack } from "../../test-support/stack.ts";
import { cleanupOnExit } from "./cleanup.ts";
import { findPids, processTree } from "./proc-stats.ts";

const { values: args } = parseArgs({
  options: {
    devices: { type: "string", default: "500" },
    seconds: { type: "string", default: "120" },
  },
});
const DEVICES = Number(args.devices);
const SECONDS = Number(args.seconds);
const INTERVAL_S = 10;
const GASES: GasName[] = ["CH4", "H2S", "CO", "NH3"];
const ADMIN_PASSWORD = "stack-memory-admin-1";

const log = (line: string) => console.error(`[stack-memory] ${line}`);
const { onCleanup, cleanUp } = cleanupOnExit(log, (240 + SECONDS) * 1000);

const compose = parse(readFileSync(new URL("../../deploy/docker-compose.yml", import.meta.url), "utf8"), { merge: true }) as {
  services: Record<string, { command?: string[]; mem_limit?: string }>;
};
/** The compose file's `-c name=value` flags for PostgreSQL: the measurement runs production's tuning. */
const pgSettings = (compose.services.timescaledb?.command ?? []).filter((_, i, all) => all[i - 1] === "-c");
const limitMb = (service: string) => Number(/^(\d+)m$/.exec(compose.services[service]?.mem_limit ?? "")?.[1] ?? NaN);

const pssMb = (pids: number[]) =>
  pids.reduce((sum, pid) => {
    try {
      return sum + Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? 0) / 1024;
    } catch {
      return sum; // the process ended between the listing and the read
    }
  }, 0);

log(`PostgreSQL with ${pgSettings.join(" ")}`);
const pg = await startPostgres({ settings: pgSettings });
onCleanup("postgres", () => pg.stop());
const redis = await startRedis();
onCleanup("redis", () => redis.stop());

const devices = Array.from({ length: DEVICES }, (_, i) => ({ sn: `MEM${String(i).padStart(4, "0")}`, password: `mem-${i}-${"x".repeat(24)}`, gas: GASES[i % GASES.length]! }));
const db = createPgDb(pg.url);
onCleanup("db", () => db.close());
await migrate(db);
const store = new DeviceStore(db);
for (const device of devices) await store.create({ sn: device.sn, gas: device.gas, unit: GAS_PROFILES[device.gas].unit }, hashMosquittoPassword(device.password), { name: "bench" });
log(`${DEVICES} devices registered; starting the stack`);

const stack = await startStack({ databaseUrl: pg.url, redisUrl: redis.url, adminPassword: ADMIN_PASSWORD, logLevel: "warn" });
onCleanup("stack", () => stack.stop());

// One big screen on the plant's address, as in the control room.
const login = await httpsRequest(`${stack.url}/api/auth/login`, {
  ca: stack.ca, method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }),
});
const { token } = JSON.parse(login.body.toString()) as { token: string };
let frames = 0;
const screen = new WebSocket(`${stack.url.replace("https:", "wss:")}/ws/dashboard`, { ca: stack.ca, headers: { authorization: `Bearer ${token}` } });
screen.on("message", () => frames++);
onCleanup("screen", () => screen.close());

const fleet = new Fleet(devices, { url: `mqtts://127.0.0.1:${stack.broker.tlsPort}`, ca: stack.broker.ca, intervalMs: INTERVAL_S * 1000 });
onCleanup("fleet", () => fleet.stop());
await fleet.start();
log(`${fleet.connected} of ${DEVICES} detectors connected; measuring for ${SECONDS} s`);

const postmaster = findPids("postgres", `-p ${pg.port}`)[0];
const programs: Record<string, { service: string; pids: () => number[] }> = {
  nginx: { service: "nginx", pids: () => processTree(stack.nginx.pid) },
  backend: { service: "backend", pids: () => [stack.backend.child.pid!] },
  worker: { service: "worker", pids: () => [stack.worker.child.pid!] },
  postgresql: { service: "timescaledb", pids: () => (postmaster ? processTree(postmaster) : []) },
  redis: { service: "redis", pids: () => [redis.pid] },
  mosquitto: { service: "mosquitto", pids: () => [stack.broker.pid] },
};
const peak: Record<string, number> = {};
const last: Record<string, number> = {};
const sample = () => {
  for (const [name, program] of Object.entries(programs)) {
    last[name] = pssMb(program.pids());
    peak[name] = Math.max(peak[name] ?? 0, last[name]);
  }
};
const storedBefore = (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM telemetry"))[0]!.n;
const started = Date.now();
while (Date.now() - started < SECONDS * 1000) {
  sample();
  await new Promise((resolve) => setTimeout(resolve, 5000));
}
sample();
const stored = (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM telemetry"))[0]!.n - storedBefore;

const rows = Object.entries(programs).map(([name, program]) => ({
  program: name,
  pss_mb: Math.round(last[name]!),
  peak_pss_mb: Math.round(peak[name]!),
  compose_limit_mb: limitMb(program.service),
  peak_of_limit: Number((peak[name]! / limitMb(program.service)).toFixed(2)),
}));
const total = rows.reduce((sum, row) => sum + row.peak_pss_mb, 0);
console.table(rows);
console.log(JSON.stringify({
  devices: DEVICES,
  connected: fleet.connected,
  seconds: SECONDS,
  readings_stored: stored,
  readings_expected: Math.floor((DEVICES * SECONDS) / INTERVAL_S),
  screen_frames: frames,
  programs: rows,
  total_peak_pss_mb: total,
  total_compose_limits_mb: rows.reduce((sum, row) => sum + row.compose_limit_mb, 0),
  total_of_2gb: Number((total / 2048).toFixed(2)),
}));
await cleanUp();
process.exit(0);
