import { z } from "zod";
import { COMMANDS } from "./mqtt.ts";

/** How long a command waits for an offline device by default (seconds). */
export const DEFAULT_COMMAND_EXPIRY_S = 3600;
/** A device keeps little memory: its command's params, as JSON, stay below this. */
export const MAX_COMMAND_PARAMS_BYTES = 2048;

/** `POST /api/devices/{sn}/commands` */
export const CommandRequestSchema = z.object({
  cmd: z.enum(COMMANDS),
  params: z
    .record(z.string(), z.unknown())
    .default({})
    .refine((params) => new TextEncoder().encode(JSON.stringify(params)).length <= MAX_COMMAND_PARAMS_BYTES, `params take at most ${MAX_COMMAND_PARAMS_BYTES} bytes as JSON`),
  /** How long the command may wait for an offline device before it is `timeout` (default 1 h, at most 7 days). */
  expires_in_s: z.number().int().min(10).max(7 * 24 * 3600).optional(),
}).strict();
export type CommandRequest = z.infer<typeof CommandRequestSchema>;
export const COMMAND_STATUSES = ["pending", "sent", "acked", "failed", "timeout"] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];
/** 202 answer, and `GET /api/devices/{sn}/commands/{id}` */
export const CommandStatusSchema = z.object({ id: z.uuid(), status: z.enum(COMMAND_STATUSES) });

/** `GET /api/devices/{sn}/commands/{id}` and the list: the status and how the command got there. */
export const CommandViewSchema = CommandStatusSchema.extend({
  sn: z.string(),
  cmd: z.enum(COMMANDS),
  params: z.record(z.string(), z.unknown()),
  /** The device's message with its ack (`acked`/`failed`), else null. */
  msg: z.string().nullable(),
  created_by: z.string(),
  created_at: z.string(),
  /** A pending command not sent by then becomes `timeout`. */
  expires_at: z.string(),
  /** When the broker took it for the device. */
  sent_at: z.string().nullable(),
  /** When the device's answer arrived. */
  acked_at: z.string().nullable(),
  /** When it reached acked, failed or timeout. */
  finished_at: z.string().nullable(),
});
export type CommandView = z.infer<typeof CommandViewSchema>;
export const CommandListSchema = z.object({ data: z.array(CommandViewSchema) });
export const CommandListQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(50) });
