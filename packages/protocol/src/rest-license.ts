import { z } from "zod";

export const LICENSE_STATES = ["trial", "valid", "grace", "locked", "expired", "invalid"] as const;
export type LicenseStateName = (typeof LICENSE_STATES)[number];

/** `GET /api/license` (and the answer of `POST /api/license`, `POST /api/license/check`). */
export const LicenseViewSchema = z.object({
  state: z.enum(LICENSE_STATES),
  customer: z.string().nullable(),
  plant: z.string().nullable(),
  device_limit: z.number().int(),
  devices_used: z.number().int(),
  features: z.array(z.string()),
  /** ISO-8601: the end of the license (or of the trial). */
  expires_at: z.string().nullable(),
  last_check_at: z.string().nullable(),
  /** ISO-8601: when grace runs out (state `grace`, and `locked` after it). */
  grace_until: z.string().nullable(),
  /** This machine's fingerprint (null: it has no machine id); the vendor issues the license for it. */
  fingerprint: z.string().nullable(),
  /** Why this state, in plain words. */
  reason: z.string(),
  /** Whether ingest holds readings and the API refuses (locked, expired, invalid). */
  locked: z.boolean(),
  /** The last check's error, if it failed. */
  last_check_error: z.string().nullable(),
});
export type LicenseView = z.infer<typeof LicenseViewSchema>;
