import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { KioskTokenCreatedSchema, KioskTokenCreateSchema, KioskTokenListSchema } from "@mcs/protocol";
import { notFound } from "../../errors.ts";
import { actorOf, KIOSK_TOKEN_PREFIX } from "../../plugins/app/auth.ts";
import { KIOSK_REVOKED_CHANNEL } from "../../plugins/app/dashboard-hub.ts";
import { errorResponses, NoContentSchema, SESSION_SECURITY } from "../../lib/route-schemas.ts";
import { newToken, sha256Hex } from "../../lib/token.ts";

const MAX_ID = 2_147_483_647;
const KioskTokenParamsSchema = z.object({
  id: z
    .string()
    .regex(/^[1-9]\d{0,9}$/, "id is a kiosk token id (a positive whole number)")
    .transform(Number)
    .refine((id) => id <= MAX_ID, "id is a kiosk token id (a positive whole number)"),
});

/**
 * `/api/kiosk-tokens` (admin): logins for wall screens (`/screen?token=<token>`), each a
 * read-only viewer named `kiosk:<name>`. The token is shown once and stored as its sha256;
 * revoking it refuses it from then on and closes its open screens at once (4001), on every
 * backend (the bus). Issuing and revoking are audited.
 */
const kioskTokenRoutes: FastifyPluginAsyncZod = async (app) => {
  app.addHook("onRequest", app.authenticate);
  app.addHook("onRequest", app.requireRole("admin"));
  const tags = ["kiosk-tokens"];
  const security = SESSION_SECURITY;

  app.get(
    "",
    { schema: { tags, security, summary: "Every kiosk token, newest first, revoked ones too (never the token itself)", response: { 200: KioskTokenListSchema, ...errorResponses(401, 403) } } },
    async () => ({ data: await app.kioskTokens.list() }),
  );

  app.post(
    "",
    {
      schema: {
        tags, security,
        summary: "Issue a kiosk token for a wall screen; the answer holds the token, shown this once (open /screen?token=<token>)",
        body: KioskTokenCreateSchema,
        response: { 201: KioskTokenCreatedSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const token = `${KIOSK_TOKEN_PREFIX}${newToken()}`;
      const record = await app.kioskTokens.create(request.body.name, sha256Hex(token), actorOf(request), app.clock.now());
      return reply.code(201).send({ ...record, token });
    },
  );

  app.delete(
    "/:id",
    {
      schema: {
        tags, security,
        summary: "Revoke a kiosk token: refused from now on, its open screens closed at once (WebSocket close 4001). Revoking a revoked token changes nothing",
        params: KioskTokenParamsSchema,
        response: { 204: NoContentSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const record = await app.kioskTokens.revoke(id, actorOf(request), app.clock.now());
      if (!record) throw notFound(`no kiosk token ${id}`);
      app.dashboardHub.revokeKiosk(id);
      // The other backends' screens: best effort (they also recheck the token at every ping).
      await app.bus.publish(KIOSK_REVOKED_CHANNEL, { id }).catch((error: unknown) => request.log.warn({ err: error, id }, "could not announce a kiosk token's revocation"));
      return reply.code(204).send(null);
    },
  );
};

export default kioskTokenRoutes;
