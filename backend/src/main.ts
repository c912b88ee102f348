import { createLogger, loadConfig, openPorts } from "@mcs/platform";
import { buildApp } from "./app.ts";
import { probeBroker } from "./broker-probe.ts";
import { ensureFirstAdmin } from "./first-admin.ts";

const log = createLogger("backend");

/** Services mode (`npm run backend`): PostgreSQL, Redis and the broker are other processes. */
async function main(): Promise<void> {
  const config = loadConfig();
  const ports = await openPorts(config);
  await ensureFirstAdmin(ports.db, { password: config.adminPassword, dataDir: config.dataDir });
  const broker = config.mqttUrl ? probeBroker(config.mqttUrl) : undefined;
  const app = await buildApp({
    ...ports,
    health: { broker: () => broker?.state() ?? "down" },
    // Production sits behind HTTPS (nginx); MCS_SECURE_COOKIES=false for plain-HTTP trials.
    secureCookies: process.env.MCS_SECURE_COOKIES !== "false",
  });
  await app.listen({ port: config.httpPort, host: config.httpHost });

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    const force = setTimeout(() => {
      log.error("shutdown took too long; exiting");
      process.exit(1);
    }, 10_000).unref();
    try {
      await app.close(); // stops accepting, finishes requests in flight
      broker?.stop();
      await ports.close();
    } finally {
      clearTimeout(force);
    }
    process.exit(0);
  };
  process.once("SIGTERM", (signal) => void stop(signal));
  process.once("SIGINT", (signal) => void stop(signal));
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, "backend could not start");
  process.exit(1); // open connections would otherwise keep a failed start alive

});
