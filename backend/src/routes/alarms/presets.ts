import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { GAS_PRESETS, type GasPreset } from "@mcs/core";
import { AlarmPresetListSchema, type AlarmPreset } from "@mcs/protocol";
import { errorResponses, SESSION_SECURITY } from "../../lib/route-schemas.ts";

/** A preset named as the device fields it fills. */
export function toAlarmPreset(preset: GasPreset): AlarmPreset {
  return {
    gas: preset.gas,
    unit: preset.unit,
    range_max: preset.rangeMax,
    high_limit: preset.high1,
    high_limit_2: preset.high2,
    low_limit: preset.low1,
    low_limit_2: preset.low2,
    deadband: preset.deadband,
    basis: preset.basis,
  };
}

/** `GET /api/alarm-presets`: the setpoints the product ships per gas (GB/T 50493-2019, GBZ 2.1). */
const alarmPresetRoutes: FastifyPluginAsyncZod = async (app) => {
  app.addHook("onRequest", app.authenticate);
  app.get(
    "",
    {
      schema: {
        tags: ["alarms"],
        security: SESSION_SECURITY,
        summary: "Alarm setpoints per gas, with their basis; POST /api/devices/{sn}/alarm-preset applies one to a device",
        response: { 200: AlarmPresetListSchema, ...errorResponses(401) },
      },
    },
    async () => ({ data: Object.values(GAS_PRESETS).map(toAlarmPreset) }),
  );
};

export default alarmPresetRoutes;
