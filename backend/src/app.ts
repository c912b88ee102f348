import compress from "@fastify/compress";
import cookie from "@fastify/cookie";
import Fastify, { type FastifyInstance } from "fastify";
import { createLogger, systemClock, type Bus, type Cache, type Clock, type CommandPublisher, type Db, type Logger } from "@mcs/platform";
import type { Health } from "@mcs/protocol";
import { portsPlugin } from "./plugins/external/ports.ts";
import { zodPlugin } from "./plugins/external/zod.ts";
import { openapiPlugin } from "./plugins/external/openapi.ts";
import { errorHandlerPlugin } from "./plugins/external/error-handler.ts";
import { frontendPlugin } from "./plugins/external/frontend.ts";
import { csrfPlugin } from "./plugins/app/csrf.ts";
import { repositoriesPlugin } from "./plugins/app/repositories.ts";
import { sessionsPlugin } from "./plugins/app/sessions.ts";
import { loginThrottlePlugin } from "./plugins/app/login-throttle.ts";
import { authPlugin } from "./plugins/app/auth.ts";
import { liveStatePlugin } from "./plugins/app/live-state.ts";
import { deviceEventsPlugin } from "./plugins/app/device-events.ts";
import { commandDispatchPlugin } from "./plugins/app/command-dispatch.ts";
import { firmwarePlugin } from "./plugins/app/firmware.ts";
import { brokerCredentialsPlugin, type BrokerCredentialsOptions } from "./plugins/app/broker-credentials.ts";
import { alarmRepositoriesPlugin } from "./plugins/app/alarm-repositories.ts";
import { licensePlugin, type LicenseOptions } from "./plugins/app/license.ts";
import licenseRoutes from "./routes/license/index.ts";
import healthRoutes from "./routes/health/index.ts";
import authRoutes from "./routes/auth/index.ts";
import deviceRoutes from "./routes/devices/index.ts";
import auditRoutes from "./routes/audit/index.ts";
import firmwareRoutes from "./routes/firmware/index.ts";
import rolloutRoutes from "./routes/rollouts/index.ts";
import usersRoutes from "./routes/users/index.ts";
import floorplansRoutes from "./routes/floorplans/index.ts";
import settingsRoutes from "./routes/settings/index.ts";
import alarmRoutes from "./routes/alarms/index.ts";
import alarmPresetRoutes from "./routes/alarms/presets.ts";
import channelRoutes from "./routes/channels/index.ts";
import { dashboardHubPlugin, type DashboardHubOptions } from "./plugins/app/dashboard-hub.ts";
import dashboardRoutes from "./routes/dashboard/index.ts";
import kioskTokenRoutes from "./routes/kiosk-tokens/index.ts";
import overviewRoutes from "./routes/overview/index.ts";
import archiveRoutes from "./routes/archive/index.ts";
import { resolve } from "node:path";

export interface AppDeps {
  db: Db;
  cache: Cache;
  bus: Bus;
  clock?: Clock;
  /**
   * Publishes commands to `mcs/{sn}/cmd` (the embedded broker, or an MQTT connection as
   * `mcs-backend`). Without it, commands wait for the worker to send them.
   */
  commands?: CommandPublisher;
  /** The broker's state, as its owner knows it (the embedded server, or a probe in services mode). */
  health?: { broker(): Health["broker"]; demo?(): Health["demo"] };
  /** Mark the session cookie Secure: on wherever HTTPS is in front. */
  secureCookies?: boolean;
  /** Fastify's `trustProxy`, so that audit rows name the client, not nginx. Off by default. */
  trustProxy?: boolean | string | string[];
  /**
   * Where devices reach this server over HTTPS (`MCS_PUBLIC_URL`): the base of firmware
   * download addresses. Without it, `ota` works only with images hosted elsewhere.
   */
  publicUrl?: string;
  /** Services mode: keep Mosquitto's password file in step with the devices. */
  mosquitto?: BrokerCredentialsOptions["mosquitto"];
  /** How often rollouts start their next devices (default 2 s). */
  rolloutTickMs?: number;
  /** Defaults to the platform's `backend.http` logger. */
  logger?: Logger;
  /** The big screen's WebSocket: batching and slow-client limits, ping interval (defaults: 1 s, 256 KiB, 4 MiB, 30 s). */
  dashboard?: DashboardHubOptions;
  /** The license guard (shared with the embedded worker), or how to make the app's own. */
  license?: LicenseOptions;
  /** The archive: `MCS_DATA_DIR` (its folder when no object storage is set up) and `MCS_RETENTION_DAYS` (default ./data and 3). */
  archive?: { dataDir: string; defaultHotDays: number };
}

/** Bodies are small JSON documents; a larger one is refused (413) before it is parsed. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * The REST API. Everything is a plugin, registered in order: external services (ports,
 * zod, OpenAPI, errors) → application services (stores, sessions, auth, live state) →
 * routes, one resource per folder. The ports are borrowed: closing the app leaves them open.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger ?? createLogger("backend.http"),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: deps.trustProxy ?? false,
    // `/api/devices/` is the list, not a device with an empty sn.
    routerOptions: { ignoreTrailingSlash: true },
  });

  await app.register(portsPlugin, { db: deps.db, cache: deps.cache, bus: deps.bus, clock: deps.clock ?? systemClock });
  await app.register(zodPlugin);
  await app.register(errorHandlerPlugin);
  await app.register(cookie);
  // The plan's link is 5 Mbit/s: JSON answers (the device list of 500) go gzipped; gzip, not
  // brotli, keeps the 2-core server's CPU for ingest. Static files come pre-compressed.
  await app.register(compress, { global: true, encodings: ["gzip"], threshold: 2048 });
  await app.register(openapiPlugin);

  await app.register(repositoriesPlugin);
  await app.register(alarmRepositoriesPlugin);
  // Before every route: a locked installation refuses the API (docs/license.md).
  await app.register(licensePlugin, deps.license ?? {});
  await app.register(sessionsPlugin);
  await app.register(loginThrottlePlugin);
  await app.register(authPlugin);
  await app.register(csrfPlugin);
  await app.register(liveStatePlugin);
  await app.register(deviceEventsPlugin);
  await app.register(commandDispatchPlugin, { publisher: deps.commands });
  await app.register(brokerCredentialsPlugin, { mosquitto: deps.mosquitto });
  await app.register(firmwarePlugin, { publicUrl: deps.publicUrl, rolloutTickMs: deps.rolloutTickMs ?? 2000 });
  await app.register(dashboardHubPlugin, deps.dashboard ?? {});

  const broker = deps.health?.broker ?? (() => "down" as const);
  await app.register(healthRoutes, { prefix: "/api", broker, demo: deps.health?.demo });
  await app.register(authRoutes, { prefix: "/api/auth", secureCookies: deps.secureCookies ?? false });
  await app.register(deviceRoutes, { prefix: "/api/devices" });
  await app.register(auditRoutes, { prefix: "/api/audit" });
  await app.register(firmwareRoutes, { prefix: "/api/firmware" });
  await app.register(rolloutRoutes, { prefix: "/api/rollouts" });
  await app.register(usersRoutes, { prefix: "/api/users" });
  await app.register(floorplansRoutes, { prefix: "/api/floorplans" });
  const archive = deps.archive ?? { dataDir: resolve("./data"), defaultHotDays: 3 };
  await app.register(settingsRoutes, { prefix: "/api/settings", defaultHotDays: archive.defaultHotDays });
  await app.register(archiveRoutes, { prefix: "/api/archive", dataDir: archive.dataDir });
  await app.register(alarmRoutes, { prefix: "/api/alarms" });
  await app.register(alarmPresetRoutes, { prefix: "/api/alarm-presets" });
  await app.register(channelRoutes, { prefix: "/api/channels" });
  await app.register(kioskTokenRoutes, { prefix: "/api/kiosk-tokens" });
  await app.register(overviewRoutes, { prefix: "/api/overview" });
  await app.register(licenseRoutes, { prefix: "/api/license" });
  await app.register(dashboardRoutes, { prefix: "/ws" });
  await app.register(frontendPlugin);

  // Not made ready here: the embedded server may still add its own plugins (the HTTPS listener's routing, WebSocket).
  // Typed with the base logger, as every consumer expects (pino's Logger is one).
  return app as unknown as FastifyInstance;
}
