import { generateKeyPairSync, createPublicKey } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { licenseEndsAt, verifyCheckAnswer, type CheckRequest } from "@mcs/core";
import { buildLicenseServer } from "../src/app.ts";
import { VendorLicenseStore } from "../src/store.ts";
import { FINGERPRINT_A, FINGERPRINT_B, issued, tempDir, testLicense } from "./helper.ts";

// Issue 12, part 5: the vendor's license server answers the guard's checks, signed.
const { privateKey } = generateKeyPairSync("ed25519");
const publicKey = createPublicKey(privateKey);
const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
const START = Date.parse("2026-03-01T08:00:00Z");

let clock = START;
let dir: ReturnType<typeof tempDir>;
let store: VendorLicenseStore;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  dir = tempDir("server");
  store = await VendorLicenseStore.open(`${dir.path}/store`);
  app = await buildLicenseServer({ store, privateKey, adminToken: ADMIN_TOKEN, now: () => clock });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
});

afterAll(async () => {
  await app?.close();
  await store?.close();
  dir?.remove();
});

let nonces = 0;
function request(license_id: string, fingerprint = FINGERPRINT_A): CheckRequest {
  nonces += 1;
  return { license_id, fingerprint, nonce: `nonce-${String(nonces).padStart(12, "0")}` };
}

async function check(body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}/api/check`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

async function admin(method: "GET" | "POST", path: string, body?: unknown, token: string | null = ADMIN_TOKEN): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

/** The answer as the guard takes it: genuine, for this request, in time. */
function verified(body: unknown, sent: CheckRequest) {
  const verdict = verifyCheckAnswer(body, { publicKey, request: sent, now: clock });
  if (!verdict.ok) throw new Error(verdict.reason);
  return verdict.answer;
}

describe("POST /api/check", () => {
  beforeAll(async () => {
    const { license, file } = issued(testLicense({ id: "LIC-VALID" }), privateKey);
    await store.addLicense(license, file, START);
  });

  it("answers valid for a license of this machine, echoing the nonce, signed so that the guard accepts it", async () => {
    const sent = request("LIC-VALID");
    const { status, body } = await check(sent);
    expect(status).toBe(200);
    const answer = verified(body, sent);
    expect(answer).toEqual({ ...sent, status: "valid", time: new Date(clock).toISOString() });
  });

  it("records every check with its answer", async () => {
    clock = START + 60_000;
    const sent = request("LIC-VALID");
    await check(sent);
    const [latest] = await store.checksOf("LIC-VALID");
    expect(latest).toEqual({ ...sent, status: "valid", at: new Date(clock).toISOString() });
  });

  it("answers unknown for a license it never issued", async () => {
    const sent = request("LIC-NEVER-ISSUED");
    const { status, body } = await check(sent);
    expect(status).toBe(200);
    expect(verified(body, sent).status).toBe("unknown");
    expect((await store.checksOf("LIC-NEVER-ISSUED"))[0]?.status).toBe("unknown");
  });

  it("answers unknown for a license asked for from another machine (a copied file)", async () => {
    const sent = request("LIC-VALID", FINGERPRINT_B);
    expect(verified((await check(sent)).body, sent).status).toBe("unknown");
  });

  it("answers valid through the license's last day (plant time) and revoked after it", async () => {
    const { license, file } = issued(testLicense({ id: "LIC-ENDS", expires_at: "2026-06-30" }), privateKey);
    await store.addLicense(license, file, START);
    const end = licenseEndsAt(license);
    clock = end - 1;
    let sent = request("LIC-ENDS");
    expect(verified((await check(sent)).body, sent).status).toBe("valid");
    clock = end;
    sent = request("LIC-ENDS");
    expect(verified((await check(sent)).body, sent).status).toBe("revoked");
    clock = START;
  });

  it("answers revoked once the vendor revoked the license, and says so to no other machine", async () => {
    const { license, file } = issued(testLicense({ id: "LIC-REVOKE", customer: "Beta Gas" }), privateKey);
    await store.addLicense(license, file, START);
    const before = request("LIC-REVOKE");
    expect(verified((await check(before)).body, before).status).toBe("valid");

    const revoked = await admin("POST", "/api/licenses/LIC-REVOKE/revoke", { reason: "contract ended" });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: "LIC-REVOKE", state: "revoked", revoke_reason: "contract ended", revoked_at: new Date(clock).toISOString() });

    const after = request("LIC-REVOKE");
    expect(verified((await check(after)).body, after).status).toBe("revoked");
    const elsewhere = request("LIC-REVOKE", FINGERPRINT_B);
    expect(verified((await check(elsewhere)).body, elsewhere).status).toBe("unknown");
  });

  describe("refuses a malformed request with 400, naming the field", () => {
    const good = { license_id: "LIC-VALID", fingerprint: FINGERPRINT_A, nonce: "n".repeat(16) };
    const cases: Array<[string, unknown, string]> = [
      ["a nonce shorter than 16", { ...good, nonce: "n".repeat(15) }, "nonce"],
      ["a nonce longer than 128", { ...good, nonce: "n".repeat(129) }, "nonce"],
      ["a nonce with other characters", { ...good, nonce: "nonce with spaces!" }, "nonce"],
      ["a nonce that is a number", { ...good, nonce: 12345678901234567890 }, "nonce"],
      ["no nonce", { license_id: good.license_id, fingerprint: good.fingerprint }, "nonce"],
      ["a fingerprint of 63 digits", { ...good, fingerprint: "a".repeat(63) }, "fingerprint"],
      ["a fingerprint in capitals", { ...good, fingerprint: "A".repeat(64) }, "fingerprint"],
      ["a fingerprint that is not hex", { ...good, fingerprint: "g".repeat(64) }, "fingerprint"],
      ["no license id", { fingerprint: good.fingerprint, nonce: good.nonce }, "license_id"],
      ["an empty license id", { ...good, license_id: "" }, "license_id"],
      ["a list instead of an object", [good], "body"],
    ];
    for (const [what, body, field] of cases) {
      it(`${what}: ${field}`, async () => {
        const { status, body: answer } = await check(body);
        expect(status).toBe(400);
        expect(answer.error.code).toBe("MCS_ERR_VALIDATION");
        expect(answer.error.message).toMatch(new RegExp(`^${field}: `));
      });
    }

    it("a body that is not JSON", async () => {
      const response = await fetch(`${base}/api/check`, { method: "POST", headers: { "content-type": "application/json" }, body: "{nonce" });
      expect(response.status).toBe(400);
      expect((await response.json()).error.code).toBeTypeOf("string");
    });

    it("records nothing for a refused request", async () => {
      await check({ ...good, license_id: "LIC-REFUSED", nonce: "short" });
      expect(await store.checksOf("LIC-REFUSED")).toEqual([]);
    });
  });
});

describe("admin routes", () => {
  it("need the admin token: 401 without it, or with another", async () => {
    for (const [method, path, body] of [["GET", "/api/customers"], ["GET", "/api/licenses"], ["GET", "/api/licenses/LIC-VALID"], ["POST", "/api/licenses/LIC-VALID/revoke", {}], ["POST", "/api/licenses", { file: "x" }]] as const) {
      for (const token of [null, "wrong-token"]) {
        const answer = await admin(method, path, body, token);
        expect(answer.status, `${method} ${path} with ${token ?? "no token"}`).toBe(401);
        expect(answer.body.error.code).toBe("MCS_ERR_UNAUTHENTICATED");
      }
    }
    expect((await admin("GET", "/api/licenses/LIC-VALID")).body.license.state).toBe("active");
  });

  it("GET /api/licenses lists the licenses with the time and answer of their last check", async () => {
    const { license, file } = issued(testLicense({ id: "LIC-LIST", customer: "Gamma Fine Chem" }), privateKey);
    await store.addLicense(license, file, START);
    expect((await admin("GET", "/api/licenses")).body.licenses.find((l: { id: string }) => l.id === "LIC-LIST")).toMatchObject({ last_check_at: null, last_check_status: null });
    clock = START + 3_600_000;
    await check(request("LIC-LIST"));
    const { status, body } = await admin("GET", "/api/licenses");
    expect(status).toBe(200);
    expect(body.licenses.find((l: { id: string }) => l.id === "LIC-LIST")).toEqual({
      ...license, server: license.server, recorded_at: new Date(START).toISOString(), revoked_at: null, revoke_reason: null,
      last_check_at: new Date(clock).toISOString(), last_check_status: "valid", state: "active",
    });
    clock = START;
  });

  it("GET /api/customers gives each customer's licenses and last check", async () => {
    for (const license of [testLicense({ id: "LIC-DELTA-1", customer: "Delta" }), testLicense({ id: "LIC-DELTA-2", customer: "Delta", plant: "North" })]) {
      await store.addLicense(license, issued(license, privateKey).file, START);
    }
    clock = START + 7_200_000;
    await check(request("LIC-DELTA-2"));
    const { status, body } = await admin("GET", "/api/customers");
    expect(status).toBe(200);
    expect(body.customers.find((c: { name: string }) => c.name === "Delta")).toEqual({
      name: "Delta", created_at: new Date(START).toISOString(), licenses: 2, revoked: 0, last_check_at: new Date(clock).toISOString(),
    });
    clock = START;
  });

  it("GET /api/licenses/:id gives the file as issued, to send it again", async () => {
    const { file } = issued(testLicense({ id: "LIC-VALID" }), privateKey);
    const { status, body } = await admin("GET", "/api/licenses/LIC-VALID");
    expect(status).toBe(200);
    expect(body.file).toBe(file);
    expect((await admin("GET", "/api/licenses/LIC-NONE")).status).toBe(404);
  });

  it("POST /api/licenses records a file signed with this key, once; another under the same id is a conflict", async () => {
    const { file } = issued(testLicense({ id: "LIC-REGISTER" }), privateKey);
    expect((await admin("POST", "/api/licenses", { file })).status).toBe(201);
    expect((await admin("POST", "/api/licenses", { file })).status).toBe(200);
    const other = issued(testLicense({ id: "LIC-REGISTER", device_limit: 5 }), privateKey).file;
    const conflicting = await admin("POST", "/api/licenses", { file: other });
    expect(conflicting.status).toBe(409);
    expect(conflicting.body.error.code).toBe("MCS_ERR_CONFLICT");
    expect((await store.findLicense("LIC-REGISTER", clock))?.device_limit).toBe(100);
  });

  it("POST /api/licenses refuses a file signed with another key, or edited", async () => {
    const foreign = issued(testLicense({ id: "LIC-FOREIGN" }), generateKeyPairSync("ed25519").privateKey).file;
    const refused = await admin("POST", "/api/licenses", { file: foreign });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/^file: signature/);
    const edited = issued(testLicense({ id: "LIC-EDITED" }), privateKey).file.replace('"device_limit": 100', '"device_limit": 900');
    expect((await admin("POST", "/api/licenses", { file: edited })).status).toBe(400);
    expect(await store.findLicense("LIC-FOREIGN", clock)).toBeNull();
    expect(await store.findLicense("LIC-EDITED", clock)).toBeNull();
  });

  it("POST /api/licenses/:id/revoke: 404 for no such license, 409 when revoked already, the reason checked", async () => {
    expect((await admin("POST", "/api/licenses/LIC-NONE/revoke", {})).status).toBe(404);
    const { license, file } = issued(testLicense({ id: "LIC-TWICE" }), privateKey);
    await store.addLicense(license, file, START);
    const tooLong = await admin("POST", "/api/licenses/LIC-TWICE/revoke", { reason: "x".repeat(501) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toMatch(/^reason: /);
    const first = await admin("POST", "/api/licenses/LIC-TWICE/revoke", {});
    expect(first.body).toMatchObject({ state: "revoked", revoke_reason: null });
    const again = await admin("POST", "/api/licenses/LIC-TWICE/revoke", { reason: "again" });
    expect(again.status).toBe(409);
    expect((await store.findLicense("LIC-TWICE", clock))?.revoke_reason).toBeNull();
  });
});

describe("GET /api/health", () => {
  it("answers ok with the server's time, without a token", async () => {
    const response = await fetch(`${base}/api/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", time: new Date(clock).toISOString() });
  });

  it("answers an unknown route with the error shape", async () => {
    const response = await fetch(`${base}/api/nothing`);
    expect(response.status).toBe(404);
    expect((await response.json()).error.code).toBe("MCS_ERR_NOT_FOUND");
  });
});
