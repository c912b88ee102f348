import { z } from "zod";
import { ALARM_TYPES } from "./websocket.ts";
import { InstantSchema, UNITS } from "./rest.ts";
import { SN_PATTERN } from "./topics.ts";
import { CHANNEL_TYPES } from "./rest-admin.ts";

export const ALARM_STATES = ["unacked", "acked", "cleared_unacked", "closed"] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

/** `GET /api/alarms?state=open` items; `open` means any state but `closed`. */
export const AlarmSchema = z.object({
  id: z.number().int(),
  sn: z.string(),
  type: z.enum(ALARM_TYPES),
  /** The highest level reached while open. */
  level: z.number().int().min(1).max(2),
  /** The value when raised (volts for LOW_BATTERY; null for OFFLINE). */
  ppm: z.number().nullable(),
  state: z.enum(ALARM_STATES),
  raised_at: z.string(),
  acked_at: z.string().nullable(),
  cleared_at: z.string().nullable(),
  /** Is the condition still present (an acknowledged or latched alarm may outlive it)? */
  condition_active: z.boolean(),
  /** The worst value while open: highest for HIGH and FAULT, lowest for LOW and LOW_BATTERY. */
  peak: z.number().nullable(),
  /** The same as `peak` (the value the plant's reports call the peak concentration). */
  peak_ppm: z.number().nullable(),
  /** When the peak was read. */
  peak_at: z.string(),
  /** When the server knew of it; for a late alarm after `raised_at`, which is the reading's own time. */
  received_at: z.string(),
  /** Raised from readings that arrived out of time order (a backlog after live data): it happened in the past (补报). */
  late: z.boolean(),
  /** Why it was raised, e.g. "value 45.2 > level 2 limit 34". */
  reason: z.string(),
  acked_by: z.string().nullable(),
  ack_comment: z.string().nullable(),
  closed_at: z.string().nullable(),
});
export type Alarm = z.infer<typeof AlarmSchema>;
export const AlarmListSchema = z.object({ data: z.array(AlarmSchema) });

/** The most alarms one list or export answers. */
export const MAX_ALARMS_LISTED = 5000;

/** `GET /api/alarms` and `GET /api/alarms/export.csv`: raised in [from, to), newest first. */
export const AlarmQuerySchema = z.object({
  state: z.enum([...ALARM_STATES, "open"]).optional(),
  sn: z.string().regex(SN_PATTERN, "sn is 1–32 letters, digits, '_' or '-'").optional(),
  type: z.enum(ALARM_TYPES).optional(),
  /** Raised at or after (ISO-8601 or Unix seconds). */
  from: InstantSchema.optional(),
  /** Raised before (ISO-8601 or Unix seconds). */
  to: InstantSchema.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_ALARMS_LISTED).default(200),
});
export type AlarmQuery = z.infer<typeof AlarmQuerySchema>;

/** One step in an alarm's life: raised, level_up, condition_cleared, condition_returned, acked, closed. */
export const AlarmEventSchema = z.object({
  id: z.number().int(),
  kind: z.string(),
  level: z.number().int(),
  value: z.number().nullable(),
  at: z.string(),
  /** "worker" for what the readings did; the user for an acknowledgement or a reset. */
  actor: z.string(),
  note: z.string(),
});

export const NOTIFICATION_STATUSES = ["pending", "sent", "failed", "suppressed"] as const;
/** One message about an alarm to one channel, as the outbox keeps it. */
export const AlarmNotificationSchema = z.object({
  id: z.number().int(),
  /** Null once the channel was deleted (its history stays). */
  channel_id: z.number().int().nullable(),
  channel_name: z.string().nullable(),
  /** raised, level_up, repeat, escalation, late (补报: an episode found in late readings) */
  kind: z.string(),
  status: z.enum(NOTIFICATION_STATUSES),
  attempts: z.number().int(),
  created_at: z.string(),
  finished_at: z.string().nullable(),
  /** What the far end answered, or why it was suppressed. */
  detail: z.string().nullable(),
});

/** One stretch of time the alarm's condition held, as the readings in time order say (late readings may revise it). */
export const AlarmEpisodeSchema = z.object({
  id: z.number().int(),
  level: z.number().int().min(1).max(2),
  started_at: z.string(),
  /** Null while it holds. */
  ended_at: z.string().nullable(),
  start_value: z.number().nullable(),
  peak: z.number().nullable(),
  peak_at: z.string(),
  reason: z.string(),
  /** Found only in readings that arrived out of time order. */
  late: z.boolean(),
  recorded_at: z.string(),
});

/** `GET /api/alarms/{id}`: the alarm, its history and its notifications. */
export const AlarmDetailSchema = AlarmSchema.extend({
  episodes: z.array(AlarmEpisodeSchema),
  events: z.array(AlarmEventSchema),
  notifications: z.array(AlarmNotificationSchema),
  /** Seconds from raised to cleared, or to now while the condition is present. */
  active_s: z.number(),
});
export type AlarmDetail = z.infer<typeof AlarmDetailSchema>;

/** `POST /api/alarms/{id}/ack` and `POST /api/alarms/{id}/clear` (the body may be left out). */
export const AlarmAckSchema = z.object({ comment: z.string().trim().max(1000).default("") }).strict();
export type AlarmAck = z.infer<typeof AlarmAckSchema>;

/** `GET /api/alarm-presets`: a gas's setpoints, named as the device fields they fill. */
export const AlarmPresetSchema = z.object({
  gas: z.string(),
  unit: z.enum(UNITS),
  range_max: z.number(),
  high_limit: z.number().nullable(),
  high_limit_2: z.number().nullable(),
  low_limit: z.number().nullable(),
  low_limit_2: z.number().nullable(),
  deadband: z.number(),
  /** Where the setpoints come from, e.g. "GB/T 50493-2019: 25 / 50 %LEL". */
  basis: z.string(),
});
export type AlarmPreset = z.infer<typeof AlarmPresetSchema>;
export const AlarmPresetListSchema = z.object({ data: z.array(AlarmPresetSchema) });
/** `POST /api/devices/{sn}/alarm-preset`: without a gas, the device's own. */
export const AlarmPresetRequestSchema = z
  .object({ gas: z.string().regex(/^[A-Za-z0-9]{1,16}$/, "gas is a formula such as CH4, H2S, CO, O2").optional() })
  .strict();

// ── Notification channels ────────────────────────────────────────────────────────────

export const NOTIFY_LOCALES = ["zh-CN", "en"] as const;
/** What an answer shows in place of a secret that is set; sent back in a PATCH it keeps the stored one. */
export const SECRET_MASK = "********";

/** A weekly window, by the schedule's local clock. */
export const TimeWindowSchema = z.object({
  /** 1 = Monday … 7 = Sunday. */
  days: z.array(z.number().int()),
  /** "08:00" */
  start: z.string(),
  /** "18:00"; an end before the start crosses midnight; "24:00" is the end of the day. */
  end: z.string(),
});
/** When a channel is sent to; outside it alarms are recorded, not sent (level 2 may still go, see level2_always). */
export const NotifyScheduleSchema = z.object({
  /** IANA time zone. */
  timezone: z.string().default("Asia/Shanghai"),
  windows: z.array(TimeWindowSchema),
  /** "YYYY-MM-DD": no window starts that day. */
  holidays: z.array(z.string()).default([]),
  /** "YYYY-MM-DD": make-up working days (调休), treated as a Monday. */
  workdays: z.array(z.string()).default([]),
});
/** A schedule as written: no unknown fields (a typo must not pass unnoticed); the rest is checked by the core's validateSchedule. */
const NotifyScheduleInputSchema = NotifyScheduleSchema.extend({
  windows: z.array(TimeWindowSchema.strict()).max(100),
  holidays: z.array(z.string()).max(1000).default([]),
  workdays: z.array(z.string()).max(1000).default([]),
}).strict();

const minutes = (name: string) => z.number().int().min(0, `${name}: 0 (never) to 1440`).max(1440, `${name}: at most 1440 (a day)`);

/** The fields a channel is written with; every one optional (a PATCH), defaults added for a create. */
const ChannelFields = {
  type: z.enum(CHANNEL_TYPES),
  name: z.string().trim().min(1).max(64),
  enabled: z.boolean(),
  /**
   * The type's settings, e.g. a webhook's {"url","secret"}; checked against the type. Secrets
   * are write-only: answers show "********" in their place, and a PATCH that leaves one out
   * (or sends "********") keeps the stored one.
   */
  config: z.record(z.string(), z.unknown()),
  locale: z.enum(NOTIFY_LOCALES),
  /** Devices it hears; null: all. */
  sns: z.array(z.string().regex(SN_PATTERN, "sn is 1–32 letters, digits, '_' or '-'")).min(1, "name at least one device, or null for all").max(1000).nullable(),
  /** Alarm types it hears; null: all. */
  types: z.array(z.enum(ALARM_TYPES)).min(1, "name at least one alarm type, or null for all").nullable(),
  /** Lowest level it hears (faults, offline and battery are level 1). */
  min_level: z.literal([1, 2]),
  /** null: always. */
  schedule: NotifyScheduleInputSchema.nullable(),
  /** A level 2 alarm is sent even outside the schedule. */
  level2_always: z.boolean(),
  /** Repeat every N minutes while unacknowledged; 0: never. */
  repeat_every_min: minutes("repeat_every_min"),
  /** >0: an escalation group, told only when an alarm stays unacknowledged this long. */
  escalate_after_min: minutes("escalate_after_min"),
  /** At most one message per this many seconds; what comes meanwhile is grouped into the next. */
  min_interval_s: z.number().int().min(0).max(3600),
};

/** `POST /api/channels` */
export const ChannelCreateSchema = z
  .object({
    ...ChannelFields,
    enabled: ChannelFields.enabled.default(true),
    locale: ChannelFields.locale.default("zh-CN"),
    sns: ChannelFields.sns.default(null),
    types: ChannelFields.types.default(null),
    min_level: ChannelFields.min_level.default(1),
    schedule: ChannelFields.schedule.default(null),
    level2_always: ChannelFields.level2_always.default(true),
    repeat_every_min: ChannelFields.repeat_every_min.default(0),
    escalate_after_min: ChannelFields.escalate_after_min.default(0),
    min_interval_s: ChannelFields.min_interval_s.default(0),
  })
  .strict();
export type ChannelCreate = z.infer<typeof ChannelCreateSchema>;

/** `PATCH /api/channels/{id}`: any field; a changed type needs its config. */
export const ChannelPatchSchema = z
  .object(ChannelFields)
  .partial()
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: "nothing to change", when: (payload) => payload.issues.length === 0 });
export type ChannelPatch = z.infer<typeof ChannelPatchSchema>;

/** A channel as answered: secrets that are set read "********" (named like CommandViewSchema). */
export const ChannelViewSchema = z.object({
  id: z.number().int(),
  type: ChannelFields.type,
  name: z.string(),
  enabled: z.boolean(),
  config: ChannelFields.config,
  locale: ChannelFields.locale,
  // As stored, without the input's bounds: an answer never fails on a row written otherwise.
  sns: z.array(z.string()).nullable(),
  types: z.array(z.enum(ALARM_TYPES)).nullable(),
  min_level: ChannelFields.min_level,
  schedule: NotifyScheduleSchema.nullable(),
  level2_always: z.boolean(),
  repeat_every_min: z.number().int(),
  escalate_after_min: z.number().int(),
  min_interval_s: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type ChannelView = z.infer<typeof ChannelViewSchema>;
export const ChannelListSchema = z.object({ data: z.array(ChannelViewSchema) });

/** `POST /api/channels/{id}/test`: what the far end answered to a test message. */
export const ChannelTestResultSchema = z.object({ ok: z.boolean(), detail: z.string() });
