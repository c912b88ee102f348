import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { CalibrationListSchema } from "@mcs/protocol";
import { notFound } from "../../errors.ts";
import { errorResponses, SESSION_SECURITY, SnParamsSchema } from "../../lib/route-schemas.ts";

/** `GET /api/devices/{sn}/calibrations`: the calibration history (a change is a PATCH of k, b, t_comp, t_ref with a `calib_note`). */
const calibrationRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    "/:sn/calibrations",
    {
      schema: {
        tags: ["devices"],
        security: SESSION_SECURITY,
        summary: "Every calibration version, newest first: the parameters, who changed them, when, and the note (e.g. cylinder lot and result)",
        params: SnParamsSchema,
        response: { 200: CalibrationListSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const { sn } = request.params;
      if (!(await app.devices.get(sn))) throw notFound(`no device ${sn}`);
      return { data: await app.devices.calibrationHistory(sn) };
    },
  );
};

export default calibrationRoutes;
