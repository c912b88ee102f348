import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { RolloutListSchema, RolloutSchema } from "@mcs/protocol";
import { conflict, notFound } from "../../errors.ts";
import { actorOf } from "../../plugins/app/auth.ts";
import { DEVICE_EDITORS } from "../devices/index.ts";
import { errorResponses, SESSION_SECURITY } from "../../lib/route-schemas.ts";

const IdParamsSchema = z.object({ id: z.uuid("id is a rollout id (UUID)") });

/** `/api/rollouts`: firmware rollouts (started under `/api/firmware/{version}/rollouts`), their progress, cancel. */
const rolloutRoutes: FastifyPluginAsyncZod = async (app) => {
  app.addHook("onRequest", app.authenticate);
  const tags = ["firmware"];
  const security = SESSION_SECURITY;

  app.get(
    "",
    {
      schema: {
        tags, security, summary: "Rollouts, newest first, with how many devices are in each status",
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
        response: { 200: RolloutListSchema, ...errorResponses(400, 401) },
      },
    },
    async (request) => ({ data: await app.rollouts.list(request.query.limit) }),
  );

  app.get(
    "/:id",
    { schema: { tags, security, summary: "One rollout: its state, progress and every device's status", params: IdParamsSchema, response: { 200: RolloutSchema, ...errorResponses(400, 401, 404) } } },
    async (request) => {
      const rollout = await app.rollouts.get(request.params.id);
      if (!rollout) throw notFound(`no rollout ${request.params.id}`);
      return rollout;
    },
  );

  app.post(
    "/:id/cancel",
    {
      onRequest: app.requireRole(...DEVICE_EDITORS),
      schema: { tags, security, summary: "Start no more devices; those updating finish", params: IdParamsSchema, response: { 200: RolloutSchema, ...errorResponses(400, 401, 403, 404, 409) } },
    },
    async (request) => {
      const { id } = request.params;
      if (!(await app.rollouts.get(id))) throw notFound(`no rollout ${id}`);
      if (!(await app.rollouts.cancel(id, actorOf(request), app.clock.now()))) throw conflict(`rollout ${id} is not running`);
      return (await app.rollouts.get(id))!;
    },
  );
};

export default rolloutRoutes;
