import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import mqtt from "mqtt";
import type { TLSSocket } from "node:tls";
import type { Browser } from "playwright-core";
import { afterAll, describe, expect, inject, it } from "vitest";
import { WebSocket } from "ws";
import { createPgDb, type Db } from "@mcs/platform";
import { DashboardFrameSchema, type DashboardFrame } from "@mcs/protocol";
import { launchBrowser, requireBuiltSite, screenshot } from "../../test-support/browser.ts";
import { createTestDatabase } from "../../test-support/databases.ts";
import { httpsRequest } from "../../test-support/https.ts";
import { startStack, type Stack } from "../../test-support/stack.ts";
import { beforeAllOrFail } from "../../test-support/suite-setup.ts";

const DEPLOY = fileURLToPath(new URL("..", import.meta.url));
const SITE = fileURLToPath(new URL("../../frontend/dist/", import.meta.url));
const ADMIN_PASSWORD = "Stack-e2e-admin-5521";
const SN = "STK-H2S-01";

// Issue 14's end-to-end proof of the deployment without Docker: the compose stack's
// programs as native processes (test-support/stack.ts), Debian's nginx and Mosquitto on the
// project's own configs, the bundled backend and worker, real PostgreSQL and Redis.
// Everything a user does goes through nginx over HTTPS; the detector talks TLS 1.3 to Mosquitto.
describe("the deployed stack: nginx → backend, detector → Mosquitto → worker", () => {
  let stack: Stack;
  let databaseUrl: string;
  let db: Db;
  let token: string;
  let browser: Browser | undefined;
  const backups = mkdtempSync(join(tmpdir(), "mcs-stack-backups-"));

  const api = async <T>(method: string, path: string, body?: unknown) => {
    const answer = await httpsRequest(`${stack.url}${path}`, {
      ca: stack.ca,
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: answer.status, body: JSON.parse(answer.body.toString() || "null") as T };
  };

  beforeAllOrFail(async () => {
    requireBuiltSite();
    databaseUrl = await createTestDatabase("stack");
    stack = await startStack({ databaseUrl, redisUrl: inject("redisUrl"), adminPassword: ADMIN_PASSWORD });
    db = createPgDb(databaseUrl);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await db?.close();
    await stack?.stop();
    rmSync(backups, { recursive: true, force: true });
  });

  it("sends plain HTTP to HTTPS, and answers its own healthcheck there", async () => {
    const redirect = await httpsRequest(`${stack.httpUrl}/screen?kiosk=1`);
    expect(redirect).toMatchObject({ status: 301, headers: { location: "https://127.0.0.1/screen?kiosk=1" } });
    const health = await httpsRequest(`${stack.httpUrl}/nginx-health`);
    expect({ status: health.status, body: health.body.toString() }).toEqual({ status: 200, body: "ok\n" });
  });

  it("serves the admin site over TLS with HSTS, the page's CSP (frame-ancestors) and no version", async () => {
    const page = await httpsRequest(`${stack.url}/`, { ca: stack.ca });
    expect(page.status).toBe(200);
    expect(page.tls).toMatch(/^TLSv1\.[23]$/);
    expect(page.headers).toMatchObject({
      "strict-transport-security": "max-age=31536000",
      "x-content-type-options": "nosniff",
      "content-security-policy": expect.stringContaining("frame-ancestors"),
      server: "nginx",
    });
    expect(page.body.toString()).toContain('<div id="app">');
  });

  it("sends hashed assets from the build's .gz, cached for a year", async () => {
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(readFileSync(join(SITE, "index.html"), "utf8"))?.[1];
    expect(script).toBeDefined();
    const gzipped = await httpsRequest(`${stack.url}${script}`, { ca: stack.ca, headers: { "accept-encoding": "gzip" } });
    expect(gzipped.headers).toMatchObject({
      "content-encoding": "gzip",
      "cache-control": "public, max-age=31536000, immutable",
      "strict-transport-security": "max-age=31536000",
      "content-type": expect.stringMatching(/javascript/),
    });
    const original = readFileSync(join(SITE, script!));
    expect(gunzipSync(gzipped.body).equals(original)).toBe(true);
    expect(gzipped.body.length).toBeLessThan(original.length / 2);
    const plain = await httpsRequest(`${stack.url}${script}`, { ca: stack.ca });
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body.equals(original)).toBe(true);
    expect((await httpsRequest(`${stack.url}/assets/no-such-file.js`, { ca: stack.ca })).status).toBe(404);
  });

  it("cuts off a body far beyond the API's limit itself, and leaves one just beyond it to the API's own error", async () => {
    const post = (bytes: number) => httpsRequest(`${stack.url}/api/auth/login`, {
      ca: stack.ca, method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: "x".repeat(bytes) }),
    });
    const far = await post(300 * 1024);
    expect(far.status).toBe(413);
    expect(JSON.parse(far.body.toString())).toEqual({ error: { code: "MCS_ERR_TOO_LARGE", message: "request body too large" } });
    const near = await post(100 * 1024);
    expect(near.status).toBe(413);
    const fromApi = JSON.parse(near.body.toString()) as { error: { code: string; message: string } };
    expect(fromApi.error.code).toBe("MCS_ERR_TOO_LARGE");
    expect(fromApi.error.message).not.toBe("request body too large");
  });

  it("takes a detector's readings over MQTT TLS 1.3 at Mosquitto and shows them on /ws/dashboard through nginx", async () => {
    const login = await api<{ token: string }>("POST", "/api/auth/login", { username: "admin", password: ADMIN_PASSWORD });
    expect(login.status).toBe(200);
    token = login.body.token;
    const created = await api<{ mqtt_password: string }>("POST", "/api/devices", { sn: SN, name: "脱硫塔 H2S", gas: "H2S", unit: "ppm" });
    expect(created.status).toBe(201);

    const frames: DashboardFrame[] = [];
    const screen = new WebSocket(`${stack.url.replace("https:", "wss:")}/ws/dashboard`, { ca: stack.ca, headers: { authorization: `Bearer ${token}` } });
    screen.on("message", (data) => frames.push(DashboardFrameSchema.parse(JSON.parse(String(data)))));
    await new Promise((resolve, reject) => screen.once("open", resolve).once("error", reject));

    // The backend writes the device's login into Mosquitto's password file and reloads it.
    const connect = () => mqtt.connectAsync(`mqtts://127.0.0.1:${stack.broker.tlsPort}`, {
      ca: stack.broker.ca, username: SN, password: created.body.mqtt_password, clientId: SN, protocolVersion: 5, reconnectPeriod: 0,
    });
    let device: mqtt.MqttClient | undefined;
    await expect.poll(async () => (device = await connect().catch(() => undefined)) !== undefined, { timeout: 10_000, interval: 200 }).toBe(true);
    try {
      expect((device!.stream as TLSSocket).getProtocol()).toBe("TLSv1.3");
      const now = Math.floor(Date.now() / 1000);
      await device!.publishAsync(`mcs/${SN}/up`, JSON.stringify({ ts: now, seq: 1, v_raw: 3 }), { qos: 1 });
      const realtime = () => frames.flatMap((frame) => (frame.type === "realtime" ? frame.data : [])).filter((item) => item.sn === SN);
      await expect.poll(realtime, { timeout: 15_000 }).toContainEqual(expect.objectContaining({ sn: SN, ppm: 3 }));
      // Above H2S's second level (14 ppm): the alarm reaches the screen too.
      await device!.publishAsync(`mcs/${SN}/up`, JSON.stringify({ ts: now + 1, seq: 2, v_raw: 20 }), { qos: 1 });
      const alarms = () => frames.flatMap((frame) => (frame.type === "alarm" ? [frame.data] : []));
      await expect.poll(alarms, { timeout: 15_000 }).toContainEqual(expect.objectContaining({ sn: SN, ppm: 20 }));
    } finally {
      await device?.endAsync();
      screen.close();
    }
  });

  it("loads the admin site through nginx in Chromium, with no error (a CSP violation would be one)", async () => {
    browser = await launchBrowser();
    // Chromium cannot be told to trust one CA; the certificate itself is checked above.
    const context = await browser.newContext({ ignoreHTTPSErrors: true, locale: "zh-CN" });
    const page = await context.newPage();
    const errors: string[] = [];
    // Before logging in, the page's question "who is logged in?" is answered 401: not an error.
    page.on("console", (message) => { if (message.type() === "error" && !/status of 401/.test(message.text())) errors.push(message.text()); });
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${stack.url}/login`);
    await page.locator('input[name="username"]').fill("admin");
    await page.locator('input[name="password"]').fill(ADMIN_PASSWORD);
    await page.locator('[data-test="login-submit"]').click();
    // The plant overview first, then the device list.
    await page.waitForURL(`${stack.url}/`);
    await page.locator('[data-test="overview-counts"]').waitFor();
    await page.goto(`${stack.url}/devices`);
    await page.locator('[data-test="device-table"] tr', { hasText: SN }).getByText("20 ppm").waitFor();
    await screenshot(page, "stack-admin-through-nginx");
    expect(errors).toEqual([]);
  });

  it("backup.sh then backup.sh --restore on the stack's database brings back every row", async () => {
    // As update.sh does: nothing writes while the database is replaced.
    await Promise.all([stack.backend.stop(), stack.worker.stop()]);
    const tables = (await db.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).map((row) => row.name);
    const snapshot = async () => {
      const out: Record<string, string[]> = {};
      for (const table of tables) out[table] = (await db.query<{ row: string }>(`SELECT t::text AS row FROM "${table}" t ORDER BY 1`)).map((row) => row.row);
      return out;
    };
    const before = await snapshot();
    expect(before.telemetry).toHaveLength(2);
    expect(before.devices).toEqual([expect.stringContaining(SN)]);

    // A copy of deploy/: a restore puts the backup's .env and certificates back beside the script.
    const deploy = join(backups, "deploy");
    cpSync(DEPLOY, deploy, { recursive: true, filter: (path) => !path.startsWith(join(DEPLOY, "test")) });
    writeFileSync(join(deploy, ".env"), "POSTGRES_PASSWORD=stack-secret\n");
    const env = { ...process.env, DATABASE_URL: databaseUrl, MOSQUITTO_PASSWORD_FILE: stack.broker.passwordFile };
    const script = join(deploy, "scripts", "backup.sh");
    await promisify(execFile)("bash", [script, "--dir", join(backups, "made")], { env });
    const [file] = readdirSync(join(backups, "made"));
    await db.query(`DELETE FROM telemetry`);
    expect((await snapshot()).telemetry).toEqual([]);

    await promisify(execFile)("bash", [script, "--restore", join(backups, "made", file!)], { env });
    expect(await snapshot()).toEqual(before);
  });
});
