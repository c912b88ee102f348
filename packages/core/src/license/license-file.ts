import { createHash, sign, verify, type KeyObject } from "node:crypto";

/** What the vendor grants one installation: the signed part of a license file. */
export interface License {
  /** The vendor's id of this license (the check names it). */
  id: string;
  customer: string;
  plant: string;
  /** How many detectors may be registered. */
  device_limit: number;
  features: string[];
  /** YYYY-MM-DD */
  issued_at: string;
  /** YYYY-MM-DD: valid through the end of that day, plant time (UTC+8). */
  expires_at: string;
  /** The machine it is bound to (`machineFingerprint`). */
  fingerprint: string;
  /** The vendor's check address; none: an offline license, never checked. */
  server?: string;
}

/** A license file: one JSON document, laid out exactly as `encodeLicenseFile` writes it. */
export interface LicenseDocument {
  license: License;
  /** Ed25519 over the UTF-8 of `JSON.stringify(license)`, base64. */
  signature: string;
}

/** What failed, for the reason a person reads and the state the guard takes. */
export type LicenseFailure = "format" | "signature" | "machine" | "expired";

export type LicenseVerdict = { ok: true; license: License } | { ok: false; failure: LicenseFailure; reason: string; license?: License };

/** A license file is a few hundred bytes; anything near this is not one. */
export const MAX_LICENSE_FILE_BYTES = 64 * 1024;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const FINGERPRINT = /^[0-9a-f]{64}$/;
/**
 * The license's days are China Standard Time days, fixed by the signed file's contract: NOT
 * the plant time-zone setting (an administrator changing the zone must not move the day a
 * license ends). Pages still show the resulting moment in the plant's zone.
 */
const PLANT_OFFSET = "+08:00";

/** The machine's fingerprint: SHA-256 of its machine id (`/etc/machine-id`), hex. */
export function machineFingerprint(machineId: string): string {
  return createHash("sha256").update(`mcs-iot machine ${machineId.trim()}`).digest("hex");
}

/** The first instant after the license's last valid day (Unix ms). */
export function licenseEndsAt(license: Pick<License, "expires_at">): number {
  return Date.parse(`${license.expires_at}T00:00:00${PLANT_OFFSET}`) + 86_400_000;
}

/** The vendor's side: the file's text for a license. */
export function encodeLicenseFile(license: License, privateKey: KeyObject): string {
  const payload = JSON.stringify(license);
  const signature = sign(null, Buffer.from(payload, "utf8"), privateKey).toString("base64");
  return `${JSON.stringify({ license: JSON.parse(payload), signature } satisfies LicenseDocument, null, 2)}\n`;
}

/**
 * Reads a license file as issued. It must be byte for byte what `encodeLicenseFile`
 * wrote (a missing final newline aside): any other change, even a space, is refused.
 */
export function parseLicenseFile(text: string): { ok: true; document: LicenseDocument } | { ok: false; reason: string } {
  if (Buffer.byteLength(text, "utf8") > MAX_LICENSE_FILE_BYTES) return { ok: false, reason: `format: larger than ${MAX_LICENSE_FILE_BYTES} bytes, not a license file` };
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `format: not JSON (${(error as Error).message})` };
  }
  const problem = shapeProblem(document);
  if (problem) return { ok: false, reason: `format: ${problem}` };
  const canonical = `${JSON.stringify(document, null, 2)}\n`;
  if (text !== canonical && `${text}\n` !== canonical) return { ok: false, reason: "format: not laid out as issued (the file was edited)" };
  return { ok: true, document: document as LicenseDocument };
}

/** Verifies a license file offline: format, the vendor's signature, this machine, expiry. */
export function verifyLicenseFile(text: string, options: { publicKey: KeyObject; fingerprint: string | null; now: number }): LicenseVerdict {
  const parsed = parseLicenseFile(text);
  if (!parsed.ok) return { ok: false, failure: "format", reason: parsed.reason };
  const { license, signature } = parsed.document;
  const signed = Buffer.from(JSON.stringify(license), "utf8");
  const bytes = Buffer.from(signature, "base64");
  let genuine = false;
  try {
    genuine = bytes.toString("base64") === signature && verify(null, signed, options.publicKey, bytes);
  } catch {
    genuine = false;
  }
  if (!genuine) return { ok: false, failure: "signature", reason: "signature: not signed by the vendor's key (the file was changed, or issued by someone else)" };
  if (options.fingerprint === null) return { ok: false, failure: "machine", reason: "machine: this machine has no machine id (/etc/machine-id) to compare with", license };
  if (license.fingerprint !== options.fingerprint) return { ok: false, failure: "machine", reason: `machine: issued for machine ${license.fingerprint.slice(0, 12)}…, this is ${options.fingerprint.slice(0, 12)}…`, license };
  if (options.now >= licenseEndsAt(license)) return { ok: false, failure: "expired", reason: `expired: valid through ${license.expires_at}`, license };
  return { ok: true, license };
}

function shapeProblem(document: unknown): string | null {
  if (!isObject(document)) return "not a JSON object";
  const keys = Object.keys(document);
  if (keys.join() !== "license,signature") return `expected the fields license and signature, found ${keys.join(", ") || "none"}`;
  if (typeof document.signature !== "string" || document.signature.length === 0) return "signature: not a string";
  const license = document.license;
  if (!isObject(license)) return "license: not an object";
  const text = (name: string) => typeof license[name] === "string" && (license[name] as string).length > 0 && (license[name] as string).length <= 200;
  for (const name of ["id", "customer", "plant"]) if (!text(name)) return `license.${name}: a text of 1–200 characters is needed`;
  if (!Number.isInteger(license.device_limit) || (license.device_limit as number) < 1) return "license.device_limit: a whole number ≥ 1 is needed";
  if (!Array.isArray(license.features) || !license.features.every((f) => typeof f === "string")) return "license.features: a list of names is needed";
  for (const name of ["issued_at", "expires_at"]) {
    const value = license[name];
    if (typeof value !== "string" || !DATE.test(value) || Number.isNaN(Date.parse(value))) return `license.${name}: a date YYYY-MM-DD is needed`;
  }
  if (typeof license.fingerprint !== "string" || !FINGERPRINT.test(license.fingerprint)) return "license.fingerprint: 64 hex digits are needed";
  if (license.server !== undefined && (typeof license.server !== "string" || !/^https?:\/\//.test(license.server))) return "license.server: an http(s) address is needed";
  const known = new Set(["id", "customer", "plant", "device_limit", "features", "issued_at", "expires_at", "fingerprint", "server"]);
  const unknown = Object.keys(license).filter((key) => !known.has(key));
  if (unknown.length > 0) return `license: unknown fields ${unknown.join(", ")}`;
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
