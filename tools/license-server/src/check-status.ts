import { licenseEndsAt, type CheckAnswer } from "@mcs/core";

/** What the check needs to know of a stored license. */
export interface CheckedLicense {
  fingerprint: string;
  expires_at: string;
  revoked_at: string | null;
}

/**
 * The vendor's word on a license, for a check from one machine at `now`.
 * - no such license, or a license for another machine: `unknown` (a machine learns nothing
 *   about licenses that are not its own, not even that they were revoked);
 * - revoked, or past its last day: `revoked` (no longer in force; an expired file is
 *   refused offline by the guard anyway, with the reason "expired");
 * - otherwise `valid`.
 */
export function checkStatus(license: CheckedLicense | null, fingerprint: string, now: number): CheckAnswer["status"] {
  if (license === null || license.fingerprint !== fingerprint) return "unknown";
  if (license.revoked_at !== null) return "revoked";
  if (now >= licenseEndsAt(license)) return "revoked";
  return "valid";
}
