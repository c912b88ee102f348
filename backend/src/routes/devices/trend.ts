import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { MAX_TREND_POINTS, TrendQuerySchema, TrendSchema, type Trend } from "@mcs/protocol";
import { notFound } from "../../errors.ts";
import { errorResponses, SESSION_SECURITY, SnParamsSchema } from "../../lib/route-schemas.ts";

/**
 * What each range shows, ending now. 1 h: the readings as stored (360 at the usual 10 s);
 * should a device in debug mode have sent more than MAX_TREND_POINTS, 4 s buckets (900).
 * 24 h: 90 s buckets (960). 7 d: 15 min buckets (672, aligned to the quarter hour).
 * A range that does not start on a bucket boundary adds one partial bucket at most.
 */
export const TREND_RANGES_S = {
  "1h": { spanS: 3600, bucketS: 0, fallbackBucketS: 4 },
  "24h": { spanS: 86_400, bucketS: 90, fallbackBucketS: 90 },
  "7d": { spanS: 7 * 86_400, bucketS: 900, fallbackBucketS: 900 },
} as const satisfies Record<Trend["range"], { spanS: number; bucketS: number; fallbackBucketS: number }>;

/** `GET /api/devices/{sn}/trend?range=1h|24h|7d`: the chart of one device, downsampled by the database. */
const trendRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    "/:sn/trend",
    {
      schema: {
        tags: ["devices"],
        security: SESSION_SECURITY,
        summary:
          "A device's ppm for a chart, ending now, with its alarm limits and unit: 1h raw readings (4 s buckets if more than 1000), " +
          "24h in 90 s buckets, 7d in 15 min buckets, each bucket with min, max and avg so that short peaks survive; at most ~1000 points",
        params: SnParamsSchema,
        querystring: TrendQuerySchema,
        response: { 200: TrendSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const { sn } = request.params;
      const { range } = request.query;
      const device = await app.devices.get(sn);
      if (!device) throw notFound(`no device ${sn}`);
      const plan = TREND_RANGES_S[range];
      const to = new Date(app.clock.now() + 1); // the reading of this very moment included
      const from = new Date(to.getTime() - plan.spanS * 1000);
      const { bucketS, points } = await app.telemetry.trend(sn, from, to, { bucketS: plan.bucketS, maxRaw: MAX_TREND_POINTS, fallbackBucketS: plan.fallbackBucketS });
      return {
        sn,
        range,
        bucket_s: bucketS,
        unit: device.unit,
        limits: { high_limit: device.high_limit, high_limit_2: device.high_limit_2, low_limit: device.low_limit, low_limit_2: device.low_limit_2 },
        data: points,
      };
    },
  );
};

export default trendRoutes;
