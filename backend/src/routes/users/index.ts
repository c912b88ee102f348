import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";

/** `/api/users` (being built). */
const usersRoutes: FastifyPluginAsyncZod = async () => {};

export default usersRoutes;
