import { generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeLicenseFile, licenseEndsAt, machineFingerprint, parseLicenseFile, verifyLicenseFile, type License } from "../../src/index.ts";

const vendor = generateKeyPairSync("ed25519");
const stranger = generateKeyPairSync("ed25519");
const HERE = machineFingerprint("3d1219c7c4c5404aaa1f6d2a48adfda4");
const THERE = machineFingerprint("0123456789abcdef0123456789abcdef");
const LICENSE: License = {
  id: "LIC-20261203-01", customer: "江苏某化工有限公司", plant: "一号罐区", device_limit: 500, features: ["alarms", "archive"],
  issued_at: "2026-12-03", expires_at: "2027-12-31", fingerprint: HERE, server: "https://license.vendor.example/api/check",
};
const NOW = Date.parse("2027-01-10T08:00:00Z");
const file = encodeLicenseFile(LICENSE, vendor.privateKey);
const verify = (text: string, overrides: Partial<{ fingerprint: string | null; now: number }> = {}) =>
  verifyLicenseFile(text, { publicKey: vendor.publicKey, fingerprint: HERE, now: NOW, ...overrides });

describe("license files", () => {
  it("reads back the license it was issued with, for this machine", () => {
    expect(verify(file)).toEqual({ ok: true, license: LICENSE });
    // Readable by a person: one field per line.
    expect(file).toContain('"customer": "江苏某化工有限公司"');
  });

  it("refuses any one changed byte, naming what failed (format or signature)", () => {
    const bytes = Buffer.from(file, "utf8");
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (at, delta) => {
        const changed = Buffer.from(bytes);
        changed[at] = (changed[at]! + delta) % 256;
        const verdict = verify(changed.toString("utf8"));
        expect(verdict.ok).toBe(false);
        if (!verdict.ok) expect(["format", "signature"]).toContain(verdict.failure);
      }),
      { numRuns: 2000 },
    );
  });

  it("tells a changed limit (signature) from an edited layout (format)", () => {
    const moreDevices = file.replace('"device_limit": 500', '"device_limit": 900');
    expect(verify(moreDevices)).toMatchObject({ ok: false, failure: "signature", reason: expect.stringMatching(/^signature: /) });
    const reindented = file.replace('  "signature"', '    "signature"');
    expect(verify(reindented)).toMatchObject({ ok: false, failure: "format", reason: expect.stringContaining("edited") });
    expect(verify(file.trimEnd())).toMatchObject({ ok: true });
  });

  it("refuses a file signed by another key", () => {
    expect(verify(encodeLicenseFile(LICENSE, stranger.privateKey))).toMatchObject({ ok: false, failure: "signature" });
  });

  it("refuses another machine's file, and says which machine it was for", () => {
    const verdict = verify(file, { fingerprint: THERE });
    expect(verdict).toMatchObject({ ok: false, failure: "machine", license: LICENSE });
    if (!verdict.ok) expect(verdict.reason).toContain(HERE.slice(0, 12));
    expect(verify(file, { fingerprint: null })).toMatchObject({ ok: false, failure: "machine", reason: expect.stringContaining("machine id") });
  });

  it("is valid through its last day in plant time (UTC+8), expired after", () => {
    const end = licenseEndsAt(LICENSE);
    expect(new Date(end).toISOString()).toBe("2027-12-31T16:00:00.000Z");
    expect(verify(file, { now: end - 1 })).toMatchObject({ ok: true });
    expect(verify(file, { now: end })).toMatchObject({ ok: false, failure: "expired", reason: "expired: valid through 2027-12-31" });
  });

  it("explains a file that is not a license at all", () => {
    expect(parseLicenseFile("")).toMatchObject({ ok: false, reason: expect.stringContaining("not JSON") });
    expect(parseLicenseFile("[]")).toMatchObject({ ok: false, reason: "format: not a JSON object" });
    expect(parseLicenseFile('{"license":{}}')).toMatchObject({ ok: false, reason: expect.stringContaining("license and signature") });
    expect(parseLicenseFile("x".repeat(70_000))).toMatchObject({ ok: false, reason: expect.stringContaining("larger than") });
    const noLimit = JSON.stringify({ license: { ...LICENSE, device_limit: 0 }, signature: "AAAA" }, null, 2);
    expect(parseLicenseFile(noLimit)).toMatchObject({ ok: false, reason: expect.stringContaining("device_limit") });
    const extra = JSON.stringify({ license: { ...LICENSE, unlimited: true }, signature: "AAAA" }, null, 2);
    expect(parseLicenseFile(extra)).toMatchObject({ ok: false, reason: expect.stringContaining("unknown fields unlimited") });
  });
});
