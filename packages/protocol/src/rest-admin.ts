import { z } from "zod";
import { ROLES } from "./rest.ts";

/** The kinds of notification channel (`GET|POST /api/channels`, see rest-alarms.ts). */
export const CHANNEL_TYPES = ["email", "dingtalk", "feishu", "wecom", "webhook", "sms"] as const;

/** `GET|POST /api/users` */
export const UserCreateSchema = z.object({
  username: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  password: z.string().min(10).max(256),
  role: z.enum(ROLES),
}).strict();

/** `GET /api/audit`: who changed what, when, before and after. */
export const AuditEntrySchema = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  ip: z.string().nullable(),
  action: z.string(),
  target: z.string(),
  before: z.unknown(),
  after: z.unknown(),
});

