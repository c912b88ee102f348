import { z } from "zod";

/** The most readings one `mcs/{sn}/up` message may carry (an offline backlog). */
export const MAX_READINGS_PER_MESSAGE = 1000;
/** Payloads above this are refused before parsing (1000 readings are about 130 KB). */
export const MAX_UP_PAYLOAD_BYTES = 256 * 1024;

/**
 * One detector reading, as the device sends it on `mcs/{sn}/up`. `ts` is Unix seconds
 * (UTC); `seq` a per-boot counter; (sn, ts, seq) makes a reading idempotent.
 * Numbers must be finite (JSON has no NaN; `1e999` parses to Infinity and is refused).
 */
export const ReadingSchema = z.object({
  ts: z.number().int().positive(),
  seq: z.number().int().min(0).max(2_147_483_647),
  v_raw: z.number().min(-1e9).max(1e9),
  temp: z.number().min(-60).max(150).optional(),
  humi: z.number().min(0).max(100).optional(),
  bat: z.number().min(0).max(100).optional(),
  rssi: z.number().min(-200).max(0).optional(),
  err: z.number().int().min(0).max(65_535).default(0),
});
export type Reading = z.infer<typeof ReadingSchema>;

/** `mcs/{sn}/status`, retained; the will is `{"online":false}`. */
export const StatusSchema = z.object({
  online: z.boolean(),
  fw: z.string().max(32).optional(),
  boot: z.number().int().min(0).optional(),
});
export type DeviceStatusMessage = z.infer<typeof StatusSchema>;

export const COMMANDS = ["set_debug", "set_calib", "ota", "reboot"] as const;
export type CommandName = (typeof COMMANDS)[number];

/** `mcs/{sn}/cmd`, server → device. */
export const CommandSchema = z.object({
  id: z.uuid(),
  cmd: z.enum(COMMANDS),
  params: z.record(z.string(), z.unknown()).default({}),
});
export type CommandMessage = z.infer<typeof CommandSchema>;

/** `mcs/{sn}/ack`, device → server, answering a command by its id. */
export const AckSchema = z.object({
  id: z.uuid(),
  ok: z.boolean(),
  msg: z.string().max(512).default(""),
});
export type AckMessage = z.infer<typeof AckSchema>;
