import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";

/** `/api/settings` (being built). */
const settingsRoutes: FastifyPluginAsyncZod = async () => {};

export default settingsRoutes;
