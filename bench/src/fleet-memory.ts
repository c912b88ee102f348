// Memory budget (DESIGN "Budgets"): worker + backend resident memory with 500 detectors
// reporting every 10 s, services mode (PostgreSQL, Redis, Mosquitto with the project config).
// `npm run bench:memory`; prints one JSON line after 90 s of traffic.
import { readFileSync } from "node:fs";
import { startPostgres } from "../../test-support/postgres.ts";
import { startRedis } from "../../test-support/redis.ts";
import { startMosquitto } from "../../test-support/mosquitto.ts";
import { startProductProcess } from "../../test-support/processes.ts";
import { createPgDb, DeviceStore, migrate } from "../../packages/platform/src/index.ts";
import { Fleet } from "../../simulator/src/index.ts";

const N = 500;
const pg = await startPostgres(); const redis = await startRedis();
const devices = Array.from({ length: N }, (_, i) => ({ sn: `M${String(i).padStart(3, "0")}`, password: `pw-${i}-xxxxxxxxxxxx` }));
const broker = await startMosquitto({ users: { "mcs-worker": "wpw-xxxxxxxxxxxx", "mcs-backend": "bpw-xxxxxxxxxxxx", ...Object.fromEntries(devices.map((d) => [d.sn, d.password])) } });
const db = createPgDb(pg.url); await migrate(db);
const store = new DeviceStore(db);
for (const d of devices) await store.create({ sn: d.sn }, "x", { name: "mem" });
const env = { DATABASE_URL: pg.url, REDIS_URL: redis.url, MQTT_CA: broker.caPath, LOG_LEVEL: "warn" };
const worker = startProductProcess("worker/src/main.ts", { ...env, MQTT_URL: broker.url("plain", "mcs-worker", "wpw-xxxxxxxxxxxx") });
const backend = startProductProcess("backend/src/main.ts", { ...env, MQTT_URL: broker.url("plain", "mcs-backend", "bpw-xxxxxxxxxxxx"), HTTP_PORT: "0", MCS_ADMIN_PASSWORD: "admin-password-1", MCS_DATA_DIR: "/tmp/mem500-data" });
await new Promise((r) => setTimeout(r, 8000));
const fleet = new Fleet(devices, { url: broker.url("tls"), ca: broker.ca, intervalMs: 10_000 });
await fleet.start();
const rss = (pid: number) => { const s = readFileSync(`/proc/${pid}/status`, "utf8"); return { rss: Number(/VmRSS:\s+(\d+)/.exec(s)![1]) / 1024, hwm: Number(/VmHWM:\s+(\d+)/.exec(s)![1]) / 1024 }; };
await new Promise((r) => setTimeout(r, 90_000));
const stored = (await db.query<{ n: number }>("select count(*)::int n from telemetry"))[0]!.n;
const w = rss(worker.child.pid!); const b = rss(backend.child.pid!);
console.log(JSON.stringify({ devices: N, connected: fleet.connected, stored, worker_mb: w, backend_mb: b, sum_rss_mb: Math.round(w.rss + b.rss), sum_peak_mb: Math.round(w.hwm + b.hwm) }));
await fleet.stop(); await worker.stop(); await backend.stop(); await db.close(); await broker.stop(); await redis.stop(); pg.stop();
process.exit(0);
