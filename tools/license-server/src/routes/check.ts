import type { KeyObject } from "node:crypto";
import type { FastifyPluginAsync } from "fastify";
import { signCheckAnswer, type CheckRequest } from "@mcs/core";
import { checkStatus } from "../check-status.ts";
import { checkAnswerSchema, checkRequestSchema, errorSchema } from "../schemas.ts";
import type { VendorLicenseStore } from "../store.ts";

export interface CheckRoutesOptions {
  store: VendorLicenseStore;
  privateKey: KeyObject;
  now: () => number;
}

/**
 * `POST /api/check`: a guard asks whether its license still holds. The answer repeats the
 * request and the nonce, carries the server's time and is signed with the vendor's key, so
 * the guard can tell a genuine, fresh answer from a forged or replayed one. Every check is
 * recorded, whatever its answer.
 */
export const checkRoutes: FastifyPluginAsync<CheckRoutesOptions> = async (app, { store, privateKey, now }) => {
  app.post<{ Body: CheckRequest }>("/api/check", {
    schema: { body: checkRequestSchema, response: { 200: checkAnswerSchema, 400: errorSchema } },
  }, async (request) => {
    const { license_id, fingerprint, nonce } = request.body;
    const at = now();
    const license = await store.findLicense(license_id, at);
    const status = checkStatus(license, fingerprint, at);
    await store.recordCheck({ license_id, fingerprint, nonce, status }, at);
    // A known license asked for from another machine: its file was copied.
    if (license !== null && license.fingerprint !== fingerprint) request.log.warn({ license_id, fingerprint }, "license check from another machine");
    else request.log.info({ license_id, status }, "license check");
    return signCheckAnswer({ license_id, fingerprint, nonce, status, time: new Date(at).toISOString() }, privateKey);
  });
};
