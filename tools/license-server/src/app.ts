import type { KeyObject } from "node:crypto";
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from "fastify";
import { installErrorHandler } from "./error-handler.ts";
import { adminRoutes } from "./routes/admin.ts";
import { checkRoutes } from "./routes/check.ts";
import { healthRoutes } from "./routes/health.ts";
import type { VendorLicenseStore } from "./store.ts";

export interface LicenseServerOptions {
  store: VendorLicenseStore;
  /** The vendor's Ed25519 key: signs the check answers (and verifies the files registered). */
  privateKey: KeyObject;
  /** `Authorization: Bearer <adminToken>` opens the admin routes. */
  adminToken: string;
  /** Unix ms; injectable so that tests decide what day it is. */
  now?: () => number;
  /** Fastify's logger option; off by default (tests). */
  logger?: FastifyServerOptions["logger"];
}

/** A check request, a registration or a revocation: small JSON; a license file is at most 64 KiB. */
const BODY_LIMIT_BYTES = 128 * 1024;

/**
 * The vendor's license service: the guards' `POST /api/check`, the vendor's admin routes
 * behind a bearer token, and health. The store is borrowed: closing the app leaves it open.
 */
export async function buildLicenseServer(options: LicenseServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    // Each check and each admin action logs one line of its own; a line per request is noise.
    logController: new LogController({ disableRequestLogging: true }),
    // A nonce of 17 digits sent as a number is not a nonce: no coercion of bodies.
    ajv: { customOptions: { coerceTypes: false } },
  });
  installErrorHandler(app);
  const now = options.now ?? Date.now;
  await app.register(healthRoutes, { store: options.store, now });
  await app.register(checkRoutes, { store: options.store, privateKey: options.privateKey, now });
  await app.register(adminRoutes, { store: options.store, privateKey: options.privateKey, adminToken: options.adminToken, now });
  return app;
}
