import { z } from "zod";

export const DEVICE_STATUSES = ["online", "offline", "alarm", "fault"] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

export const ALARM_TYPES = ["HIGH", "LOW", "FAULT", "OFFLINE", "LOW_BATTERY"] as const;
export type AlarmType = (typeof ALARM_TYPES)[number];

/** `/ws/dashboard`: the latest state of devices, batched, at most one frame a second. */
export const RealtimeFrameSchema = z.object({
  type: z.literal("realtime"),
  data: z.array(z.object({ sn: z.string(), ppm: z.number(), status: z.enum(DEVICE_STATUSES) })),
});
export type RealtimeFrame = z.infer<typeof RealtimeFrameSchema>;

/** `/ws/dashboard`: an alarm, sent at once. */
export const AlarmFrameSchema = z.object({
  type: z.literal("alarm"),
  data: z.object({ sn: z.string(), ppm: z.number(), type: z.enum(ALARM_TYPES) }),
});
export type AlarmFrame = z.infer<typeof AlarmFrameSchema>;

export const DashboardFrameSchema = z.discriminatedUnion("type", [RealtimeFrameSchema, AlarmFrameSchema]);
export type DashboardFrame = z.infer<typeof DashboardFrameSchema>;
