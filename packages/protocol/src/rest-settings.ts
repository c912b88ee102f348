import { z } from "zod";
import { SECRET_MASK } from "./rest-alarms.ts";

/** The object storage archives go to (Cloudflare R2, MinIO, AWS S3…), as answered: the secret key reads "********" once set. */
export const StorageSettingsViewSchema = z.object({
  endpoint: z.string().nullable(),
  region: z.string(),
  bucket: z.string().nullable(),
  access_key_id: z.string().nullable(),
  secret_access_key: z.literal(SECRET_MASK).nullable(),
  force_path_style: z.boolean(),
  prefix: z.string(),
});
export type StorageSettingsView = z.infer<typeof StorageSettingsViewSchema>;

/**
 * `PUT /api/settings/storage`, and the optional body of `POST /api/settings/storage/test`.
 * The secret is write-only: left out or sent as "********" it keeps the stored one.
 */
export const StorageSettingsInputSchema = z.object({
  endpoint: z.url({ protocol: /^https?$/, error: "endpoint must be an http:// or https:// address, such as https://<account>.r2.cloudflarestorage.com" }).max(500),
  /** "auto" for Cloudflare R2; the bucket's region for AWS S3. */
  region: z.string().trim().regex(/^[a-z0-9-]{1,32}$/, "region is 1–32 lower-case letters, digits or '-', such as auto or eu-central-1").default("auto"),
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "bucket is 3–63 lower-case letters, digits, '.' or '-', starting and ending with a letter or digit"),
  access_key_id: z.string().trim().min(1, "access_key_id is required").max(256),
  secret_access_key: z.string().min(1, "secret_access_key is empty: give the secret, or leave it out to keep the stored one").max(512).optional(),
  /** Address buckets as `endpoint/bucket` (MinIO and most S3-compatible servers) rather than `bucket.endpoint`. */
  force_path_style: z.boolean().default(true),
  /** Where in the bucket objects go, such as "mcs/"; "" for the bucket's root. */
  prefix: z.string().max(200, "prefix is at most 200 characters").regex(/^(?!\/)[A-Za-z0-9!_.*'()/-]*$/, "prefix is letters, digits and !_.*'()/- and does not start with '/'").default(""),
}).strict();
export type StorageSettingsInput = z.infer<typeof StorageSettingsInputSchema>;

/**
 * How long readings stay in the hot tables, whether the nightly archive runs (to the object
 * storage when one is set up, else to `MCS_DATA_DIR/archive`), and how long alarms and the
 * audit log stay in the database (they are archived daily too).
 */
export const RetentionSettingsSchema = z.object({
  hot_days: z.number("hot_days is a whole number of days, 1–3650").int("hot_days is a whole number of days, 1–3650").min(1, "hot_days is 1–3650").max(3650, "hot_days is 1–3650"),
  archive: z.boolean(),
  records_days: z.number("records_days is a whole number of days, 30–3650").int("records_days is a whole number of days, 30–3650").min(30, "records_days is 30–3650").max(3650, "records_days is 30–3650"),
});
export type RetentionSettings = z.infer<typeof RetentionSettingsSchema>;
/** Until someone sets them (hot_days: `MCS_RETENTION_DAYS` when set). */
export const DEFAULT_RETENTION: RetentionSettings = { hot_days: 3, archive: true, records_days: 365 };
/** `PUT /api/settings/retention` */
export const RetentionSettingsInputSchema = RetentionSettingsSchema.extend({ archive: z.boolean().default(true), records_days: RetentionSettingsSchema.shape.records_days.default(365) }).strict();

/** `GET /api/settings` */
export const SettingsSchema = z.object({
  storage: StorageSettingsViewSchema,
  retention: RetentionSettingsSchema,
});
export type Settings = z.infer<typeof SettingsSchema>;

/** `POST /api/settings/storage/test`: what the storage said, in plain words. */
export const StorageTestResultSchema = z.object({ ok: z.boolean(), detail: z.string() });
export type StorageTestResult = z.infer<typeof StorageTestResultSchema>;

/** The plant's time zone until someone sets it: China keeps UTC+8 all year. */
export const DEFAULT_PLANT_TIME_ZONE = "Asia/Shanghai";

/** An IANA name (`Area/Location`, `UTC`, `Etc/GMT-8`…), never a bare offset such as "+08:00". */
const TIME_ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

/**
 * The zone's canonical IANA name ("asia/shanghai" → "Asia/Shanghai", "PRC" → "Asia/Shanghai")
 * when this JavaScript engine's time-zone data knows it; null otherwise (never throws).
 */
export function canonicalTimeZone(zone: unknown): string | null {
  if (typeof zone !== "string" || zone.length > 64 || !TIME_ZONE_NAME.test(zone)) return null;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** Whether `zone` is an IANA time zone this engine knows. */
export function isIanaTimeZone(zone: unknown): zone is string {
  return canonicalTimeZone(zone) !== null;
}

const TIME_ZONE_EXAMPLES = '"Asia/Shanghai", "Asia/Jakarta" or "Europe/Berlin"';

/**
 * `GET /api/settings/plant` and the body of `PUT /api/settings/plant`: the one clock every
 * page, export and notification writes times in (the browser's own zone is never used).
 */
export const PlantSettingsSchema = z.object({
  time_zone: z
    .string(`time_zone is the name of an IANA time zone (text), such as ${TIME_ZONE_EXAMPLES}`)
    .refine(isIanaTimeZone, { error: (issue) => `${JSON.stringify(issue.input)} is not a known IANA time zone: give a name such as ${TIME_ZONE_EXAMPLES}, not an offset like "+08:00"` })
    .meta({ description: "IANA time zone name", examples: [DEFAULT_PLANT_TIME_ZONE] }),
}).strict();
export type PlantSettings = z.infer<typeof PlantSettingsSchema>;
/** Until someone sets it. */
export const DEFAULT_PLANT_SETTINGS: PlantSettings = { time_zone: DEFAULT_PLANT_TIME_ZONE };
