import type { onRequestAsyncHookHandler } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { DeviceSchema, InhibitRequestSchema } from "@mcs/protocol";
import { notFound } from "../../errors.ts";
import { actorOf } from "../../plugins/app/auth.ts";
import { toDevice } from "../../lib/device-view.ts";
import { errorResponses, SESSION_SECURITY, SnParamsSchema } from "../../lib/route-schemas.ts";

/**
 * `/api/devices/{sn}/inhibit`: maintenance. For a limited time (default 60 minutes, at most
 * 7 days) the device raises no new alarm; who and why are recorded and shown with the device.
 * Alarms already open go on (their conditions may still end).
 */
const inhibitRoutes: FastifyPluginAsyncZod<{ canEdit: onRequestAsyncHookHandler }> = async (app, { canEdit }) => {
  const tags = ["devices"];
  const security = SESSION_SECURITY;

  app.post(
    "/:sn/inhibit",
    {
      onRequest: canEdit,
      schema: {
        tags, security,
        summary: "Start (or extend, or shorten) maintenance: no new alarms for `minutes` from now, recorded with the reason",
        params: SnParamsSchema,
        body: InhibitRequestSchema,
        response: { 200: DeviceSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { sn } = request.params;
      const now = app.clock.now();
      const record = await app.devices.inhibit(sn, now + request.body.minutes * 60_000, request.body.reason, actorOf(request));
      if (!record) throw notFound(`no device ${sn}`);
      await app.deviceEvents.changed(sn, "updated");
      return toDevice(record, await app.liveState.one(sn), now);
    },
  );

  app.delete(
    "/:sn/inhibit",
    {
      onRequest: canEdit,
      schema: {
        tags, security,
        summary: "End maintenance now: the device raises alarms again",
        params: SnParamsSchema,
        response: { 200: DeviceSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { sn } = request.params;
      const record = await app.devices.endInhibit(sn, actorOf(request));
      if (!record) throw notFound(`no device ${sn}`);
      await app.deviceEvents.changed(sn, "updated");
      return toDevice(record, await app.liveState.one(sn), app.clock.now());
    },
  );
};

export default inhibitRoutes;
