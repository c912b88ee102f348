import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import fp from "fastify-plugin";
import { jsonSchemaTransform } from "fastify-type-provider-zod";

export const DOCS_PREFIX = "/api/docs";

/** OpenAPI 3.1 generated from the route schemas: JSON at /api/docs/json, the UI at /api/docs. */
export const openapiPlugin = fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: "3.1.0",
        info: { title: "MCS-IoT", description: "Industrial gas monitoring: devices, telemetry, alarms.", version: "0.1.0" },
        components: {
          securitySchemes: {
            bearer: { type: "http", scheme: "bearer", description: "The token answered by POST /api/auth/login" },
            cookie: { type: "apiKey", in: "cookie", name: "mcs_session" },
          },
        },
      },
      transform: jsonSchemaTransform,
    });
    await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
  },
  { name: "openapi", dependencies: ["zod"] },
);
