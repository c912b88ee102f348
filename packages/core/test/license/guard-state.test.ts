import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  encodeLicenseFile, GRACE_MS, licenseStatus, machineFingerprint, signCheckAnswer, verifyCheckAnswer, type CheckRequest, type GuardRecord, type License,
} from "../../src/index.ts";

const vendor = generateKeyPairSync("ed25519");
const HERE = machineFingerprint("3d1219c7c4c5404aaa1f6d2a48adfda4");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.parse("2026-12-01T00:00:00Z");
const LICENSE: License = {
  id: "LIC-1", customer: "Plant Co", plant: "Tank farm", device_limit: 200, features: [], issued_at: "2026-12-01", expires_at: "2027-11-30", fingerprint: HERE, server: "http://vendor/api/check",
};
const FILE = encodeLicenseFile(LICENSE, vendor.privateKey);
const fresh: GuardRecord = { first_start_at: START, file: null, activated_at: null, last_check_at: null, last_check_ok_at: null, last_check_error: null, revoked: false, max_seen_at: START };
const state = (record: GuardRecord, now: number, fingerprint: string | null = HERE) => licenseStatus({ record, publicKey: vendor.publicKey, fingerprint, now });

describe("the license state", () => {
  it("is a 60-day trial with at most 50 devices without a file, then expired", () => {
    expect(state(fresh, START + DAY)).toMatchObject({ state: "trial", device_limit: 50, locked: false, reason: "trial: 59 days left, at most 50 devices" });
    expect(state(fresh, START + 60 * DAY)).toMatchObject({ state: "expired", locked: true, reason: expect.stringContaining("trial ended on 2027-01-30") });
  });

  it("goes trial → valid → grace for 72 h when the server is down → locked → valid when it is back", () => {
    const installed = { ...fresh, file: FILE, activated_at: START + DAY, max_seen_at: START + DAY };
    // Installed, not checked yet: grace counts from the install.
    expect(state(installed, START + DAY)).toMatchObject({ state: "grace", grace_until: START + DAY + GRACE_MS, reason: expect.stringContaining("not yet checked") });
    const checked = { ...installed, last_check_at: START + DAY, last_check_ok_at: START + DAY };
    expect(state(checked, START + 2 * DAY)).toMatchObject({ state: "valid", device_limit: 200, locked: false, license: LICENSE });
    const down = { ...checked, last_check_at: START + 2 * DAY, last_check_error: "the license server is unreachable (ECONNREFUSED)" };
    expect(state(down, START + 2 * DAY)).toMatchObject({ state: "grace", grace_until: START + DAY + GRACE_MS, reason: expect.stringContaining("ECONNREFUSED") });
    expect(state(down, START + DAY + GRACE_MS - 1)).toMatchObject({ state: "grace", locked: false });
    expect(state(down, START + DAY + GRACE_MS)).toMatchObject({ state: "locked", locked: true, reason: expect.stringContaining("no successful check") });
    const back = { ...down, last_check_at: START + 5 * DAY, last_check_ok_at: START + 5 * DAY, last_check_error: null };
    expect(state(back, START + 5 * DAY)).toMatchObject({ state: "valid", locked: false });
  });

  it("counts a clock set back as doubt, never as extra time", () => {
    const checked = { ...fresh, file: FILE, activated_at: START, last_check_at: START, last_check_ok_at: START, max_seen_at: START + 3 * DAY };
    // Someone sets the clock back to the day of the last check: the latest time seen still counts.
    const back = state(checked, START + HOUR);
    expect(back).toMatchObject({ state: "locked", reason: expect.stringContaining("the clock was set back") });
    const recent = { ...checked, max_seen_at: START + DAY };
    expect(state(recent, START + HOUR)).toMatchObject({ state: "grace", grace_until: START + GRACE_MS, reason: expect.stringContaining("set back") });
    // The trial too: it ends by the latest time seen.
    expect(state({ ...fresh, max_seen_at: START + 61 * DAY }, START + DAY)).toMatchObject({ state: "expired" });
  });

  it("gives a tampered file, another machine's file and an expired license each its own state and reason", () => {
    const on = (file: string) => ({ ...fresh, file, activated_at: START, last_check_at: START, last_check_ok_at: START });
    expect(state(on(FILE.replace('"device_limit": 200', '"device_limit": 2000')), START)).toMatchObject({ state: "invalid", locked: true, reason: expect.stringMatching(/^signature: /) });
    expect(state(on(FILE), START, machineFingerprint("0123456789abcdef0123456789abcdef"))).toMatchObject({ state: "invalid", reason: expect.stringMatching(/^machine: /) });
    expect(state(on(FILE), Date.parse("2027-12-01T00:00:00Z"))).toMatchObject({ state: "expired", locked: true, reason: "expired: valid through 2027-11-30" });
  });

  it("locks a license the vendor revoked", () => {
    const revoked = { ...fresh, file: FILE, activated_at: START, last_check_at: START + DAY, last_check_ok_at: START + DAY, revoked: true };
    expect(state(revoked, START + DAY)).toMatchObject({ state: "locked", reason: expect.stringContaining("revoked") });
  });

  it("keeps an offline license (no server) valid until it expires", () => {
    const { server: _none, ...offline } = LICENSE;
    const record = { ...fresh, file: encodeLicenseFile(offline, vendor.privateKey), activated_at: START };
    expect(state(record, START + 100 * DAY)).toMatchObject({ state: "valid", reason: expect.stringContaining("offline license") });
  });
});

describe("the license server's answer", () => {
  const request: CheckRequest = { license_id: "LIC-1", fingerprint: HERE, nonce: "n-0123456789abcdef" };
  const now = START;
  const answer = signCheckAnswer({ ...request, status: "valid", time: new Date(now).toISOString() }, vendor.privateKey);
  const check = (body: unknown, overrides: Partial<CheckRequest> = {}, at = now) => verifyCheckAnswer(body, { publicKey: vendor.publicKey, request: { ...request, ...overrides }, now: at });

  it("is accepted when the vendor signed it for this request", () => {
    expect(check(answer)).toEqual({ ok: true, answer: answer.answer });
  });

  it("is refused when replayed (another nonce), forged, altered, misdirected or far from our clock", () => {
    expect(check(answer, { nonce: "n-another-request-000" })).toMatchObject({ ok: false, reason: expect.stringContaining("replayed") });
    const forged = signCheckAnswer(answer.answer, generateKeyPairSync("ed25519").privateKey);
    expect(check(forged)).toMatchObject({ ok: false, reason: expect.stringContaining("not signed by the vendor") });
    expect(check({ ...answer, answer: { ...answer.answer, status: "valid", time: new Date(now + 1).toISOString() } })).toMatchObject({ ok: false, reason: expect.stringContaining("not signed") });
    expect(check({ ...answer, answer: { ...answer.answer, extra: 1 } })).toMatchObject({ ok: false });
    expect(check(answer, { license_id: "LIC-2" })).toMatchObject({ ok: false, reason: expect.stringContaining("another license") });
    expect(check(answer, {}, now + HOUR)).toMatchObject({ ok: false, reason: expect.stringMatching(/^clock: /) });
    expect(check("not json")).toMatchObject({ ok: false });
    expect(check(null)).toMatchObject({ ok: false });
  });
});
