import { createLogger, loadConfig, stopOnSignals } from "@mcs/platform";
import { startServer } from "./server.ts";

const log = createLogger("server");

const config = loadConfig();
const server = await startServer(config);
console.log(`MCS-IoT: http://localhost:${server.httpPort}/  (API docs: /api/docs)`);
if (server.mqttPort) console.log(`MQTT over TLS on port ${server.mqttPort}; devices trust ${config.dataDir}/certs/ca.pem`);

stopOnSignals(log, () => server.stop());
