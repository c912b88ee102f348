import { z } from "zod";
import { ALARM_TYPES } from "./websocket.ts";

export const ALARM_STATES = ["unacked", "acked", "cleared_unacked", "closed"] as const;
/** `GET /api/alarms?state=open` items; `open` means any state but `closed`. */
export const AlarmSchema = z.object({
  id: z.number().int(),
  sn: z.string(),
  type: z.enum(ALARM_TYPES),
  level: z.number().int().min(1).max(2),
  ppm: z.number().nullable(),
  state: z.enum(ALARM_STATES),
  raised_at: z.string(),
  acked_at: z.string().nullable(),
  cleared_at: z.string().nullable(),
});
export const AlarmQuerySchema = z.object({ state: z.enum([...ALARM_STATES, "open"]).optional() });
/** `POST /api/alarms/{id}/ack` */
export const AlarmAckSchema = z.object({ comment: z.string().max(1000).default("") }).strict();
