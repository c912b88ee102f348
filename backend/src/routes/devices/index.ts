import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { DeviceCreateSchema, DeviceListSchema, DevicePatchSchema, DeviceSchema, DeviceWithPasswordSchema, SavedDeviceSchema } from "@mcs/protocol";
import { DeviceConflictError, DeviceInvalidError } from "@mcs/platform";
import { badRequest, conflict, notFound } from "../../errors.ts";
import { actorOf } from "../../plugins/app/auth.ts";
import { toDevice } from "../../lib/device-view.ts";
import { newDeviceSecret } from "../../lib/device-secret.ts";
import { errorResponses, NoContentSchema, SESSION_SECURITY, SnParamsSchema } from "../../lib/route-schemas.ts";
import commandRoutes from "./commands.ts";
import credentialsRoutes from "./credentials.ts";
import telemetryRoutes from "./telemetry.ts";
import calibrationRoutes from "./calibrations.ts";
import importRoutes from "./import.ts";
import inhibitRoutes from "./inhibit.ts";
import alarmPresetRoutes from "./alarm-preset.ts";
import trendRoutes from "./trend.ts";

/** Roles that may change devices; everyone logged in may read them. */
export const DEVICE_EDITORS = ["admin", "engineer"] as const;

/** `/api/devices`: the fleet, each device with its live status. */
const deviceRoutes: FastifyPluginAsyncZod = async (app) => {
  app.addHook("onRequest", app.authenticate);
  const canEdit = app.requireRole(...DEVICE_EDITORS);
  const tags = ["devices"];
  const security = SESSION_SECURITY;

  app.get(
    "",
    { schema: { tags, security, summary: "All devices with live status (online/offline from the device's will and its silence for 3 report intervals), last ppm, last_seen and firmware", response: { 200: DeviceListSchema, ...errorResponses(401) } } },
    async () => {
      const [records, live] = await Promise.all([app.devices.list(), app.liveState.all()]);
      return { data: records.map((record) => toDevice(record, live.get(record.sn), app.clock.now())) };
    },
  );

  app.post(
    "",
    {
      onRequest: canEdit,
      schema: {
        tags, security,
        summary:
          "Register a device; the answer holds its MQTT password, shown this once. Alarm limits, range and deadband not given come from the gas preset (listed in preset_applied); a gas without a preset needs them given, unless monitor_only is chosen with a reason",
        body: DeviceCreateSchema,
        response: { 201: DeviceWithPasswordSchema, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const limit = await app.license.deviceLimitReached();
      if (limit) throw conflict(limit);
      const secret = newDeviceSecret();
      let record;
      try {
        record = await app.devices.create(request.body, secret.hash, actorOf(request));
      } catch (error) {
        if (error instanceof DeviceConflictError) throw conflict(`device ${request.body.sn} already exists`);
        if (error instanceof DeviceInvalidError) throw badRequest(`body.${error.message}`);
        throw error;
      }
      await app.deviceEvents.changed(record.sn, "created");
      return reply.code(201).send({ ...toDevice(record, undefined, app.clock.now()), preset_applied: record.preset_applied, preset_basis: record.preset_basis, mqtt_password: secret.password });
    },
  );

  app.get(
    "/:sn",
    { schema: { tags, security, summary: "One device with its live status, and its last refused message (why its messages are not stored)", params: SnParamsSchema, response: { 200: DeviceSchema, ...errorResponses(400, 401, 404) } } },
    async (request) => {
      const { sn } = request.params;
      const [record, live, refusal] = await Promise.all([app.devices.get(sn), app.liveState.one(sn), app.telemetry.lastDeadLetter(sn)]);
      if (!record) throw notFound(`no device ${sn}`);
      return { ...toDevice(record, live, app.clock.now()), last_refusal: refusal };
    },
  );

  app.patch(
    "/:sn",
    {
      onRequest: canEdit,
      schema: {
        tags, security,
        summary:
          "Change device fields; a calibration change (k, b, t_comp, t_ref) makes a new calibration version, live in the worker within a second. An alarm field set to null, or not given with a new gas or unit, comes from the gas preset (preset_applied)",
        params: SnParamsSchema,
        body: DevicePatchSchema,
        response: { 200: SavedDeviceSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { sn } = request.params;
      let record;
      try {
        record = await app.devices.update(sn, request.body, actorOf(request));
      } catch (error) {
        if (error instanceof DeviceInvalidError) throw badRequest(`body.${error.message}`);
        throw error;
      }
      if (!record) throw notFound(`no device ${sn}`);
      await app.deviceEvents.changed(sn, "updated");
      return { ...toDevice(record, await app.liveState.one(sn), app.clock.now()), preset_applied: record.preset_applied, preset_basis: record.preset_basis };
    },
  );

  app.delete(
    "/:sn",
    {
      onRequest: canEdit,
      schema: { tags, security, summary: "Delete a device (its stored readings stay)", params: SnParamsSchema, response: { 204: NoContentSchema, ...errorResponses(400, 401, 403, 404) } },
    },
    async (request, reply) => {
      const { sn } = request.params;
      if (!(await app.devices.delete(sn, actorOf(request)))) throw notFound(`no device ${sn}`);
      await app.liveState.forget(sn).catch((error) => request.log.warn({ err: error, sn }, "could not forget the device's live state"));
      await app.deviceEvents.changed(sn, "deleted");
      return reply.code(204).send(null);
    },
  );

  await app.register(credentialsRoutes, { canEdit });
  await app.register(commandRoutes, { canEdit });
  await app.register(telemetryRoutes);
  await app.register(calibrationRoutes);
  await app.register(importRoutes, { canEdit });
  await app.register(inhibitRoutes, { canEdit });
  await app.register(alarmPresetRoutes, { canEdit });
  await app.register(trendRoutes);
};

export default deviceRoutes;
