import { join } from "node:path";
import { buildApp, ensureFirstAdmin } from "@mcs/backend";
import {
  createLicenseGuard,
  createLogger,
  DeviceStore,
  EmbeddedCommandPublisher,
  ensureCertificates,
  MqttCommandPublisher,
  openPorts,
  startEmbeddedBroker,
  systemClock,
  verifyMosquittoPassword,
  type CertificateFiles,
  type CommandPublisher,
  type Config,
  type EmbeddedBroker,
  type Ports,
} from "@mcs/platform";
import { AedesSource, MqttIngest, startWorker, type MessageSource, type Worker } from "@mcs/worker";
import type { Fleet } from "@mcs/simulator";
import type { FastifyInstance } from "fastify";
import { readFile } from "node:fs/promises";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { startDemoFleet } from "./demo-fleet.ts";
import { ensureDemoFloorplan } from "./demo-floorplan.ts";
import { startDemoScenario, type DemoScenario } from "./demo-scenario.ts";

const log = createLogger("server");

export interface Server {
  ports: Ports;
  broker: EmbeddedBroker | undefined;
  worker: Worker;
  app: FastifyInstance;
  fleet: Fleet | undefined;
  /** The demo scenario's scripted events on the demo fleet (undefined when off). */
  scenario: DemoScenario | undefined;
  /** Embedded mode: the CA devices trust (MQTT and firmware downloads). */
  ca: string | undefined;
  httpPort: number;
  /** Embedded mode: the same API over HTTPS (firmware downloads need it). */
  httpsPort: number | undefined;
  mqttPort: number | undefined;
  stop(): Promise<void>;
}

/**
 * The whole product in one process: the ports the configuration names (embedded where it
 * names none), the embedded broker when no MQTT_URL is set, the worker, the backend, and
 * the demo fleet.
 */
export async function startServer(config: Config): Promise<Server> {
  const ports = await openPorts(config);
  await ensureFirstAdmin(ports.db, { password: config.adminPassword, dataDir: config.dataDir });

  let broker: EmbeddedBroker | undefined;
  let source: MessageSource;
  let commands: CommandPublisher;
  let certs: CertificateFiles | undefined;
  if (config.mqttUrl) {
    const brokerCa = config.mqttCa ? await readFile(config.mqttCa) : undefined;
    source = new MqttIngest({ url: config.mqttUrl, ca: brokerCa, clientId: config.mqttClientId, group: config.mqttShareGroup });
    commands = new MqttCommandPublisher({ url: config.mqttUrl, ca: brokerCa, clientId: `${config.mqttClientId}-cmd` });
  } else {
    certs = await ensureCertificates(join(config.dataDir, "certs"));
    const devices = new DeviceStore(ports.db);
    broker = await startEmbeddedBroker({
      port: config.mqttTlsPort,
      certs,
      authenticate: async (sn, password) => {
        const hash = await devices.passwordHash(sn);
        return hash !== null && verifyMosquittoPassword(password, hash);
      },
    });
    source = new AedesSource(broker);
    commands = new EmbeddedCommandPublisher(broker);
  }

  // The HTTPS port is bound before the app is built: a port of 0 is known only then.
  const https = certs ? await listenHttps(certs, config.httpsPort, config.httpHost) : undefined;
  const httpsPort = https ? (https.address() as AddressInfo).port : undefined;
  const publicUrl = config.publicUrl ?? (httpsPort ? `https://localhost:${httpsPort}` : undefined);
  // One publisher for both: the worker sends to devices that come back, the API sends new commands.
  // One guard for the worker and the backend of this process.
  const license = createLicenseGuard({ db: ports.db, bus: ports.bus, clock: systemClock, publicKeyFile: config.licensePublicKeyFile, server: config.licenseServer });
  await license.start();
  const worker = await startWorker({ ...ports, source, commands, license, archive: { dataDir: config.dataDir, defaultHotDays: config.retentionDays }, alarmLink: publicUrl ? `${publicUrl.replace(/\/+$/, "")}/alarms` : undefined });
  // The demo (embedded only): set up once the app listens; the health answer names it.
  let fleet: Fleet | undefined;
  let scenario: DemoScenario | undefined;
  const app = await buildApp({ ...ports, commands, publicUrl, license: { guard: license }, archive: { dataDir: config.dataDir, defaultHotDays: config.retentionDays }, health: { broker: () => (!source.connected ? "down" : broker ? "embedded" : "ok"), demo: () => (fleet ? { devices: fleet.detectors.length, scenario: scenario !== undefined } : null) } });
  await app.listen({ port: config.httpPort, host: config.httpHost });
  https?.on("request", (req, res) => app.routing(req, res));
  // The big screen's WebSocket over the HTTPS port too: upgrades go to the app's own server.
  https?.on("upgrade", (req, socket, head) => app.server.emit("upgrade", req, socket, head));
  const address = app.server.address();
  const httpPort = typeof address === "object" && address ? address.port : config.httpPort;

  if (broker && certs && config.demoDevices > 0) {
    fleet = await startDemoFleet(ports.db, { count: config.demoDevices, dataDir: config.dataDir, url: `mqtts://localhost:${broker.port}`, ca: certs.ca, intervalMs: config.demoIntervalMs });
    await ensureDemoFloorplan(ports.db, fleet.detectors.map((d) => d.sn), Date.now());
    if (config.demoScenario.enabled) {
      const { firstEventAfterMs, periodMs, speed } = config.demoScenario;
      const devices = new DeviceStore(ports.db);
      scenario = startDemoScenario({ detectors: fleet.detectors, limitsOf: (sn) => devices.get(sn), firstEventAfterMs, periodMs, speed });
    }
  }
  log.info({ http: httpPort, https: httpsPort, mqtt: broker?.port, mode: config.mqttUrl ? "services" : "embedded" }, "MCS-IoT is running");

  return {
    ports, broker, worker, app, fleet, scenario, ca: certs?.ca, httpPort, httpsPort, mqttPort: broker?.port,
    async stop() {
      scenario?.stop();
      await fleet?.stop();
      if (https) {
        const closed = new Promise((resolve) => https.close(resolve));
        https.closeAllConnections();
        await closed;
      }
      await app.close();
      await worker.stop();
      await license.stop();
      await commands.close();
      await broker?.close();
      await ports.close();
    },
  };
}

/** An HTTPS listener with the embedded certificate; requests are routed once the app is ready. */
function listenHttps(certs: CertificateFiles, port: number, host: string): Promise<HttpsServer> {
  const server = createHttpsServer({ key: certs.key, cert: certs.cert, minVersion: "TLSv1.2" });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
