import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";

/** `/api/floorplans` (being built). */
const floorplansRoutes: FastifyPluginAsyncZod = async () => {};

export default floorplansRoutes;
