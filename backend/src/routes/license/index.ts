import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { MAX_LICENSE_FILE_BYTES, type LicenseStatus } from "@mcs/core";
import { LicenseViewSchema, type LicenseView } from "@mcs/protocol";
import { actorOf } from "../../plugins/app/auth.ts";
import { badRequest } from "../../errors.ts";
import { errorResponses, SESSION_SECURITY } from "../../lib/route-schemas.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * `/api/license`: the state (any logged-in user), installing a license file and checking
 * with the vendor now (admins). Open while locked: that is how a plant gets unlocked.
 */
const licenseRoutes: FastifyPluginAsyncZod = async (app) => {
  app.addHook("onRequest", app.authenticate);
  const admins = app.requireRole("admin");
  const tags = ["license"];
  const security = SESSION_SECURITY;

  // The file exactly as issued: one changed byte must be refused, so JSON is not parsed here.
  app.removeContentTypeParser(["application/json", "text/plain"]);
  app.addContentTypeParser(["application/json", "text/plain"], { parseAs: "string", bodyLimit: MAX_LICENSE_FILE_BYTES }, (_request, body, done) => done(null, body));

  async function view(status: LicenseStatus): Promise<LicenseView> {
    return {
      state: status.state,
      customer: status.license?.customer ?? null,
      plant: status.license?.plant ?? null,
      device_limit: status.device_limit,
      devices_used: await app.devices.count(),
      features: status.features,
      expires_at: iso(status.ends_at),
      last_check_at: iso(status.last_check_at),
      grace_until: iso(status.grace_until),
      fingerprint: app.license.fingerprint,
      reason: status.reason,
      locked: status.locked,
      last_check_error: status.last_check_error,
    };
  }

  app.get(
    "",
    { schema: { tags, security, summary: "The license: its state and why, the customer, the device limit and its use, expiry, the last check, this machine's fingerprint", response: { 200: LicenseViewSchema, ...errorResponses(401) } } },
    async () => view(await app.license.refresh()),
  );

  app.post(
    "",
    {
      onRequest: admins,
      schema: {
        tags, security,
        summary: "Install a license file, sent exactly as issued (application/json or text/plain). A bad file is refused with the reason (format, signature, machine, expiry) and the installed license stays",
        body: z.string().describe("the license file's text"),
        response: { 200: LicenseViewSchema, ...errorResponses(400, 401, 403, 413) },
      },
    },
    async (request) => {
      if (typeof request.body !== "string" || request.body.length === 0) throw badRequest("body: send the license file's text as issued");
      const result = await app.license.install(request.body, actorOf(request));
      if (!result.ok) throw badRequest(`license file refused: ${result.reason}`);
      return view(result.status);
    },
  );

  app.post(
    "/check",
    {
      onRequest: admins,
      schema: { tags, security, summary: "Check the license with the vendor's license server now", response: { 200: LicenseViewSchema, ...errorResponses(401, 403) } },
    },
    async () => view(await app.license.check()),
  );
};

export default licenseRoutes;
