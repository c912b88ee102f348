import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { formatZoned } from "@mcs/core";
import { countAudit, listAudit, SettingsStore, type AuditFilter } from "@mcs/platform";
import { AuditExportQuerySchema, AuditPageSchema, AuditQuerySchema } from "@mcs/protocol";
import { badRequest } from "../../errors.ts";
import { errorResponses, SESSION_SECURITY } from "../../lib/route-schemas.ts";
import { auditCsv, AUDIT_CSV_COLUMNS } from "./csv.ts";

interface FilterQuery {
  actor?: string | undefined;
  action?: string | undefined;
  target?: string | undefined;
  q?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

function filterOf(query: FilterQuery): AuditFilter {
  if (query.from && query.to && query.from > query.to) throw badRequest(`query.from: ${query.from.toISOString()} is after query.to ${query.to.toISOString()}`);
  return { actor: query.actor, action: query.action, target: query.target, q: query.q, from: query.from?.getTime(), to: query.to?.getTime() };
}

const FILTERS =
  "actor (exact), action (exact, or a family: `user` matches user.create, user.password.reset…), target (exact), " +
  "q (text in actor, action or target), from / to (ISO-8601 or Unix seconds); all case-insensitive";

/** `GET /api/audit` and `GET /api/audit/export.csv` (admin): who changed what, when, from where, before and after; newest first. */
const auditRoutes: FastifyPluginAsyncZod = async (app) => {
  app.addHook("onRequest", app.authenticate);
  app.addHook("onRequest", app.requireRole("admin"));
  const tags = ["audit"];
  const security = SESSION_SECURITY;

  app.get(
    "",
    {
      schema: {
        tags, security,
        summary: `The audit log, newest first, a page at a time (limit 200, up to 1000; offset), with the total that matches. Filters: ${FILTERS}`,
        querystring: AuditQuerySchema,
        response: { 200: AuditPageSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const filter = filterOf(request.query);
      const [data, total] = await Promise.all([
        listAudit(app.db, { ...filter, limit: request.query.limit, offset: request.query.offset }),
        countAudit(app.db, filter),
      ]);
      return { data, total };
    },
  );

  app.get(
    "/export.csv",
    {
      schema: {
        tags, security,
        summary: `The same rows as CSV for Excel (UTF-8 with a BOM, a header row, before/after as JSON text, \`at\` as the plant's wall clock with the offset, \"2026-12-04 14:03:05 +08:00\"), newest first, up to 100 000. Filters: ${FILTERS}`,
        querystring: AuditExportQuerySchema,
        response: {
          200: { description: "one line per change: " + AUDIT_CSV_COLUMNS.join(", "), content: { "text/csv": { schema: z.string() } } },
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      const [rows, timeZone] = await Promise.all([listAudit(app.db, { ...filterOf(request.query), limit: request.query.limit }), new SettingsStore(app.db).plantTimeZone()]);
      const stamp = formatZoned(app.clock.now(), timeZone).replace(/[-:]/g, "").replace(" ", "-");
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="audit-${stamp}.csv"`)
        .send(auditCsv(rows, timeZone));
    },
  );
};

export default auditRoutes;
