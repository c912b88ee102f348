import { z } from "zod";

export const TREND_RANGES = ["1h", "24h", "7d"] as const;
/** Most points a trend answer holds: a chart's width, whatever the range. */
export const MAX_TREND_POINTS = 1000;

/** `GET /api/devices/{sn}/trend?range=1h|24h|7d` (default 1h, ending now). */
export const TrendQuerySchema = z.object({ range: z.enum(TREND_RANGES).default("1h") });

/**
 * A trend: 1 h as stored (one point per reading), longer ranges in buckets with the min,
 * max and mean of each, so that a peak shorter than a bucket still shows.
 */
export const TrendSchema = z.object({
  sn: z.string(),
  range: z.enum(TREND_RANGES),
  /** Seconds per point: 0 for raw readings. */
  bucket_s: z.number().int(),
  unit: z.string(),
  /** The device's alarm limits, drawn as lines. */
  limits: z.object({ high_limit: z.number().nullable(), high_limit_2: z.number().nullable(), low_limit: z.number().nullable(), low_limit_2: z.number().nullable() }),
  /** Oldest first; `ts` Unix seconds (a bucket's start). For raw readings min = max = avg. */
  data: z.array(z.object({ ts: z.number(), avg: z.number(), min: z.number(), max: z.number() })),
});
export type Trend = z.infer<typeof TrendSchema>;

/** A wall screen's login: issued by an admin, shown once, revocable; it may only look (role viewer). */
export const KioskTokenSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  created_by: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});
export const KioskTokenListSchema = z.object({ data: z.array(KioskTokenSchema) });
/** `POST /api/kiosk-tokens` */
export const KioskTokenCreateSchema = z.object({ name: z.string().trim().min(1, "name: say which screen (e.g. 中控室大屏)").max(64) }).strict();
/** The answer: the token, shown this once (`/screen?token=<token>`). */
export const KioskTokenCreatedSchema = KioskTokenSchema.extend({ token: z.string() });
