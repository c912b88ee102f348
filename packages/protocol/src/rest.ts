import { z } from "zod";
import { SN_PATTERN } from "./topics.ts";
import { DEVICE_STATUSES } from "./websocket.ts";
import { READING_FLAGS, type ReadingFlag } from "./flags.ts";

/** `{"error":{"code","message"}}`: every REST error, with the right HTTP status. */
export const ErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export const UNITS = ["ppm", "%LEL", "%VOL", "mg/m3"] as const;
export const ROLES = ["admin", "engineer", "operator", "viewer"] as const;
export type Role = (typeof ROLES)[number];

const finite = z.number();
const limit = z.number().nullable();

/** The writable fields of a device; calibration is `ppm = k × v_raw + b + t_comp × (temp − t_ref)`. */
const DeviceFields = z.object({
  name: z.string().trim().min(1).max(64),
  gas: z.string().regex(/^[A-Za-z0-9]{1,16}$/, "gas is a formula such as CH4, H2S, CO, O2"),
  unit: z.enum(UNITS),
  k: finite,
  b: finite,
  t_comp: finite,
  t_ref: finite,
  /** Level 1 gas alarm above this (the plan's high_limit); level 2 above high_limit_2. */
  high_limit: limit,
  /** Level 1 alarm below this (e.g. O2 deficiency); level 2 below low_limit_2. */
  low_limit: limit,
  high_limit_2: limit,
  low_limit_2: limit,
  /** Hysteresis in the device's unit: an alarm clears only this far back inside its limit. */
  deadband: z.number().min(0),
  /** Consecutive samples beyond a limit before level 1 is raised (level 2 waits at most one). */
  on_delay_samples: z.number().int().min(1).max(60),
  /** Consecutive samples back inside before an alarm's condition is gone. */
  off_delay_samples: z.number().int().min(1).max(60),
  /** A latched gas alarm stays active until acknowledged, even after the gas is gone. */
  latching: z.boolean(),
  /** LOW_BATTERY below this many volts; null: not checked. */
  low_battery_v: z.number().min(0).max(10).nullable(),
  /** FAULT when v_raw repeats exactly this many samples in a row (a stuck sensor); null: not checked. */
  stuck_samples: z.number().int().min(2).max(10_000).nullable(),
  /** Full scale: above it a reading raises FAULT and the gas alarm at its highest level; null: the gas preset's. */
  range_max: limit,
  /**
   * No alarm limits, by an explicit choice (`monitor_reason` says why): the device is then
   * shown as not configured, with a fault, never as normal. Otherwise limits not given come from the gas preset.
   */
  monitor_only: z.boolean(),
  monitor_reason: z.string().trim().max(500).nullable(),
  enabled: z.boolean(),
  /** When the next calibration is due (YYYY-MM-DD); fixed detectors: at least yearly. */
  calib_due: z.iso.date("calib_due is a date, YYYY-MM-DD").nullable(),
  /** How often the device reports (its firmware setting); silent for 3 intervals means offline. */
  report_interval_s: z.number().int().min(1).max(3600),
});

export const DeviceCreateSchema = DeviceFields.partial()
  .extend({
    sn: z
      .string()
      .regex(SN_PATTERN, "sn is 1–32 letters, digits, '_' or '-'")
      // The broker's service accounts (mcs-worker, mcs-backend) share the devices' username space.
      .refine((sn) => !/^mcs-/i.test(sn), "sn may not start with 'mcs-' (reserved for the platform's own accounts)"),
  })
  .strict();
export type DeviceCreate = z.infer<typeof DeviceCreateSchema>;

export const DevicePatchSchema = DeviceFields.partial()
  .extend({ calib_note: z.string().max(500).optional() })
  .strict()
  // Only when the body is otherwise valid: `{"colour":1}` is an unknown field, not an empty patch.
  .refine((body) => Object.keys(body).length > 0, { message: "nothing to change", when: (payload) => payload.issues.length === 0 });
export type DevicePatch = z.infer<typeof DevicePatchSchema>;

/** Why limits that pass one by one cannot work together, or null. */
export function alarmLimitProblem(d: { high_limit?: number | null; high_limit_2?: number | null; low_limit?: number | null; low_limit_2?: number | null }): string | null {
  const { high_limit: h1, high_limit_2: h2, low_limit: l1, low_limit_2: l2 } = d;
  if (h1 != null && h2 != null && h2 <= h1) return "high_limit_2: the level 2 limit must be above high_limit";
  if (l1 != null && l2 != null && l2 >= l1) return "low_limit_2: the level 2 limit must be below low_limit";
  const lowest = h1 ?? h2;
  const highest = l1 ?? l2;
  if (lowest != null && highest != null && highest >= lowest) return "low_limit: the low limits must be below the high limits";
  return null;
}

/** Maintenance: the device raises no new alarm until `until`. */
export const InhibitSchema = z.object({ until: z.string(), reason: z.string(), by: z.string() });
/** `POST /api/devices/{sn}/inhibit` */
export const InhibitRequestSchema = z.object({
  minutes: z.number().int().min(1, "minutes: at least 1").max(7 * 24 * 60, "minutes: at most 7 days").default(60),
  reason: z.string().trim().min(1, "reason: say why (e.g. sensor replacement)").max(500),
}).strict();

export const DeviceSchema = DeviceFields.extend({
  sn: z.string(),
  /** Null unless the device is in maintenance now. */
  inhibit: InhibitSchema.nullable(),
  calib_version: z.number().int(),
  status: z.enum(DEVICE_STATUSES),
  ppm: z.number().nullable(),
  /** When the server last received a reading or an online status from the device. */
  last_seen: z.string().nullable(),
  /** Firmware version and boot counter from the device's last status message. */
  fw: z.string().nullable(),
  boot: z.number().int().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  /** `GET /api/devices/{sn}` only: the device's last message the server refused, and why (null: none). */
  last_refusal: z.object({ at: z.string(), reason: z.string() }).nullable().optional(),
});
export type Device = z.infer<typeof DeviceSchema>;

const PRESET_FIELD_NAMES = ["high_limit", "high_limit_2", "low_limit", "low_limit_2", "range_max", "deadband"] as const;
/** A device as created or changed: which alarm fields were not given and so came from the gas preset, and its basis. */
export const SavedDeviceSchema = DeviceSchema.extend({
  preset_applied: z.array(z.enum(PRESET_FIELD_NAMES)),
  preset_basis: z.string().nullable(),
});
export const DeviceWithPasswordSchema = SavedDeviceSchema.extend({ mqtt_password: z.string() });
export const DeviceListSchema = z.object({ data: z.array(DeviceSchema) });

/** `GET /api/devices/{sn}/calibrations`: every calibration version, newest first, with who, when and why. */
export const CalibrationVersionSchema = z.object({
  version: z.number().int(),
  k: z.number(),
  b: z.number(),
  t_comp: z.number(),
  t_ref: z.number(),
  note: z.string(),
  changed_by: z.string(),
  changed_at: z.string(),
});
export const CalibrationListSchema = z.object({ data: z.array(CalibrationVersionSchema) });
export const CredentialsSchema = z.object({ mqtt_password: z.string() });

/** A moment given as ISO-8601 or Unix seconds (`?from=2025-01-01T00:00:00Z` or `?from=1735689600`). */
export const InstantSchema = z
  .union([z.string(), z.number()])
  .transform((value, ctx) => {
    const ms = typeof value === "number" || /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: "custom", message: "expected ISO-8601 or Unix seconds" });
      return z.NEVER;
    }
    return new Date(ms);
  });

export const TelemetryQuerySchema = z.object({
  from: InstantSchema.optional(),
  to: InstantSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100_000).default(10_000),
});

const flagNames = Object.keys(READING_FLAGS) as [ReadingFlag, ...ReadingFlag[]];
export const TelemetryPointSchema = z.object({
  ts: z.number(),
  ppm: z.number(),
  v_raw: z.number(),
  temp: z.number().nullable(),
  humi: z.number().nullable(),
  bat: z.number().nullable(),
  rssi: z.number().nullable(),
  err: z.number(),
  flags: z.array(z.enum(flagNames)),
  /** With the `clock` flag: the detector's own (implausible) time, Unix seconds; `ts` is when the server received it. */
  device_ts: z.number().nullable().optional(),
});
export type TelemetryPoint = z.infer<typeof TelemetryPointSchema>;
export const TelemetryListSchema = z.object({ data: z.array(TelemetryPointSchema) });

export const LoginSchema = z.object({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
}).strict();
export const UserSchema = z.object({ id: z.number().int(), username: z.string(), role: z.enum(ROLES) });
export type User = z.infer<typeof UserSchema>;
export const LoginAnswerSchema = z.object({ token: z.string(), user: UserSchema });

const ServiceState = z.enum(["ok", "down", "embedded"]);
export const HealthSchema = z.object({
  status: z.enum(["ok", "degraded"]),
  db: ServiceState,
  cache: ServiceState,
  broker: ServiceState,
  license: z.string(),
  dead_letters: z.number().int(),
  /** Messages refused in the last 5 minutes: 30 or more make the status degraded. */
  dead_letters_5min: z.number().int(),
  /** The embedded server's demo: simulated detectors (and whether the scripted scenario plays), or null when none run. */
  demo: z.object({ devices: z.number().int(), scenario: z.boolean() }).nullable(),
});
export type Health = z.infer<typeof HealthSchema>;
