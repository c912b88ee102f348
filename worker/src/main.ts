import { readFile } from "node:fs/promises";
import { createLicenseGuard, createLogger, loadConfig, MqttCommandPublisher, openPorts, stopOnSignals, systemClock } from "@mcs/platform";
import { MqttIngest } from "./ingest/mqtt-ingest.ts";
import { startWorker } from "./worker.ts";

// The worker as its own process (services mode): Mosquitto → worker → PostgreSQL + Redis.
const log = createLogger("worker");
const config = loadConfig();
if (!config.mqttUrl || !config.databaseUrl) {
  console.error("The worker process needs MQTT_URL and DATABASE_URL (and REDIS_URL to reach the backend). For everything in one process, run `npm start`.");
  process.exit(2);
}
if (!config.redisUrl) log.warn("REDIS_URL is not set: the backend in another process will not see live readings");

const ports = await openPorts(config);
const ca = config.mqttCa ? await readFile(config.mqttCa) : undefined;
const source = new MqttIngest({ url: config.mqttUrl, ca, clientId: config.mqttClientId, group: config.mqttShareGroup });
// Commands to devices that come back go out on a connection of their own (MQTT.js, clean
// session): the ingest connection holds its acks for commits and is no place for them.
const commands = new MqttCommandPublisher({ url: config.mqttUrl, ca, clientId: `${config.mqttClientId}-cmd` });
// The license guard: the backend's shares its record in the database (docs/license.md).
const license = createLicenseGuard({ db: ports.db, bus: ports.bus, clock: systemClock, publicKeyFile: config.licensePublicKeyFile, server: config.licenseServer });
await license.start();
// Notifications link to the alarm page people acknowledge on.
const worker = await startWorker({ ...ports, source, commands, license, archive: { dataDir: config.dataDir, defaultHotDays: config.retentionDays }, alarmLink: config.publicUrl ? `${config.publicUrl.replace(/\/+$/, "")}/alarms` : undefined });

stopOnSignals(log, async () => {
  await worker.stop();
  await license.stop();
  await commands.close();
  await ports.close();
});
