import { z } from "zod";

/** A day, `YYYY-MM-DD` (a UTC day, as the archive's files are cut). */
export const ArchiveDaySchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a day is YYYY-MM-DD, such as 2025-12-13")
  .refine((day) => !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) && new Date(`${day}T00:00:00Z`).toISOString().startsWith(day), "not a day of the calendar");

/** `POST /api/archive/run`: archive every whole day before `before` (default: older than the retention). */
export const ArchiveRunInputSchema = z.object({ before: ArchiveDaySchema.optional() }).strict();

export const ARCHIVE_RUN_STATES = ["queued", "running", "ok", "failed"] as const;

/** One archive run, as `GET /api/archive/runs` lists it (newest first). */
export const ArchiveRunSchema = z.object({
  id: z.number().int(),
  /** `schedule` (02:00), `api` or `cli`, and who asked. */
  trigger: z.string(),
  requested_by: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  state: z.enum(ARCHIVE_RUN_STATES),
  /** The days this run archived (done so far while running). */
  days: z.array(z.string()),
  /** How many days it has to do (known once it starts). */
  days_total: z.number().int(),
  rows: z.number().int(),
  /** Compressed bytes written. */
  bytes: z.number().int(),
  /** Uncompressed CSV bytes, for the compression ratio. */
  raw_bytes: z.number().int(),
  duration_ms: z.number().int().nullable(),
  error: z.string().nullable(),
});
export type ArchiveRun = z.infer<typeof ArchiveRunSchema>;
export const ArchiveRunListSchema = z.object({ data: z.array(ArchiveRunSchema) });

export const ARCHIVE_KINDS = ["sensor_data", "alarms", "audit", "manifest"] as const;

/** One object in the archive, as `GET /api/archive/objects` lists it. */
export const ArchiveObjectSchema = z.object({
  key: z.string(),
  kind: z.enum(ARCHIVE_KINDS),
  day: z.string(),
  bytes: z.number().int(),
  modified_at: z.string().nullable(),
});
export type ArchiveObject = z.infer<typeof ArchiveObjectSchema>;
export const ArchiveObjectListSchema = z.object({
  /** Where they are: `s3://bucket/prefix` or the local folder. */
  target: z.string(),
  data: z.array(ArchiveObjectSchema),
});

/** `POST /api/archive/restore` */
export const ArchiveRestoreInputSchema = z.object({ day: ArchiveDaySchema }).strict();
export const ArchiveRestoreResultSchema = z.object({
  day: z.string(),
  /** Rows in the archived file. */
  rows: z.number().int(),
  /** Of those, how many were not stored already (restoring twice stores each once). */
  inserted: z.number().int(),
});
export type ArchiveRestoreResult = z.infer<typeof ArchiveRestoreResultSchema>;
