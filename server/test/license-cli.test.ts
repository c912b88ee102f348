import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@mcs/platform";
import { startServer, type Server } from "../src/server.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const ADMIN_PASSWORD = "Tank-Farm-License-7";
const run = promisify(execFile);
/** `npm run license -- …`, as the vendor types it (the script is `tsx tools/license-server/src/cli.ts`). */
const license = async (...args: string[]) => (await run(process.execPath, ["--import", "tsx", "tools/license-server/src/cli.ts", ...args], { cwd: REPO })).stdout.trim();

// Issue 12, acceptance "with the CLI": keygen, issue for this machine's fingerprint, upload to
// the product started with MCS_LICENSE_PUBKEY (embedded mode, as `npm start`).
describe("a license made with the vendor's CLI, installed on the product", () => {
  let dir: string;
  let server: Server;
  let base: string;
  let token: string;
  const call = async (method: string, path: string, body?: string) => {
    const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { "content-type": "text/plain" }) }, body });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mcs-license-cli-"));
    await license("keygen", "--dir", join(dir, "vendor"));
    server = await startServer(loadConfig({
      MCS_DATA_DIR: join(dir, "data"), HTTP_PORT: "0", HTTP_HOST: "127.0.0.1", MQTT_TLS_PORT: "0", HTTPS_PORT: "0",
      MCS_ADMIN_PASSWORD: ADMIN_PASSWORD, MCS_DEMO_DEVICES: "2", MCS_LICENSE_PUBKEY: join(dir, "vendor", "public.pem"),
    }));
    base = `http://127.0.0.1:${server.httpPort}`;
    const login = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }) });
    token = ((await login.json()) as { token: string }).token;
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("starts as a trial with the demo plant live", async () => {
    expect((await fetch(`${base}/api/health`).then((r) => r.json())) as object).toMatchObject({ license: "trial" });
    await expect.poll(async () => ((await call("GET", "/api/devices")).body.data as { status: string }[]).map((d) => d.status), { timeout: 20_000 }).toEqual(["online", "online"]);
  });

  it("valid for this machine's fingerprint; refused (400, state kept) with one byte changed; invalid for another fingerprint", async () => {
    const fingerprint = await license("fingerprint");
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect((await call("GET", "/api/license")).body.fingerprint).toBe(fingerprint);
    const out = join(dir, "plant.license");
    await license("issue", "--dir", join(dir, "vendor"), "--fingerprint", fingerprint, "--customer", "江苏某化工有限公司", "--plant", "一号罐区", "--devices", "200", "--expires", "2099-12-31", "--out", out);
    const file = readFileSync(out, "utf8");
    expect(await call("POST", "/api/license", file)).toMatchObject({ status: 200, body: { state: "valid", customer: "江苏某化工有限公司", device_limit: 200, devices_used: 2 } });

    const at = file.indexOf("200");
    const changed = `${file.slice(0, at)}900${file.slice(at + 3)}`;
    const refused = await call("POST", "/api/license", changed);
    expect(refused).toMatchObject({ status: 400, body: { error: { code: "MCS_ERR_VALIDATION", message: expect.stringContaining("signature") } } });
    expect((await call("GET", "/api/license")).body).toMatchObject({ state: "valid", device_limit: 200 });

    const elsewhere = join(dir, "other.license");
    await license("issue", "--dir", join(dir, "vendor"), "--fingerprint", "f".repeat(64), "--customer", "别的工厂", "--plant", "二号", "--devices", "10", "--expires", "2099-12-31", "--out", elsewhere);
    expect(await call("POST", "/api/license", readFileSync(elsewhere, "utf8"))).toMatchObject({ status: 200, body: { state: "invalid", locked: true, reason: expect.stringMatching(/^machine: /) } });
    expect(await call("GET", "/api/devices")).toMatchObject({ status: 403, body: { error: { code: "MCS_ERR_LICENSE" } } });
    expect(await call("POST", "/api/license", file)).toMatchObject({ status: 200, body: { state: "valid" } });
  }, 120_000);
});
