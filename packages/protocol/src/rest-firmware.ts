import { z } from "zod";
import { SN_PATTERN } from "./topics.ts";

/** A firmware version as devices report it in `fw` (the status message allows 32 characters). */
export const FIRMWARE_VERSION_PATTERN = /^[A-Za-z0-9._+-]{1,32}$/;
export const FirmwareVersionSchema = z.string().regex(FIRMWARE_VERSION_PATTERN, "version is 1–32 letters, digits, '.', '_', '+' or '-'");
/** ESP32-S3 and STM32L4 application images are a few MB; this leaves room and bounds memory. */
export const MAX_FIRMWARE_BYTES = 16 * 1024 * 1024;

/** The `params` of an `ota` command as the device receives them on `mcs/{sn}/cmd`. */
export const OtaParamsSchema = z.object({
  url: z.url({ protocol: /^https$/, error: "url must be an https:// URL" }),
  version: FirmwareVersionSchema,
  size: z.number().int().positive().max(MAX_FIRMWARE_BYTES),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "sha256 is 64 lower-case hex digits"),
}).strict();
export type OtaParams = z.infer<typeof OtaParamsSchema>;

/**
 * What `POST /api/devices/{sn}/commands` takes for `ota`: the version of an uploaded image
 * (the server fills in a signed url, size and sha256), or all four params of an image
 * hosted elsewhere.
 */
export const OtaRequestParamsSchema = z.union([z.object({ version: FirmwareVersionSchema }).strict(), OtaParamsSchema]);

/** An uploaded image, without its bytes. */
export const FirmwareSchema = z.object({
  version: z.string(),
  notes: z.string(),
  size: z.number().int(),
  sha256: z.string(),
  created_by: z.string(),
  created_at: z.string(),
});
export type Firmware = z.infer<typeof FirmwareSchema>;
export const FirmwareListSchema = z.object({ data: z.array(FirmwareSchema) });
/** The text fields of the multipart upload (`POST /api/firmware`, with the image as the `file` part). */
export const FirmwareUploadFieldsSchema = z.object({
  version: FirmwareVersionSchema,
  notes: z.string().max(4000, "notes take at most 4000 characters").default(""),
}).strict();

export const ROLLOUT_STATES = ["running", "halted", "cancelled", "done"] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];
export const ROLLOUT_DEVICE_STATUSES = ["queued", "updating", "succeeded", "failed", "skipped"] as const;
export type RolloutDeviceStatus = (typeof ROLLOUT_DEVICE_STATUSES)[number];

/** `POST /api/firmware/{version}/rollouts` */
export const RolloutRequestSchema = z.object({
  sns: z
    .array(z.string().regex(SN_PATTERN, "each sn is 1–32 letters, digits, '_' or '-'"))
    .min(1, "sns names at least one device")
    .max(1000, "sns names at most 1000 devices")
    .refine((sns) => new Set(sns).size === sns.length, "sns names each device once"),
  /** How many devices may be updating at once (downloading, rebooting). */
  max_concurrent: z.number().int().min(1).max(100).default(5),
  /** The rollout halts when this many devices have failed; absent: it never halts. */
  max_failures: z.number().int().min(1).optional(),
  /** How long each device's `ota` command may wait for the device to be online (default 1 h). */
  expires_in_s: z.number().int().min(60).max(7 * 24 * 3600).default(3600),
}).strict();
export type RolloutRequest = z.infer<typeof RolloutRequestSchema>;

export const RolloutDeviceSchema = z.object({
  sn: z.string(),
  status: z.enum(ROLLOUT_DEVICE_STATUSES),
  command_id: z.string().nullable(),
  /** The device's answer, or why it failed or was skipped. */
  msg: z.string().nullable(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});
export const RolloutSchema = z.object({
  id: z.uuid(),
  version: z.string(),
  state: z.enum(ROLLOUT_STATES),
  max_concurrent: z.number().int(),
  max_failures: z.number().int().nullable(),
  expires_in_s: z.number().int(),
  created_by: z.string(),
  created_at: z.string(),
  finished_at: z.string().nullable(),
  /** How many devices are in each status. */
  progress: z.object(Object.fromEntries(ROLLOUT_DEVICE_STATUSES.map((status) => [status, z.number().int()])) as Record<RolloutDeviceStatus, z.ZodNumber>),
  devices: z.array(RolloutDeviceSchema),
});
export type Rollout = z.infer<typeof RolloutSchema>;
export const RolloutListSchema = z.object({ data: z.array(RolloutSchema.omit({ devices: true })) });
