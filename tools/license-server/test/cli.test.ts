import { createPublicKey } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyCheckAnswer, verifyLicenseFile, type CheckRequest } from "@mcs/core";
import { readMachineFingerprint } from "../../../packages/platform/src/license/machine-fingerprint.ts";
import { VendorLicenseStore } from "../src/store.ts";
import { FINGERPRINT_A, REPO_ROOT, runCli, startServeCli, tempDir } from "./helper.ts";

// Issue 12, part 5: the vendor's CLI, run as the vendor runs it (a process of its own, from the repository root).
// Each run starts tsx, and a new store starts PostgreSQL in WASM: slow on two busy cores, hence the long timeouts.
const SLOW = 180_000;
let dir: ReturnType<typeof tempDir>;

beforeAll(() => {
  dir = tempDir("cli");
});

afterAll(() => {
  dir?.remove();
});

function inPlantDays(days: number): string {
  return new Date(Date.now() + 8 * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10);
}

describe("keygen", () => {
  it("writes an Ed25519 pair, the private key readable by its owner only, and refuses to overwrite it", async () => {
    const keys = join(dir.path, "keygen");
    const first = await runCli(["keygen", "--dir", keys]);
    expect(first.code, first.stderr).toBe(0);
    const privatePem = readFileSync(join(keys, "private.pem"), "utf8");
    expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(statSync(join(keys, "private.pem")).mode & 0o777).toBe(0o600);
    const publicKey = createPublicKey(readFileSync(join(keys, "public.pem")));
    expect(publicKey.asymmetricKeyType).toBe("ed25519");

    const second = await runCli(["keygen", "--dir", keys]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/private\.pem exists/);
    expect(readFileSync(join(keys, "private.pem"), "utf8")).toBe(privatePem);
  }, SLOW);

  it("refuses a folder inside the repository: the private key never lives there", async () => {
    const inRepo = join(REPO_ROOT, "tools/license-server/.keys-test");
    const result = await runCli(["keygen", "--dir", inRepo]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--dir: .* inside the repository/);
    expect(existsSync(inRepo)).toBe(false);
  }, SLOW);
});

describe("fingerprint", () => {
  it("prints this machine's fingerprint, 64 hex digits on one line", async () => {
    const result = await runCli(["fingerprint"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(result.stdout.trim()).toBe(readMachineFingerprint()?.fingerprint);
  }, SLOW);
});

describe("help", () => {
  it("prints the commands without arguments, and refuses an unknown one with exit 2", async () => {
    const [none, unknown] = await Promise.all([runCli([]), runCli(["frobnicate"])]);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/keygen --dir DIR/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
  }, SLOW);
});

describe("issue", () => {
  const keys = () => join(dir.path, "issue-keys");
  const base = (out: string) => ["issue", "--dir", keys(), "--fingerprint", FINGERPRINT_A, "--customer", "Acme Chemicals", "--plant", "Tank farm", "--devices", "120", "--out", out];

  beforeAll(async () => {
    const made = await runCli(["keygen", "--dir", keys()]);
    if (made.code !== 0) throw new Error(made.stderr);
  }, SLOW);

  it("refuses a bad argument with exit 2, naming it, and writes nothing", async () => {
    const out = join(dir.path, "bad.lic");
    const results = await Promise.all([
      runCli([...base(out), "--expires", "2030-13-01"]),
      runCli([...base(out), "--expires", "2030-02-30"]),
      runCli([...base(out), "--expires", "2020-01-01"]),
      runCli([...base(out).filter((arg) => arg !== "--devices" && arg !== "120"), "--devices", "lots", "--expires", "2030-01-01"]),
      runCli([...base(out), "--expires", "2030-01-01", "--features", "alarms,teleport"]),
      runCli([...base(out), "--expires", "2030-01-01", "--server", "https://licenses.example"]),
    ]);
    const named = ["--expires", "--expires", "--expires", "--devices", "--features", "--server"];
    results.forEach((result, index) => {
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(`license: ${named[index]}: `);
    });
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(keys(), "store"))).toBe(false);
  }, SLOW);

  it("writes a license file that verifies for that machine, and records it in DIR/store", async () => {
    const out = join(dir.path, "acme.lic");
    const expires = inPlantDays(365);
    const result = await runCli([...base(out), "--expires", expires, "--features", "alarms,dashboard", "--server", "https://licenses.example/api/check"]);
    expect(result.code, result.stderr).toBe(0);

    const text = readFileSync(out, "utf8");
    const publicKey = createPublicKey(readFileSync(join(keys(), "public.pem")));
    const verdict = verifyLicenseFile(text, { publicKey, fingerprint: FINGERPRINT_A, now: Date.now() });
    if (!verdict.ok) throw new Error(verdict.reason);
    expect(verdict.license).toEqual({
      id: expect.stringMatching(/^LIC-\d{8}-[0-9a-f]{8}$/), customer: "Acme Chemicals", plant: "Tank farm", device_limit: 120,
      features: ["alarms", "dashboard"], issued_at: inPlantDays(0), expires_at: expires, fingerprint: FINGERPRINT_A, server: "https://licenses.example/api/check",
    });
    expect(verifyLicenseFile(text, { publicKey, fingerprint: "b".repeat(64), now: Date.now() })).toMatchObject({ ok: false, failure: "machine" });

    const store = await VendorLicenseStore.open(join(keys(), "store"));
    try {
      expect(await store.licenseFile(verdict.license.id)).toBe(text);
    } finally {
      await store.close();
    }
    expect(existsSync(join(keys(), "store", "lock"))).toBe(false);

    const again = await runCli([...base(out), "--expires", expires]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/--out: .* exists/);
  }, SLOW);
});

describe("serve, with issue and revoke beside it", () => {
  const keys = () => join(dir.path, "serve-keys");
  let server: Awaited<ReturnType<typeof startServeCli>> | undefined;

  afterAll(async () => {
    await server?.stop();
  });

  it("answers checks for the licenses issued and revoked while it runs (the CLI goes through it)", async () => {
    expect((await runCli(["keygen", "--dir", keys()])).code).toBe(0);
    server = await startServeCli(["--dir", keys(), "--port", "0"]);
    const token = readFileSync(join(keys(), "store", "admin-token"), "utf8").trim();
    expect(statSync(join(keys(), "store", "admin-token")).mode & 0o777).toBe(0o600);
    expect(server.stdout()).toContain(token);

    const out = join(dir.path, "served.lic");
    const issued = await runCli(["issue", "--dir", keys(), "--fingerprint", FINGERPRINT_A, "--customer", "Beta Gas", "--plant", "North", "--devices", "10", "--expires", inPlantDays(30), "--server", `${server.url}/api/check`, "--id", "LIC-SERVED", "--out", out]);
    expect(issued.code, issued.stderr).toBe(0);
    expect(issued.stdout).toContain("through the server");

    const publicKey = createPublicKey(readFileSync(join(keys(), "public.pem")));
    const ask = async (nonce: string) => {
      const sent: CheckRequest = { license_id: "LIC-SERVED", fingerprint: FINGERPRINT_A, nonce };
      const response = await fetch(`${server!.url}/api/check`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(sent) });
      const verdict = verifyCheckAnswer(await response.json(), { publicKey, request: sent, now: Date.now() });
      if (!verdict.ok) throw new Error(verdict.reason);
      return verdict.answer.status;
    };
    expect(await ask("first-check-0000001")).toBe("valid");

    const revoked = await runCli(["revoke", "--dir", keys(), "--id", "LIC-SERVED", "--reason", "contract ended"]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(await ask("second-check-000002")).toBe("revoked");

    const listed = await fetch(`${server.url}/api/licenses`, { headers: { authorization: `Bearer ${token}` } });
    expect((await listed.json()).licenses).toEqual([expect.objectContaining({ id: "LIC-SERVED", state: "revoked", revoke_reason: "contract ended", last_check_status: "revoked" })]);

    expect(await server.stop()).toBe(0);
    expect(existsSync(join(keys(), "store", "lock"))).toBe(false);
    // Stopped: the CLI opens the store itself.
    const twice = await runCli(["revoke", "--dir", keys(), "--id", "LIC-SERVED"]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/already revoked/);
  }, SLOW * 2);
});

