import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { TelemetryListSchema, TelemetryQuerySchema } from "@mcs/protocol";
import { badRequest, notFound } from "../../errors.ts";
import { errorResponses, SESSION_SECURITY, SnParamsSchema } from "../../lib/route-schemas.ts";

/** Without `from`, a range is the hour before `to` (itself now by default). */
const DEFAULT_RANGE_MS = 3_600_000;

/** `GET /api/devices/{sn}/telemetry?from=&to=&limit=`: stored readings in [from, to), oldest first. */
const telemetryRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    "/:sn/telemetry",
    {
      schema: {
        tags: ["devices"],
        security: SESSION_SECURITY,
        summary: "A device's readings between from and to (ISO-8601 or Unix seconds; default the last hour), oldest first",
        params: SnParamsSchema,
        querystring: TelemetryQuerySchema,
        response: { 200: TelemetryListSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const { sn } = request.params;
      const to = request.query.to ?? new Date(app.clock.now());
      const from = request.query.from ?? new Date(to.getTime() - DEFAULT_RANGE_MS);
      if (from > to) throw badRequest(`query.from: ${from.toISOString()} is after query.to ${to.toISOString()}`);
      if (!(await app.devices.get(sn))) throw notFound(`no device ${sn}`);
      return { data: await app.telemetry.range(sn, from, to, request.query.limit) };
    },
  );
};

export default telemetryRoutes;
