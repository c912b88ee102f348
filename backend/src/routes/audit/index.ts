import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { listAudit } from "@mcs/platform";
import { AuditEntrySchema } from "@mcs/protocol";
import { errorResponses, SESSION_SECURITY } from "../../lib/route-schemas.ts";

const AuditListSchema = z.object({ data: z.array(AuditEntrySchema) });
const AuditQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200) });

/** `GET /api/audit` (admin): who changed what, when, from where, before and after; newest first. */
const auditRoutes: FastifyPluginAsyncZod = async (app) => {
  app.addHook("onRequest", app.authenticate);
  app.get(
    "",
    {
      onRequest: app.requireRole("admin"),
      schema: {
        tags: ["audit"],
        security: SESSION_SECURITY,
        summary: "The audit log, newest first",
        querystring: AuditQuerySchema,
        response: { 200: AuditListSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => ({ data: await listAudit(app.db, request.query.limit) }),
  );
};

export default auditRoutes;
