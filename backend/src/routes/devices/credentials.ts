import type { onRequestAsyncHookHandler } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { CredentialsSchema } from "@mcs/protocol";
import { notFound } from "../../errors.ts";
import { actorOf } from "../../plugins/app/auth.ts";
import { newDeviceSecret } from "../../lib/device-secret.ts";
import { errorResponses, SESSION_SECURITY, SnParamsSchema } from "../../lib/route-schemas.ts";

/** `POST /api/devices/{sn}/credentials`: a new MQTT password, shown this once; the old one stops working. */
const credentialsRoutes: FastifyPluginAsyncZod<{ canEdit: onRequestAsyncHookHandler }> = async (app, { canEdit }) => {
  app.post(
    "/:sn/credentials",
    {
      onRequest: canEdit,
      schema: {
        tags: ["devices"],
        security: SESSION_SECURITY,
        summary: "Rotate the device's MQTT password",
        params: SnParamsSchema,
        response: { 200: CredentialsSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { sn } = request.params;
      const secret = newDeviceSecret();
      if (!(await app.devices.setPasswordHash(sn, secret.hash, actorOf(request)))) throw notFound(`no device ${sn}`);
      // Whoever keeps the broker's password file (services mode) listens for this.
      await app.deviceEvents.changed(sn, "updated");
      return { mqtt_password: secret.password };
    },
  );
};

export default credentialsRoutes;
