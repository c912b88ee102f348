import { z } from "zod";
import { InstantSchema, ROLES } from "./rest.ts";

/** The kinds of notification channel (`GET|POST /api/channels`, see rest-alarms.ts). */
export const CHANNEL_TYPES = ["email", "dingtalk", "feishu", "wecom", "webhook", "sms"] as const;

const PASSWORD_FIELD = z.string().min(10, "must be at least 10 characters long").max(256, "at most 256 characters");

/** `GET|POST /api/users` */
export const UserCreateSchema = z.object({
  username: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "username is 1–64 letters, digits, '_', '.' or '-'"),
  password: PASSWORD_FIELD,
  role: z.enum(ROLES),
}).strict();
export type UserCreate = z.infer<typeof UserCreateSchema>;

/** A user account as the admin site lists it (never the password or its hash). */
export const UserAccountSchema = z.object({
  id: z.number().int(),
  username: z.string(),
  role: z.enum(ROLES),
  disabled: z.boolean(),
  /** ISO-8601 while the account is locked after repeated failed logins; null otherwise. */
  locked_until: z.string().nullable(),
  created_at: z.string(),
  /** When the password was last set; null when unknown. */
  password_changed_at: z.string().nullable(),
});
export type UserAccount = z.infer<typeof UserAccountSchema>;
export const UserAccountListSchema = z.object({ data: z.array(UserAccountSchema) });

/** `PATCH /api/users/{id}`: a role change or disabling ends the user's sessions at once. */
export const UserPatchSchema = z.object({
  role: z.enum(ROLES).optional(),
  disabled: z.boolean().optional(),
}).strict()
  .refine((body) => Object.keys(body).length > 0, { message: "nothing to change: send role or disabled", when: (payload) => payload.issues.length === 0 });
export type UserPatch = z.infer<typeof UserPatchSchema>;

/** `POST /api/users/{id}/password`: an admin sets another user's password. */
export const PasswordResetSchema = z.object({ password: PASSWORD_FIELD }).strict();

/** `POST /api/auth/password`: a user changes their own password. */
export const PasswordChangeSchema = z.object({
  current_password: z.string().min(1, "required").max(256),
  new_password: PASSWORD_FIELD,
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

/** The most rows one page of `GET /api/audit` holds, and one export. */
export const MAX_AUDIT_PAGE = 1000;
export const MAX_AUDIT_EXPORT = 100_000;

/** The filters of `GET /api/audit` and `GET /api/audit/export.csv`. */
const AuditFilterFields = {
  /** Who acted (exact, case-insensitive). */
  actor: z.string().min(1).max(200).optional(),
  /** The action (`user.update`), or a family of them (`user` matches `user.create`, `user.password.reset`…). */
  action: z.string().min(1).max(200).optional(),
  /** What was changed (exact, case-insensitive): a device's sn, a username… */
  target: z.string().min(1).max(200).optional(),
  /** Words anywhere in the actor, action or target (case-insensitive). */
  q: z.string().min(1).max(200).optional(),
  /** At or after (ISO-8601 or Unix seconds). */
  from: InstantSchema.optional(),
  /** Before (ISO-8601 or Unix seconds). */
  to: InstantSchema.optional(),
};
export const AuditQuerySchema = z.object({
  ...AuditFilterFields,
  limit: z.coerce.number().int().min(1).max(MAX_AUDIT_PAGE).default(200),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
});
export type AuditQuery = z.infer<typeof AuditQuerySchema>;
export const AuditExportQuerySchema = z.object({
  ...AuditFilterFields,
  limit: z.coerce.number().int().min(1).max(MAX_AUDIT_EXPORT).default(MAX_AUDIT_EXPORT),
});
/** A page of the audit log, newest first, and how many rows match the filters in all. */
export const AuditPageSchema = z.object({ data: z.array(AuditEntrySchema), total: z.number().int() });

