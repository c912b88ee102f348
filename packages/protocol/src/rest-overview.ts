import { z } from "zod";
import { DEVICE_STATUSES } from "./websocket.ts";

/**
 * A device's live state as every page colours it (packages/core `lookOf`): gas alarm level 2
 * red, level 1 amber, fault yellow, offline grey, normal green.
 */
export const DEVICE_LOOKS = ["alarm2", "alarm1", "fault", "offline", "normal"] as const;
export type DeviceLook = (typeof DEVICE_LOOKS)[number];

/**
 * Why a detector needs attention, worst first: a fault, offline (silent, or never heard
 * from), low battery, calibration overdue, not configured (monitor only, no alarm limits),
 * disabled (its readings are refused), calibration due within 30 days.
 */
export const ATTENTION_KINDS = ["fault", "offline", "low_battery", "calibration_overdue", "not_configured", "disabled", "calibration_due"] as const;
export type AttentionKind = (typeof ATTENTION_KINDS)[number];

export const AttentionReasonSchema = z.object({
  kind: z.enum(ATTENTION_KINDS),
  /** What the alarm or the reading says (e.g. "err 0x0001: sensor fault", "battery 3.1 V < 3.3 V"); null when there is nothing more to say. */
  detail: z.string().nullable(),
  /** Since when (ISO-8601): for offline the last time the device was heard (null: never), for a fault or low battery when its alarm was raised. */
  since: z.string().nullable(),
  /** Calibration reasons: the due date (YYYY-MM-DD), and the days from today (the plant's date) to it, negative when overdue. */
  calib_due: z.string().nullable(),
  days: z.number().int().nullable(),
});
export type AttentionReason = z.infer<typeof AttentionReasonSchema>;

export const AttentionDeviceSchema = z.object({
  sn: z.string(),
  name: z.string(),
  gas: z.string(),
  state: z.enum(DEVICE_LOOKS),
  status: z.enum(DEVICE_STATUSES),
  /** When the server last heard from the device (null: never). */
  last_seen: z.string().nullable(),
  /** In maintenance now: it raises no new alarm. */
  inhibited: z.boolean(),
  reasons: z.array(AttentionReasonSchema).min(1),
});
export type AttentionDevice = z.infer<typeof AttentionDeviceSchema>;

/** Alarms raised in one hour, by kind: gas alarms (HIGH, LOW) by the highest level they reached, faults, low battery, offline. */
export const AlarmHourSchema = z.object({
  /** The hour's start (ISO-8601); the hour is [start, start + 1 h). */
  start: z.string(),
  gas_2: z.number().int(),
  gas_1: z.number().int(),
  fault: z.number().int(),
  low_battery: z.number().int(),
  offline: z.number().int(),
});
export type AlarmHour = z.infer<typeof AlarmHourSchema>;

/**
 * `GET /api/overview`: the plant at a glance. `counts` partitions the devices by state
 * (`total` = `alarm2 + alarm1 + fault + offline + normal`); `maintenance` and
 * `not_configured` count devices also counted in their state (a not-configured device is
 * shown as a fault). The open alarms themselves: `GET /api/alarms?state=open`.
 */
export const OverviewSchema = z.object({
  /** When the answer was made (ISO-8601): a page shows how old what it shows is. */
  generated_at: z.string(),
  counts: z.object({
    total: z.number().int(),
    alarm2: z.number().int(),
    alarm1: z.number().int(),
    fault: z.number().int(),
    offline: z.number().int(),
    normal: z.number().int(),
    maintenance: z.number().int(),
    not_configured: z.number().int(),
  }),
  /** Devices with at least one reason, worst first. */
  attention: z.array(AttentionDeviceSchema),
  /** The last 24 hours, oldest first: 24 whole hours, the last one the hour now running. */
  alarms_by_hour: z.array(AlarmHourSchema).length(24),
});
export type Overview = z.infer<typeof OverviewSchema>;
