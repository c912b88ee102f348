import { z } from "zod";
import type { onRequestAsyncHookHandler } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { GAS_PRESETS, presetFor } from "@mcs/core";
import { DeviceInvalidError } from "@mcs/platform";
import { AlarmPresetRequestSchema, DeviceSchema } from "@mcs/protocol";
import { badRequest, notFound } from "../../errors.ts";
import { actorOf } from "../../plugins/app/auth.ts";
import { toDevice } from "../../lib/device-view.ts";
import { errorResponses, SESSION_SECURITY, SnParamsSchema } from "../../lib/route-schemas.ts";

/**
 * `POST /api/devices/{sn}/alarm-preset`: fills a device's alarm setpoints (both levels each
 * way, deadband, range, unit) from the preset of its gas, or of the gas named. An ordinary,
 * audited device change; the worker takes it within a second.
 */
const alarmPresetRoutes: FastifyPluginAsyncZod<{ canEdit: onRequestAsyncHookHandler }> = async (app, { canEdit }) => {
  app.post(
    "/:sn/alarm-preset",
    {
      onRequest: canEdit,
      schema: {
        tags: ["devices"],
        security: SESSION_SECURITY,
        summary: "Apply the alarm preset of the device's gas (or of body.gas): high_limit, high_limit_2, low_limit, low_limit_2, deadband, range_max, unit",
        params: SnParamsSchema,
        // The body may be left out (Fastify gives null): the device's own gas.
        body: z.preprocess((body) => body ?? {}, AlarmPresetRequestSchema),
        response: { 200: DeviceSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { sn } = request.params;
      const device = await app.devices.get(sn);
      if (!device) throw notFound(`no device ${sn}`);
      const gas = request.body.gas ?? device.gas;
      const preset = presetFor(gas);
      if (!preset) throw notFound(`no preset for gas ${gas}; presets exist for ${Object.keys(GAS_PRESETS).join(", ")}`);
      let record;
      try {
        record = await app.devices.update(
          sn,
          {
            unit: preset.unit,
            high_limit: preset.high1,
            high_limit_2: preset.high2,
            low_limit: preset.low1,
            low_limit_2: preset.low2,
            deadband: preset.deadband,
            range_max: preset.rangeMax,
          },
          actorOf(request),
        );
      } catch (error) {
        if (error instanceof DeviceInvalidError) throw badRequest(`preset ${preset.gas}: ${error.message}`);
        throw error;
      }
      if (!record) throw notFound(`no device ${sn}`);
      await app.deviceEvents.changed(sn, "updated");
      return toDevice(record, await app.liveState.one(sn), app.clock.now());
    },
  );
};

export default alarmPresetRoutes;
