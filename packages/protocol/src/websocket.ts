import { z } from "zod";

export const DEVICE_STATUSES = ["online", "offline", "alarm", "fault"] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

export const ALARM_TYPES = ["HIGH", "LOW", "FAULT", "OFFLINE", "LOW_BATTERY"] as const;
export type AlarmType = (typeof ALARM_TYPES)[number];

/**
 * One device in a `realtime` frame: the plan's `sn`, `ppm`, `status`, and (added, optional:
 * a client that knows only the plan's fields ignores them) what the big screen colours by.
 */
export const RealtimeItemSchema = z.object({
  sn: z.string(),
  ppm: z.number(),
  status: z.enum(DEVICE_STATUSES),
  /** The highest level of the device's open gas alarms whose condition holds (0: none): amber 1, red 2. */
  level: z.number().int().min(0).max(2).optional(),
  /** In maintenance: alarms are not raised; the screen marks it. */
  inhibited: z.boolean().optional(),
  /** The reading's time, Unix seconds. */
  ts: z.number().optional(),
});
export type RealtimeItem = z.infer<typeof RealtimeItemSchema>;

/**
 * `/ws/dashboard`: the latest state of devices, batched, at most one frame a second. The
 * first frame after connecting is the snapshot: every device.
 */
export const RealtimeFrameSchema = z.object({
  type: z.literal("realtime"),
  data: z.array(RealtimeItemSchema),
});
export type RealtimeFrame = z.infer<typeof RealtimeFrameSchema>;

/** `/ws/dashboard`: an alarm event, sent at once. `sn`, `ppm`, `type` are the plan's; the rest says what happened. */
export const AlarmFrameSchema = z.object({
  type: z.literal("alarm"),
  data: z.object({
    sn: z.string(),
    ppm: z.number(),
    type: z.enum(ALARM_TYPES),
    id: z.number().int().optional(),
    level: z.number().int().min(1).max(2).optional(),
    /** raised, level_up, condition_cleared, condition_returned, acked, closed; late_episode, revised, withdrawn (what late readings changed) */
    kind: z.string().optional(),
    state: z.enum(["unacked", "acked", "cleared_unacked", "closed"]).optional(),
    /** ISO-8601: when it happened (for a late event, in the past) */
    at: z.string().optional(),
    /** Found in readings that arrived out of time order (补报): it happened at `at`, in the past. */
    late: z.boolean().optional(),
  }),
});
export type AlarmFrame = z.infer<typeof AlarmFrameSchema>;

export const DashboardFrameSchema = z.discriminatedUnion("type", [RealtimeFrameSchema, AlarmFrameSchema]);
export type DashboardFrame = z.infer<typeof DashboardFrameSchema>;
