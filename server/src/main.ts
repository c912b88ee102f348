import { createLogger, loadConfig } from "@mcs/platform";
import { startServer } from "./server.ts";

const log = createLogger("server");

const config = loadConfig();
const server = await startServer(config);
console.log(`MCS-IoT: http://localhost:${server.httpPort}/  (API docs: /api/docs)`);
if (server.mqttPort) console.log(`MQTT over TLS on port ${server.mqttPort}; devices trust ${config.dataDir}/certs/ca.pem`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    server.stop().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, "stop failed");
        process.exit(1);
      },
    );
  });
}
