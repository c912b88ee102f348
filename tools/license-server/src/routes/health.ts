import type { FastifyPluginAsync } from "fastify";
import type { VendorLicenseStore } from "../store.ts";

export interface HealthRoutesOptions {
  store: VendorLicenseStore;
  now: () => number;
}

/** `GET /api/health`: up, with its store, and the server's clock (the guards trust it within minutes). */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { store, now }) => {
  app.get("/api/health", {
    schema: {
      response: {
        200: { type: "object", properties: { status: { type: "string" }, time: { type: "string" } } },
        503: { type: "object", properties: { status: { type: "string" }, time: { type: "string" }, error: { type: "string" } } },
      },
    },
  }, async (request, reply) => {
    const time = new Date(now()).toISOString();
    try {
      await store.ping();
      return { status: "ok", time };
    } catch (error) {
      request.log.error({ err: error }, "store unavailable");
      return reply.code(503).send({ status: "unavailable", time, error: "the store does not answer" });
    }
  });
};
