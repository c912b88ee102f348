import fp from "fastify-plugin";
import { createLicenseGuard, type LicenseGuard } from "@mcs/platform";
import type { FastifyRequest } from "fastify";
import { AppError, ERROR_CODES } from "../../errors.ts";

declare module "fastify" {
  interface FastifyInstance {
    license: LicenseGuard;
  }
}

export interface LicenseOptions {
  /** A guard owned by the caller (the embedded server shares one with its worker); else one of the app's own. */
  guard?: LicenseGuard | undefined;
  /** `MCS_LICENSE_PUBKEY`, `MCS_LICENSE_SERVER` for a guard of the app's own. */
  publicKeyFile?: string | undefined;
  server?: string | undefined;
}

/**
 * What a locked installation still answers: health, logging in and out (and who is logged
 * in: the pages need the role to offer an admin the upload), and the license
 * itself, so that an admin can install a new one. Everything else is refused with
 * MCS_ERR_LICENSE. The site's files and the big screen's WebSocket are not the API: the
 * pages load to show the lock, and gas alarms keep reaching the screen (docs/license.md).
 */
const OPEN_WHILE_LOCKED = new Set(["GET /api/health", "POST /api/auth/login", "POST /api/auth/logout", "GET /api/auth/me", "GET /api/license", "POST /api/license", "POST /api/license/check"]);

function openWhileLocked(request: FastifyRequest): boolean {
  const path = request.url.split("?", 1)[0]!.replace(/\/+$/, "");
  if (!path.startsWith("/api/") && path !== "/api") return true;
  return OPEN_WHILE_LOCKED.has(`${request.method === "HEAD" ? "GET" : request.method} ${path}`);
}

/** The license guard of the backend: its state for the routes, and the lock on the API. */
export const licensePlugin = fp<LicenseOptions>(
  async (app, options) => {
    const own = options.guard === undefined;
    const guard = options.guard ?? createLicenseGuard({ db: app.db, bus: app.bus, clock: app.clock, publicKeyFile: options.publicKeyFile, server: options.server });
    if (own) await guard.start();
    app.decorate("license", guard);
    if (own) app.addHook("onClose", () => guard.stop());

    app.addHook("onRequest", async (request) => {
      if (!guard.locked || openWhileLocked(request)) return;
      const { state, reason } = guard.status;
      throw new AppError(403, ERROR_CODES.license, `the license is ${state}: ${reason}. An admin can install a license file (POST /api/license) or check again (POST /api/license/check); gas alarms are still judged and notified`);
    });
  },
  { name: "license", dependencies: ["ports"] },
);
