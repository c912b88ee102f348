import { DeviceStore, hashMosquittoPassword, loadConfig } from "@mcs/platform";
import { startServer } from "../../server/src/server.ts";
import { serveIpc } from "./ipc.ts";
import { memoryOf } from "./proc-stats.ts";

/**
 * The embedded all-in-one server as `npm start` runs it (startServer(loadConfig(env)):
 * Aedes over TLS, PGlite, in-memory cache and bus, worker, backend), in a child process of
 * its own. Env: MCS_DATA_DIR (a temp folder), HTTP_PORT=0, MQTT_TLS_PORT=0,
 * MCS_DEMO_DEVICES=0, MCS_ADMIN_PASSWORD.
 */
const config = loadConfig();
const server = await startServer(config);
const devices = new DeviceStore(server.ports.db);

serveIpc({
  /** Registers devices as the REST API would: the hash of their MQTT password in the database. */
  async register(params: { devices: { sn: string; password: string }[] }) {
    for (const device of params.devices) {
      await devices.create({ sn: device.sn }, hashMosquittoPassword(device.password), { name: "bench" });
    }
    return params.devices.length;
  },
  stats: () => ({ processor: server.worker.processor.stats, memory: memoryOf(process.pid), heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20 }),
  /** Stored readings per device with seq in [from, to): for the lost / duplicated check. */
  async perDevice(params: { from: number; to: number }) {
    return server.ports.db.query<{ sn: string; n: number; distinct_keys: number; min_seq: number; max_seq: number }>(
      `SELECT sn, count(*)::int AS n, count(DISTINCT (sn, ts, seq))::int AS distinct_keys, min(seq) AS min_seq, max(seq) AS max_seq
       FROM telemetry WHERE seq >= $1 AND seq < $2 GROUP BY sn`,
      [params.from, params.to],
    );
  },
  async deadLetters() {
    const [row] = await server.ports.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dead_letters`);
    return row?.n ?? 0;
  },
  async stop() {
    await server.stop();
    setTimeout(() => process.exit(0), 50);
    return true;
  },
});
process.send!({ ready: { mqttPort: server.mqttPort, httpPort: server.httpPort, caPath: `${config.dataDir}/certs/ca.pem`, rssMb: memoryOf(process.pid)?.rssMb } });
