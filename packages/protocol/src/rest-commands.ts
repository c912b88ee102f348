import { z } from "zod";
import { COMMANDS } from "./mqtt.ts";

/** `POST /api/devices/{sn}/commands` */
export const CommandRequestSchema = z.object({
  cmd: z.enum(COMMANDS),
  params: z.record(z.string(), z.unknown()).default({}),
}).strict();
export const COMMAND_STATUSES = ["pending", "sent", "acked", "failed", "timeout"] as const;
/** 202 answer, and `GET /api/devices/{sn}/commands/{id}` */
export const CommandStatusSchema = z.object({ id: z.uuid(), status: z.enum(COMMAND_STATUSES) });
