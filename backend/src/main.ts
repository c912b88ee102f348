import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createLogger, loadConfig, MqttCommandPublisher, openPorts, stopOnSignals } from "@mcs/platform";
import { buildApp } from "./app.ts";
import { ensureFirstAdmin } from "./first-admin.ts";

const log = createLogger("backend");

/** Services mode (`npm run backend`): PostgreSQL, Redis and the broker are other processes. */
async function main(): Promise<void> {
  const config = loadConfig();
  const ports = await openPorts(config);
  await ensureFirstAdmin(ports.db, { password: config.adminPassword, dataDir: config.dataDir });
  // MQTT_URL names the backend's own account (mcs-backend): it publishes commands. The
  // connection is also the broker's health: up means the broker answers and accepts us.
  if (!config.mqttUrl) log.warn("MQTT_URL is not set: commands wait for the worker to send them");
  if (!config.mosquitto) log.warn("MOSQUITTO_PASSWORD_FILE / MOSQUITTO_PID are not set: device logins on the broker are not kept in step with the devices");
  const commands = config.mqttUrl
    ? new MqttCommandPublisher({
        url: config.mqttUrl,
        ca: config.mqttCa ? await readFile(config.mqttCa) : undefined,
        // Unique per process (clean session): two backends must not knock each other off.
        clientId: `mcs-backend-${randomBytes(4).toString("hex")}`,
      })
    : undefined;
  const app = await buildApp({
    ...ports,
    commands,
    health: { broker: () => (commands?.connected ? "ok" : "down") },
    publicUrl: config.publicUrl,
    archive: { dataDir: config.dataDir, defaultHotDays: config.retentionDays },
    mosquitto: config.mosquitto,
    license: { publicKeyFile: config.licensePublicKeyFile, server: config.licenseServer },
    // Production sits behind HTTPS (nginx); MCS_SECURE_COOKIES=false for plain-HTTP trials.
    secureCookies: process.env.MCS_SECURE_COOKIES !== "false",
  });
  await app.listen({ port: config.httpPort, host: config.httpHost });

  stopOnSignals(log, async () => {
    await app.close(); // stops accepting, finishes requests (and command deliveries) in flight
    await commands?.close();
    await ports.close();
  });
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, "backend could not start");
  process.exit(1); // open connections would otherwise keep a failed start alive

});
