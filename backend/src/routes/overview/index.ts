import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { DEFAULT_TIMEZONE } from "@mcs/core";
import { OverviewSchema } from "@mcs/protocol";
import { errorResponses, SESSION_SECURITY } from "../../lib/route-schemas.ts";
import { buildOverview } from "./overview.ts";

export interface OverviewOptions {
  /** The plant's time zone (IANA): whose date says whether a calibration is due today. */
  timeZone?: string;
}

/**
 * `GET /api/overview` (every logged-in user): the plant at a glance, the admin site's home
 * page. States as every page shows them (packages/core `lookOf`, from the same live state as
 * `GET /api/devices` and the open alarms' levels as the big screen's feed), the detectors that
 * need attention and why, and the alarms raised per hour over the last 24 hours.
 */
const overviewRoutes: FastifyPluginAsyncZod<OverviewOptions> = async (app, options) => {
  app.addHook("onRequest", app.authenticate);
  const timeZone = options.timeZone ?? DEFAULT_TIMEZONE;

  app.get(
    "",
    {
      schema: {
        tags: ["overview"],
        security: SESSION_SECURITY,
        summary:
          "The plant at a glance: devices by state (gas alarm level 2 and 1, fault, offline, normal; in maintenance, not configured), the detectors needing attention with why (fault, offline, low battery, calibration overdue or due within 30 days, not configured, disabled), and the alarms raised per hour over the last 24 hours. Open alarms: GET /api/alarms?state=open",
        response: { 200: OverviewSchema, ...errorResponses(401) },
      },
    },
    async () => {
      const nowMs = app.clock.now();
      const hourMs = 3_600_000;
      const from = Math.floor(nowMs / hourMs) * hourMs - 23 * hourMs;
      const [records, live, open, perHour] = await Promise.all([
        app.devices.list(),
        app.liveState.all(),
        app.alarms.list({ state: "open", limit: 100_000 }),
        app.alarms.raisedPerHour(from, from + 24 * hourMs),
      ]);
      return buildOverview({ records, live, open, perHour, nowMs, fromHourMs: from, timeZone });
    },
  );
};

export default overviewRoutes;
