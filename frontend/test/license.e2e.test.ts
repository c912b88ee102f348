import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { encodeLicenseFile, signCheckAnswer, type CheckRequest } from "@mcs/core";
import { loadConfig } from "@mcs/platform";
import type { LicenseView } from "@mcs/protocol";
import { startServer, type Server } from "../../server/src/server.ts";
import { launchBrowser, screenshot, requireBuiltSite } from "../../test-support/browser.ts";
import { beforeAllOrFail } from "../../test-support/suite-setup.ts";
import { plantDateTime } from "../src/lib/plant-time.ts";

const ADMIN_PASSWORD = "License-admin-7001";
const OPERATOR_PASSWORD = "Watch-gas-tanks-7002";
const SN = "LIC-CH4-01";
/** CH4 in %LEL: level 1 above 25, level 2 above 50. */
const LIMITS = { high_limit: 25, high_limit_2: 50 };
const DAY_MS = 86_400_000;

/** What the vendor's license server answers a check: nothing (unreachable), or its signed word. */
type VendorMode = "down" | "valid" | "revoked";

/** YYYY-MM-DD in plant time (UTC+8), `days` from today: the calendar a license's dates are read in. */
function plantDay(days = 0): string {
  return new Date(Date.now() + days * DAY_MS + 8 * 3_600_000).toISOString().slice(0, 10);
}

/**
 * Issue 12, part 6: the license in the admin site and on the big screen, in headless
 * Chromium in Chinese, on the whole product in one process (embedded mode: the worker
 * judges gas alarms, the backend guards the API) with a vendor key of the test's own and a
 * vendor license server it controls. The steps build on each other: trial, its last days,
 * refused files, a license in grace, confirmed, revoked (locked), and unlocked again from
 * the lock modal.
 */
describe("the license pages (issue 12): state, upload, grace banner and the lock modal, in a real browser", () => {
  let server: Server;
  let dir: string;
  let base: string;
  let browser: Browser;
  let vendor: HttpServer;
  let vendorUrl: string;
  let vendorMode: VendorMode = "down";
  let vendorKey: KeyObject;
  let adminToken: string;
  let kioskToken: string;
  let mqttPassword: string;
  let device: mqtt.MqttClient | undefined;
  /** The PUBACK of the reading published while locked. */
  let heldReading: Promise<unknown> | undefined;
  let admin: Page;
  let operator: Page;
  let screen: Page;
  /** This machine's fingerprint, as the license page shows it (the vendor issues for it). */
  let fingerprint: string;
  let seq = 0;
  const contexts: BrowserContext[] = [];
  /** Script errors and refused resources (CSP); refused API calls (403 while locked) are the point. */
  const pageErrors: string[] = [];

  beforeAllOrFail(async () => {
    requireBuiltSite();
    dir = mkdtempSync(join(tmpdir(), "mcs-license-e2e-"));
    const keys = generateKeyPairSync("ed25519");
    vendorKey = keys.privateKey;
    const publicKeyFile = join(dir, "vendor-public.pem");
    writeFileSync(publicKeyFile, keys.publicKey.export({ type: "spki", format: "pem" }));

    // The vendor's check address: signs the guard's request with the vendor's word, or hangs up.
    vendor = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      request.on("end", () => {
        if (vendorMode === "down") {
          request.socket.destroy();
          return;
        }
        const asked = JSON.parse(body) as CheckRequest;
        const answer = signCheckAnswer({ ...asked, status: vendorMode, time: new Date().toISOString() }, vendorKey);
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => vendor.listen(0, "127.0.0.1", resolve));
    vendorUrl = `http://127.0.0.1:${(vendor.address() as AddressInfo).port}/api/check`;

    [server, browser] = await Promise.all([
      startServer(loadConfig({
        MCS_DATA_DIR: dir, HTTP_PORT: "0", HTTP_HOST: "127.0.0.1", MQTT_TLS_PORT: "0", HTTPS_PORT: "0",
        MCS_ADMIN_PASSWORD: ADMIN_PASSWORD, MCS_DEMO_DEVICES: "0", MCS_LICENSE_PUBKEY: publicKeyFile,
      })),
      launchBrowser(),
    ]);
    base = `http://127.0.0.1:${server.httpPort}`;
    const login = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }) });
    adminToken = ((await login.json()) as { token: string }).token;
  });

  afterAll(async () => {
    await device?.endAsync(true);
    await browser?.close();
    await server?.stop();
    if (vendor) await new Promise<void>((resolve) => vendor.close(() => resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The API as an admin script calls it (Bearer: no CSRF token needed). */
  async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
  }

  async function newPage(viewport = { width: 1366, height: 768 }): Promise<Page> {
    const context = await browser.newContext({ viewport, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) pageErrors.push(message.text());
    });
    return page;
  }

  async function logIn(page: Page, username: string, password: string): Promise<void> {
    await page.goto(`${base}/login`);
    await page.locator('input[name="username"]').fill(username);
    await page.locator('input[name="password"]').fill(password);
    await page.locator('[data-test="login-submit"]').click();
    // Everyone lands on the plant overview.
    await page.waitForURL(`${base}/`);
  }

  /** A license file as the vendor issues it (or as someone else signs it), for this machine. */
  function licenseFile(key = vendorKey): string {
    return encodeLicenseFile({
      id: "LIC-E2E-1", customer: "宁波某石化有限公司", plant: "罐区一期", device_limit: 10, features: ["alarms", "dashboard"],
      issued_at: plantDay(), expires_at: plantDay(365), fingerprint, server: vendorUrl,
    }, key);
  }

  /** Not the vendor's key: what a forged (or another vendor's) file is signed with. */
  const otherKey = () => generateKeyPairSync("ed25519").privateKey;

  /** Chooses a file in a license upload (the hidden file input behind the upload button). */
  async function upload(scope: Page | Locator, text: string, name = "mcs-license.lic"): Promise<void> {
    await scope.locator('[data-test="license-upload"]').setInputFiles({ name, mimeType: "text/plain", buffer: Buffer.from(text, "utf8") });
  }

  const state = (page: Page) => page.locator('[data-test="license-state"]');
  const modal = (page: Page) => page.locator('[data-test="license-modal"]');

  it("sets the plant up through the API: a CH4 detector, an operator and a wall screen's kiosk token", async () => {
    const created = await api<{ mqtt_password: string }>("POST", "/api/devices", {
      sn: SN, name: "罐区 T-101 甲烷", gas: "CH4", unit: "%LEL", k: 1, b: 0, ...LIMITS,
      deadband: 1, on_delay_samples: 1, off_delay_samples: 1, latching: false, report_interval_s: 600,
    });
    expect(created.status).toBe(201);
    mqttPassword = created.body.mqtt_password;
    expect((await api("POST", "/api/users", { username: "operator", password: OPERATOR_PASSWORD, role: "operator" })).status).toBe(201);
    const kiosk = await api<{ token: string }>("POST", "/api/kiosk-tokens", { name: "中控室大屏" });
    expect(kiosk.status).toBe(201);
    kioskToken = kiosk.body.token;
  });

  it("shows a fresh installation's trial on the license page: 试用 in blue, 1 of 50 devices, this machine's fingerprint to copy", async () => {
    admin = await newPage();
    await admin.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    await logIn(admin, "admin", ADMIN_PASSWORD);
    await admin.locator(".el-menu").getByText("授权管理").click();
    await admin.waitForURL(`${base}/license`);

    await state(admin).and(admin.locator('[data-state="trial"]')).getByText("试用", { exact: true }).waitFor();
    expect(await state(admin).evaluate((element) => element.classList.contains("el-tag--primary"))).toBe(true);
    await admin.locator('[data-test="license-reason"]').getByText(/trial: 60 days left/).waitFor();
    await admin.locator('[data-test="license-devices"]').getByText("已用 1 / 50 台").waitFor();
    expect(await admin.locator('[data-test="license-banner"]').count()).toBe(0); // 60 days left: nothing to warn of

    const shown = await admin.locator('[data-test="license-fingerprint"]').inputValue();
    expect(shown).toMatch(/^[0-9a-f]{64}$/);
    expect(shown).toBe((await api<LicenseView>("GET", "/api/license")).body.fingerprint);
    fingerprint = shown;
    await admin.locator('[data-test="license-fingerprint-copy"]').click();
    await admin.locator(".el-message--success").getByText("已复制").waitFor();
    expect(await admin.evaluate(() => navigator.clipboard.readText())).toBe(fingerprint);
    await admin.locator('[data-test="license-check"]').waitFor(); // an admin's buttons
    await screenshot(admin, "license-trial");

    // The settings page: a short summary, and the way to the license page.
    await admin.locator(".el-menu").getByText("系统设置").click();
    await admin.locator('[data-test="settings-license-state"]').getByText("试用").waitFor();
    await admin.locator('[data-test="license-message"]').getByText(/trial: 60 days left/).waitFor();
    await admin.locator('[data-test="settings-license-link"]').click();
    await admin.waitForURL(`${base}/license`);
  });

  it("warns on every admin page in the trial's last 7 days, saying when it ends", async () => {
    // The installation started 55 days ago: 5 days of trial left.
    await server.ports.db.query("UPDATE license_guard SET first_start_at = $1 WHERE id = 1", [new Date(Date.now() - 55 * DAY_MS).toISOString()]);
    await server.app.license.refresh();
    await admin.reload();
    const banner = admin.locator('[data-test="license-banner"][data-kind="trialEnding"]');
    await banner.getByText(/试用将于 .+ 结束（剩余 5 天）/).waitFor();
    await banner.getByText("400-000-0000", { exact: false }).waitFor();
    await admin.locator(".el-menu").getByText("设备管理").click();
    await banner.waitFor(); // above the devices page too
    await admin.locator(".el-menu").getByText("授权管理").click();
  });

  it("refuses a file that is not a license, or one the vendor did not sign, with the server's reason; the trial stays", async () => {
    const card = admin.locator('[data-test="license-install-card"]');
    await upload(card, "this is not a license file");
    await card.locator('[data-test="license-upload-error"]').getByText(/^授权文件未被接受：format: /).waitFor();

    await upload(card, licenseFile(otherKey()));
    await card.locator('[data-test="license-upload-error"]').getByText(/^授权文件未被接受：signature: not signed by the vendor's key/).waitFor();
    await state(admin).and(admin.locator('[data-state="trial"]')).waitFor();
    expect((await api<LicenseView>("GET", "/api/license")).body.state).toBe("trial");
  });

  it("installs a genuine license while the vendor's server is unreachable: grace in yellow, the banner saying until when and what to do", async () => {
    vendorMode = "down";
    await upload(admin.locator('[data-test="license-install-card"]'), licenseFile());
    await admin.locator(".el-message--success").getByText("授权已安装，当前状态：宽限期").waitFor();
    await state(admin).and(admin.locator('[data-state="grace"]')).getByText("宽限期").waitFor();
    expect(await state(admin).evaluate((element) => element.classList.contains("el-tag--warning"))).toBe(true);
    await admin.locator('[data-test="license-check-error"]').getByText(/unreachable/).waitFor();

    const view = (await api<LicenseView>("GET", "/api/license")).body;
    expect(view.grace_until).not.toBeNull();
    const until = plantDateTime(Date.parse(view.grace_until!), "Asia/Shanghai");
    const banner = admin.locator('[data-test="license-banner"][data-kind="grace"]');
    await banner.getByText(`无法连接授权服务器，系统处于宽限期，宽限期至 ${until}`, { exact: false }).waitFor();
    await banner.getByText("请检查网络连接，或联系供应商", { exact: false }).waitFor();
    await admin.locator('[data-test="license-grace-until"]').getByText(until).waitFor();
    await screenshot(admin, "license-grace");
  });

  it("checks now once the vendor's server answers: valid in green, the banner gone, the license's customer, plant, limit and features", async () => {
    vendorMode = "valid";
    await admin.locator('[data-test="license-install-card"] [data-test="license-check"]').click();
    await admin.locator(".el-message--success").getByText("已与授权服务器校验，当前状态：有效").waitFor();
    await state(admin).and(admin.locator('[data-state="valid"]')).getByText("有效").waitFor();
    expect(await state(admin).evaluate((element) => element.classList.contains("el-tag--success"))).toBe(true);
    await admin.locator('[data-test="license-banner"]').waitFor({ state: "detached" });
    const card = admin.locator('[data-test="license-card"]');
    await card.getByText("宁波某石化有限公司").waitFor();
    await card.getByText("罐区一期").waitFor();
    await admin.locator('[data-test="license-devices"]').getByText("已用 1 / 10 台").waitFor();
    expect(await admin.locator('[data-test="license-features"] .el-tag').allTextContents()).toEqual(["报警", "中控大屏"]);
    await admin.locator('[data-test="license-expiry"]').getByText(/剩余 36[56] 天/).waitFor();
    expect(await admin.locator('[data-test="license-check-error"]').count()).toBe(0);
    await screenshot(admin, "license-valid");
  });

  it("locks when the vendor revokes: a modal nobody can close over the admin pages, with the way out and the alarms' safety; a refused request shows no error toast", async () => {
    // The operator works on the devices page (it refreshes itself) when the lock comes.
    operator = await newPage();
    await logIn(operator, "operator", OPERATOR_PASSWORD);
    await operator.locator(".el-menu").getByText("设备管理").click();
    await operator.waitForURL(`${base}/devices`);
    expect(await operator.locator('[data-test="license-check"]').count()).toBe(0);

    vendorMode = "revoked";
    await admin.locator('[data-test="license-install-card"] [data-test="license-check"]').click();
    const locked = modal(admin);
    await locked.waitFor();
    await locked.getByText("系统授权已锁定").waitFor();
    await locked.locator('[data-state="locked"]').getByText("已锁定").waitFor();
    await locked.locator('[data-test="license-modal-reason"]').getByText(/revoked by the vendor/).waitFor();
    await locked.locator('[data-test="license-modal-alarms"]').getByText("气体报警仍在照常判断并发送通知。锁定期间的读数会暂存，不会丢失，安装有效授权后写入系统。").waitFor();
    await locked.getByText("联系供应商：MCS-IoT 技术支持 400-000-0000 · support@mcs-iot.example").waitFor();
    // Neither Escape nor a click beside it closes it.
    await admin.keyboard.press("Escape");
    await admin.mouse.click(10, 10);
    await admin.waitForTimeout(300);
    expect(await locked.isVisible()).toBe(true);
    // An admin unlocks in place: the upload and "check again" are in the modal.
    await locked.locator('[data-test="license-upload-button"]').waitFor();
    await locked.locator('[data-test="license-check"]').getByText("重新校验").waitFor();
    await screenshot(admin, "license-locked-modal");

    // The operator's next request is refused for the license: the modal, no error toast, no way to install.
    const theirs = modal(operator);
    await theirs.waitFor({ timeout: 15_000 });
    await theirs.getByText("请联系管理员", { exact: false }).waitFor();
    expect(await theirs.locator('[data-test="license-upload"]').count()).toBe(0);
    expect(await theirs.locator('[data-test="license-check"]').count()).toBe(0);
    await theirs.locator('[data-test="license-modal-logout"]').waitFor();
    await operator.waitForTimeout(500);
    expect(await operator.locator(".el-message--error").count()).toBe(0);
  });

  it("keeps the big screen's live alarms in view around a compact lock card: a gas alarm raised while locked still arrives", async () => {
    screen = await newPage({ width: 1920, height: 1080 });
    await screen.goto(`${base}/screen?token=${encodeURIComponent(kioskToken)}`);
    await screen.locator('[data-test="connection-state"][data-state="live"]').waitFor();
    const card = modal(screen);
    await card.locator('[data-state="locked"]').getByText("已锁定").waitFor();
    // A kiosk reads the state from /api/health; the reason comes with the API's refusals (its advice left to the card).
    await card.locator('[data-test="license-modal-reason"]').getByText(/^revoked by the vendor \(check of [^)]+\)$/).waitFor();
    await card.getByText("气体报警仍在照常判断并发送通知", { exact: false }).waitFor();
    expect(await card.locator('[data-test="license-upload"]').count()).toBe(0); // a kiosk only looks

    // A level 2 reading over MQTT while locked: the worker judges it from the held stream.
    device = await mqtt.connectAsync(`mqtts://localhost:${server.mqttPort}`, {
      ca: server.ca, username: SN, password: mqttPassword, protocolVersion: 4, reconnectPeriod: 0, clientId: SN,
    });
    // Not stored while locked: the broker holds its PUBACK (the reading stays with the device) until a license is back.
    seq += 1;
    heldReading = device.publishAsync(`mcs/${SN}/up`, JSON.stringify({ ts: Math.floor(Date.now() / 1000), seq, v_raw: 63, temp: 25, humi: 40, bat: 3.9, rssi: -60, err: 0 }), { qos: 1 });
    heldReading.catch(() => {});
    const item = screen.locator(`[data-test="alarm-item"][data-sn="${SN}"]`);
    await item.waitFor({ timeout: 10_000 });
    await item.getByText("2 级").waitFor();

    // The card sits beside the alarm list, not over it, and lets the screen's own controls be used.
    const [cardBox, panelBox] = await Promise.all([card.boundingBox(), screen.locator('[data-test="alarm-panel"]').boundingBox()]);
    expect(cardBox && panelBox).toBeTruthy();
    expect(cardBox!.x + cardBox!.width).toBeLessThanOrEqual(panelBox!.x);
    expect(await item.evaluate((element) => {
      const box = element.getBoundingClientRect();
      return document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2)?.closest('[data-test="alarm-item"]') === element;
    })).toBe(true);
    await screenshot(screen, "screen-license-locked");
  });

  it("says on the login page that the platform is locked, and that an admin logs in to install a license", async () => {
    const visitor = await newPage();
    await visitor.goto(`${base}/login`);
    const notice = visitor.locator('[data-test="login-license-locked"]');
    await notice.getByText("授权状态：已锁定，系统已锁定").waitFor();
    await notice.getByText("气体报警仍在判断并通知", { exact: false }).waitFor();
  });

  it("unlocks from the modal: a forged file is refused there with the reason, then check again with the vendor's word; the modal goes everywhere", async () => {
    const locked = modal(admin);
    await upload(locked, licenseFile(otherKey()));
    await locked.locator('[data-test="license-upload-error"]').getByText(/^授权文件未被接受：signature: /).waitFor();
    expect(await locked.isVisible()).toBe(true);

    vendorMode = "valid";
    await locked.locator('[data-test="license-check"]').click();
    await locked.waitFor({ state: "hidden" });
    await state(admin).and(admin.locator('[data-state="valid"]')).waitFor();
    await admin.locator(".el-message--success").getByText("已与授权服务器校验，当前状态：有效").waitFor();

    // The others look again within 10 s while locked.
    await modal(operator).waitFor({ state: "hidden", timeout: 20_000 });
    await modal(screen).waitFor({ state: "detached", timeout: 20_000 });
    await screen.locator(`[data-test="alarm-item"][data-sn="${SN}"]`).waitFor();
    // Unlocked, the reading held meanwhile is stored: the device gets its PUBACK.
    await Promise.race([heldReading, new Promise((_, reject) => setTimeout(() => reject(new Error("the held reading was not acknowledged after the unlock")), 15_000))]);
    expect(pageErrors).toEqual([]);
  });
});
