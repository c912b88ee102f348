import { randomBytes } from "node:crypto";
import { ALL_FEATURES, type License } from "@mcs/core";

/** A command line the CLI cannot run: the message names the option; exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** What `issue` is given, as typed. */
export interface IssueArguments {
  fingerprint?: string | undefined;
  customer?: string | undefined;
  plant?: string | undefined;
  devices?: string | undefined;
  expires?: string | undefined;
  features?: string | undefined;
  server?: string | undefined;
  id?: string | undefined;
}

const PLANT_OFFSET_MS = 8 * 3_600_000;
const MAX_DEVICES = 1_000_000;
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Today in plant time (UTC+8), the calendar a license's dates are read in. */
export function plantDay(now: number): string {
  return new Date(now + PLANT_OFFSET_MS).toISOString().slice(0, 10);
}

/** `LIC-20250624-3fa2c91b`: the plant day it was issued, and 32 random bits. */
export function newLicenseId(now: number): string {
  return `LIC-${plantDay(now).replaceAll("-", "")}-${randomBytes(4).toString("hex")}`;
}

/** The license `issue` grants, issued today; every problem is refused naming its option. */
export function licenseFromArguments(args: IssueArguments, now: number): License {
  const today = plantDay(now);
  const fingerprint = required(args.fingerprint, "--fingerprint").toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(fingerprint)) throw new UsageError("--fingerprint: 64 hex digits are needed (run `npm run license -- fingerprint` on the customer's server, or read it from its license page)");
  const expires = required(args.expires, "--expires");
  if (!isCalendarDate(expires)) throw new UsageError(`--expires: a date YYYY-MM-DD is needed, got ${JSON.stringify(expires)}`);
  if (expires < today) throw new UsageError(`--expires: ${expires} is in the past (today is ${today}, plant time)`);
  const devices = required(args.devices, "--devices");
  if (!/^\d+$/.test(devices) || Number(devices) < 1 || Number(devices) > MAX_DEVICES) throw new UsageError(`--devices: a whole number from 1 to ${MAX_DEVICES} is needed, got ${JSON.stringify(devices)}`);
  const id = args.id ?? newLicenseId(now);
  if (!ID.test(id)) throw new UsageError("--id: 1–64 characters of A–Z, a–z, 0–9, . _ - are needed, starting with a letter or digit");
  const license: License = {
    id,
    customer: text(args.customer, "--customer"),
    plant: text(args.plant, "--plant"),
    device_limit: Number(devices),
    features: features(args.features),
    issued_at: today,
    expires_at: expires,
    fingerprint,
  };
  if (args.server !== undefined) license.server = server(args.server);
  return license;
}

function required(value: string | undefined, option: string): string {
  if (value === undefined || value.trim() === "") throw new UsageError(`${option}: missing`);
  return value.trim();
}

function text(value: string | undefined, option: string): string {
  const trimmed = required(value, option);
  if (trimmed.length > 200) throw new UsageError(`${option}: at most 200 characters, got ${trimmed.length}`);
  return trimmed;
}

function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  // Date.parse rolls 2025-02-30 over into March: a real day reads back as itself.
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/** None listed: the license enables every feature (as the guard reads it). */
function features(value: string | undefined): string[] {
  if (value === undefined) return [];
  const names = [...new Set(value.split(",").map((name) => name.trim()).filter((name) => name !== ""))];
  const unknown = names.filter((name) => !ALL_FEATURES.includes(name));
  if (unknown.length > 0) throw new UsageError(`--features: unknown ${unknown.join(", ")} (known: ${ALL_FEATURES.join(", ")})`);
  if (names.length === 0) throw new UsageError(`--features: a comma-separated list of ${ALL_FEATURES.join(", ")} is needed (leave it out for all)`);
  return names;
}

/** The guard POSTs its check to this address as written, so it must name the route. */
function server(value: string): string {
  const address = value.trim();
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new UsageError(`--server: not an address: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new UsageError(`--server: an http(s) address is needed, got ${url.protocol}`);
  if (url.pathname === "/") throw new UsageError(`--server: the full check address is needed, such as ${url.origin}/api/check (the guard posts to it as written)`);
  if (url.username || url.password) throw new UsageError("--server: no user or password in the address (it is written into the customer's file)");
  if (address.length > 200) throw new UsageError("--server: at most 200 characters");
  return address;
}
