import fp from "fastify-plugin";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";

/**
 * Route schemas are the zod schemas of @mcs/protocol: they validate requests, shape
 * answers (unknown fields are dropped, so a stored secret can never leak through a
 * route) and, through the OpenAPI plugin, document both.
 */
export const zodPlugin = fp(
  async (app) => {
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
  },
  { name: "zod" },
);
