import { createPublicKey, type KeyObject } from "node:crypto";
import type { FastifyPluginAsync } from "fastify";
import { parseLicenseFile, verifyLicenseFile } from "@mcs/core";
import { tokenMatches } from "../admin-token.ts";
import { badRequest, notFound, unauthenticated } from "../errors.ts";
import { customerViewSchema, errorSchema, licenseIdParamsSchema, licenseViewSchema, registerBodySchema, revokeBodySchema } from "../schemas.ts";
import type { VendorLicenseStore } from "../store.ts";

export interface AdminRoutesOptions {
  store: VendorLicenseStore;
  privateKey: KeyObject;
  adminToken: string;
  now: () => number;
}

const refusals = { 400: errorSchema, 401: errorSchema, 404: errorSchema, 409: errorSchema };

/** The vendor's own routes, every one behind `Authorization: Bearer <admin token>`. */
export const adminRoutes: FastifyPluginAsync<AdminRoutesOptions> = async (app, { store, privateKey, adminToken, now }) => {
  const publicKey = createPublicKey(privateKey);
  app.addHook("onRequest", async (request) => {
    const header = request.headers.authorization ?? "";
    const presented = /^Bearer (\S+)$/i.exec(header)?.[1];
    if (presented === undefined || !tokenMatches(presented, adminToken)) {
      throw unauthenticated("the admin token is needed: Authorization: Bearer <the token in the store's admin-token file>");
    }
  });

  app.get("/api/customers", {
    schema: { response: { 200: { type: "object", properties: { customers: { type: "array", items: customerViewSchema } } }, ...refusals } },
  }, async () => ({ customers: await store.listCustomers() }));

  app.get("/api/licenses", {
    schema: { response: { 200: { type: "object", properties: { licenses: { type: "array", items: licenseViewSchema } } }, ...refusals } },
  }, async () => ({ licenses: await store.listLicenses(now()) }));

  app.get<{ Params: { id: string } }>("/api/licenses/:id", {
    schema: {
      params: licenseIdParamsSchema,
      response: { 200: { type: "object", properties: { license: licenseViewSchema, file: { type: "string" } } }, ...refusals },
    },
  }, async (request) => {
    const license = await store.findLicense(request.params.id, now());
    const file = await store.licenseFile(request.params.id);
    if (!license || file === null) throw notFound(`license ${request.params.id}: no such license`);
    return { license, file };
  });

  // The CLI's `issue` comes here while `serve` holds the store; a file is taken only if this key signed it.
  app.post<{ Body: { file: string } }>("/api/licenses", {
    schema: { body: registerBodySchema, response: { 200: licenseViewSchema, 201: licenseViewSchema, ...refusals } },
  }, async (request, reply) => {
    const { file } = request.body;
    const parsed = parseLicenseFile(file);
    if (!parsed.ok) throw badRequest(`file: ${parsed.reason}`);
    const { license } = parsed.document;
    const verdict = verifyLicenseFile(file, { publicKey, fingerprint: license.fingerprint, now: now() });
    if (!verdict.ok && verdict.failure !== "expired") throw badRequest(`file: ${verdict.reason}`);
    const recorded = await store.addLicense(license, file, now());
    request.log.info({ license_id: license.id, customer: license.customer, created: recorded.created }, "license recorded");
    return reply.code(recorded.created ? 201 : 200).send(recorded.license);
  });

  app.post<{ Params: { id: string }; Body: { reason?: string } | undefined }>("/api/licenses/:id/revoke", {
    schema: { params: licenseIdParamsSchema, body: revokeBodySchema, response: { 200: licenseViewSchema, ...refusals } },
  }, async (request) => {
    const reason = request.body?.reason?.trim() || null;
    const revoked = await store.revoke(request.params.id, reason, now());
    request.log.info({ license_id: revoked.id, customer: revoked.customer, reason }, "license revoked");
    return revoked;
  });
};
