import { licenseEndsAt, verifyLicenseFile, type License } from "./license-file.ts";
import type { KeyObject } from "node:crypto";

/**
 * `trial`: no license file, full function for 60 days with at most 50 devices.
 * `valid`: a genuine license for this machine, confirmed by the vendor (or an offline one).
 * `grace`: the vendor unreachable (or the clock doubtful), within 72 h of the last success.
 * `locked`: grace ran out, or the vendor revoked the license.
 * `expired`: the license (or the trial) ended. `invalid`: a file that is not genuine or not for this machine.
 */
export type LicenseState = "trial" | "valid" | "grace" | "locked" | "expired" | "invalid";

/** In these states ingest holds its readings and the API refuses (docs/license.md). */
export const LOCKING_STATES: readonly LicenseState[] = ["locked", "expired", "invalid"];

export const TRIAL_DAYS = 60;
export const TRIAL_DEVICE_LIMIT = 50;
export const GRACE_MS = 72 * 3_600_000;
/** A clock this far behind the latest time seen was set back (not mere jitter between processes). */
export const CLOCK_BACK_TOLERANCE_MS = 5 * 60_000;
/** What a trial (and a license that lists none) enables: everything the product does. */
export const ALL_FEATURES = ["alarms", "notifications", "dashboard", "archive", "analysis", "ota"];

/** What the guard keeps in the database (one row), shared by the worker and the backend. */
export interface GuardRecord {
  /** The installation's first start: the trial counts from here. */
  first_start_at: number;
  /** The license file installed, as issued; null: trial. */
  file: string | null;
  /** When that file was installed: grace counts from here until a first successful check. */
  activated_at: number | null;
  last_check_at: number | null;
  last_check_ok_at: number | null;
  /** Why the last check failed (null when it succeeded). */
  last_check_error: string | null;
  /** The vendor answered "revoked" (or "unknown") at the last successful contact. */
  revoked: boolean;
  /** The largest clock reading any guard has seen: time never runs backwards for the license. */
  max_seen_at: number;
}

export interface LicenseStatus {
  state: LicenseState;
  /** What a person reads: why this state. */
  reason: string;
  license: License | null;
  device_limit: number;
  features: string[];
  /** When the license (or the trial) ends, Unix ms. */
  ends_at: number | null;
  /** Grace's end (state `grace`), Unix ms. */
  grace_until: number | null;
  locked: boolean;
  last_check_at: number | null;
  last_check_error: string | null;
}

export interface GuardInput {
  record: GuardRecord;
  publicKey: KeyObject;
  /** This machine's fingerprint; null when it has no machine id. */
  fingerprint: string | null;
  /** The check address configured here (`MCS_LICENSE_SERVER`); the license's own otherwise. */
  server?: string;
  now: number;
}

/** The license state, from the stored record and the clock: pure, so every process agrees. */
export function licenseStatus(input: GuardInput): LicenseStatus {
  const { record } = input;
  const clockSetBack = input.now < record.max_seen_at - CLOCK_BACK_TOLERANCE_MS;
  // A clock set back never buys time: the latest time seen counts.
  const now = Math.max(input.now, record.max_seen_at);
  const status = (state: LicenseState, reason: string, extra: Partial<LicenseStatus> = {}): LicenseStatus => ({
    state, reason, license: null, device_limit: TRIAL_DEVICE_LIMIT, features: ALL_FEATURES, ends_at: null, grace_until: null, ...extra,
    locked: LOCKING_STATES.includes(state), last_check_at: record.last_check_at, last_check_error: record.last_check_error,
  });

  if (record.file === null) {
    const endsAt = record.first_start_at + TRIAL_DAYS * 86_400_000;
    if (now >= endsAt) return status("expired", `the ${TRIAL_DAYS}-day trial ended on ${isoDay(endsAt)}: install a license`, { ends_at: endsAt });
    const days = Math.ceil((endsAt - now) / 86_400_000);
    return status("trial", `trial: ${days} days left, at most ${TRIAL_DEVICE_LIMIT} devices`, { ends_at: endsAt });
  }

  const verdict = verifyLicenseFile(record.file, { publicKey: input.publicKey, fingerprint: input.fingerprint, now });
  const license = verdict.ok ? verdict.license : (verdict.license ?? null);
  const granted = license ? { license, device_limit: license.device_limit, features: license.features.length > 0 ? license.features : ALL_FEATURES, ends_at: licenseEndsAt(license) } : {};
  if (!verdict.ok) return status(verdict.failure === "expired" ? "expired" : "invalid", verdict.reason, granted);
  if (record.revoked) return status("locked", `revoked by the vendor (check of ${isoTime(record.last_check_ok_at)})`, granted);

  const server = input.server ?? verdict.license.server;
  if (!server) return status("valid", "offline license: valid until it expires", granted);
  const since = record.last_check_ok_at ?? record.activated_at ?? now;
  const graceUntil = since + GRACE_MS;
  const confirmed = record.last_check_ok_at !== null && record.last_check_ok_at === record.last_check_at;
  const doubt = clockSetBack
    ? `the clock was set back (it reads ${isoTime(input.now)}, ${isoTime(record.max_seen_at)} was seen)`
    : !confirmed ? (record.last_check_error ?? "not yet checked with the license server") : null;
  if (now >= graceUntil) return status("locked", `no successful check with the license server since ${isoTime(since)}${doubt ? `: ${doubt}` : ""}`, { ...granted, grace_until: graceUntil });
  if (doubt) return status("grace", `grace until ${isoTime(graceUntil)}: ${doubt}`, { ...granted, grace_until: graceUntil });
  return status("valid", `confirmed by the license server at ${isoTime(record.last_check_ok_at)}`, granted);
}

function isoDay(ms: number): string {
  return new Date(ms + 8 * 3_600_000).toISOString().slice(0, 10);
}

function isoTime(ms: number | null): string {
  return ms === null ? "never" : new Date(ms).toISOString();
}
