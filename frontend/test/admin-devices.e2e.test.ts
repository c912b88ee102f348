import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { systemClock, TelemetryStore } from "@mcs/platform";
import type { Device, Role } from "@mcs/protocol";
import { buildTestApp, PASSWORD, type TestApp } from "../../backend/test/helper.ts";
import { launchBrowser, screenshot } from "../../test-support/browser.ts";
import { buildFrontendIfStale } from "../scripts/build-if-stale.ts";

const SN = "E2E-CH4-01";

/**
 * The admin site in headless Chromium against the real backend (services mode: PostgreSQL
 * and Redis), served by the backend itself as in production. The steps build on each
 * other: log in, add a device, open it, switch language; then another user.
 */
describe("admin site: devices, in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let admin: Page;
  /** Script errors and refused resources (CSP); failed API calls are the tests' business. */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await buildFrontendIfStale({ quiet: true });
    [t, browser] = await Promise.all([buildTestApp("services", { clock: systemClock }), launchBrowser()]);
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    const address = t.app.server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    // The smallest screen the plants use; a Chinese browser, as there.
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    const page = await context.newPage();
    // Fail with the locator named, well within the test timeout.
    page.setDefaultTimeout(10_000);
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) pageErrors.push(message.text());
    });
    return { context, page };
  }

  async function logIn(page: Page, role: Role, password = PASSWORD): Promise<void> {
    await page.locator('input[name="username"]').fill(role);
    await page.locator('input[name="password"]').fill(password);
    await page.locator('[data-test="login-submit"]').click();
  }

  it("asks for a login in Chinese, shows a wrong password in the form, then shows the devices", async () => {
    ({ page: admin } = await newPage());
    await admin.goto(`${base}/devices`);
    await admin.waitForURL(/\/login\?redirect=(%2F|\/)devices$/);
    await admin.getByRole("button", { name: "登录" }).waitFor();
    expect(await admin.locator("html").getAttribute("lang")).toBe("zh-CN");
    await screenshot(admin, "login");

    await logIn(admin, "admin", "not the password");
    await admin.locator('[data-test="login-error"]').getByText("用户名或密码错误").waitFor();

    await logIn(admin, "admin");
    await admin.waitForURL(`${base}/devices`);
    await admin.locator(".el-menu").getByText("设备管理").waitFor();
    await admin.locator(".el-menu").getByText("报警中心").waitFor();
    expect(await admin.locator('[data-test="current-role"]').textContent()).toBe("管理员");
  });

  it("adds a device through the dialog, checked with the server's schema first, and shows its password once", async () => {
    await admin.locator('[data-test="add-device"]').click();
    const dialog = admin.locator('[data-test="device-dialog"]');
    await dialog.getByText("校准参数").waitFor();

    // Client-side: DeviceCreateSchema refuses the sn before anything is sent.
    await admin.locator('[data-test="field-sn"]').fill("bad sn!");
    await admin.locator('[data-test="device-save"]').click();
    await dialog.getByText("序列号为 1–32 位字母、数字、_ 或 -").waitFor();

    await admin.locator('[data-test="field-sn"]').fill(SN);
    await admin.locator('[data-test="field-name"]').fill("罐区 1 号甲烷探头");
    await admin.locator('[data-test="apply-preset"]').click(); // CH4, the default gas: 25 / 50 %LEL
    await screenshot(admin, "device-dialog");
    await admin.locator('[data-test="device-save"]').click();

    const secret = admin.locator('[data-test="mqtt-password"]');
    await secret.waitFor();
    const password = await secret.inputValue();
    expect(password.length).toBeGreaterThanOrEqual(16);
    await admin.locator('[data-test="copy-password"]').click();
    await admin.getByText("已复制").waitFor();
    expect(await admin.evaluate(() => navigator.clipboard.readText())).toBe(password);
    await admin.locator('[data-test="secret-done"]').click();
    await secret.waitFor({ state: "detached" });

    await admin.locator(`[data-test="device-link-${SN}"]`).waitFor();
    await admin.locator('[data-test="device-table"]').getByText("罐区 1 号甲烷探头").waitFor();
    const stored = await t.app.inject({ method: "GET", url: `/api/devices/${SN}`, headers: await t.as("admin") });
    expect(stored.json<Device>()).toMatchObject({ sn: SN, gas: "CH4", unit: "%LEL", high_limit: 25, high_limit_2: 50 });
    await screenshot(admin, "device-list");
  });

  it("opens the device: status, recent readings with their chart", async () => {
    // An hour of readings, as the worker would have stored them.
    const now = Math.floor(Date.now() / 1000);
    const readings = Array.from({ length: 60 }, (_, i) => ({ sn: SN, ts: now - 3600 + i * 60, seq: i, ppm: 3 + 2 * Math.sin(i / 6), v_raw: 0.4, temp: 24, humi: 50, bat: 3.9, rssi: -60, err: 0, flags: 0, calib_version: 1 }));
    await new TelemetryStore(t.ports.db).insertBatch(readings);

    await admin.locator(`[data-test="device-link-${SN}"]`).click();
    await admin.waitForURL(`${base}/devices/${SN}`);
    const summary = admin.locator('[data-test="device-summary"]');
    await summary.getByText("罐区 1 号甲烷探头").waitFor();
    await summary.locator('[data-test="status-offline"]').getByText("离线").waitFor();
    await admin.getByRole("tab", { name: "近 1 小时读数" }).waitFor();
    await admin.locator(".trend canvas").first().waitFor();
    await admin.getByRole("tab", { name: "报警记录" }).click();
    await admin.locator('[data-test="alarm-table"]').getByText("没有报警").waitFor();
    await admin.getByRole("tab", { name: "近 1 小时读数" }).click();
    await admin.locator(".trend canvas").first().waitFor();
    await screenshot(admin, "device-page");

    // A calibration change from the device page: only what changed is sent, with its note.
    await admin.locator('[data-test="device-summary"] [data-test="edit-device"]').click();
    const dialog = admin.locator('[data-test="device-dialog"]');
    const field = (label: string) => dialog.locator(".el-form-item", { hasText: label });
    await field("斜率 k").locator("input").fill("1.05");
    await field("校准说明").locator("textarea").fill("零点/量程校准，标气批号 2301，结果 +3 %");
    await admin.locator('[data-test="device-save"]').click();
    await admin.locator('[data-test="device-summary"]').getByText("v2 · k=1.05 b=0").waitFor();

    await admin.locator(".el-menu").getByText("报警中心").click();
    await admin.waitForURL(`${base}/alarms`);
    await admin.locator('[data-test="alarm-table"]').getByText("没有报警").waitFor();
    expect(await admin.locator('[data-test="alarm-export"]').getAttribute("href")).toBe("/api/alarms/export.csv?state=open");
    await admin.goBack();
    await admin.locator('[data-test="device-summary"]').getByText("罐区 1 号甲烷探头").waitFor();
  });

  it("switches to English from the header, and keeps it after a reload", async () => {
    await admin.locator('[data-test="language-switch"]').click();
    await admin.locator('[data-test="language-en"]').click();
    await admin.locator(".el-menu").getByText("Devices").waitFor();
    await admin.getByRole("tab", { name: "Readings, last hour" }).waitFor();
    await admin.reload();
    await admin.locator(".el-menu").getByText("Alarms").waitFor();
    await admin.locator('[data-test="device-summary"]').getByText("Offline").waitFor();
    expect(await admin.locator('[data-test="current-role"]').textContent()).toBe("Administrator");
    expect(await admin.locator("html").getAttribute("lang")).toBe("en");
    await screenshot(admin, "device-page-en");
  });

  it("shows an operator no add, edit, delete or rotate buttons, and the API refuses the operator's change", async () => {
    const { context, page } = await newPage();
    await page.goto(`${base}/login`);
    await logIn(page, "operator");
    await page.waitForURL(`${base}/devices`);
    await page.locator(`[data-test="device-link-${SN}"]`).waitFor();
    expect(await page.locator('[data-test="current-role"]').textContent()).toBe("操作员");
    for (const button of ["add-device", "edit-device", "delete-device"]) expect(await page.locator(`[data-test="${button}"]`).count()).toBe(0);

    await page.locator(`[data-test="device-link-${SN}"]`).click();
    await page.locator('[data-test="device-summary"]').getByText("罐区 1 号甲烷探头").waitFor();
    expect(await page.locator('[data-test="rotate-credentials"]').count()).toBe(0);
    expect(await page.locator('[data-test="edit-device"]').count()).toBe(0);

    // The same request the page would send (session cookie, CSRF header): refused for the role.
    const answer = await page.evaluate(async (sn) => {
      const csrf = document.cookie.split("; ").find((part) => part.startsWith("mcs_csrf="))?.slice("mcs_csrf=".length);
      const response = await fetch(`/api/devices/${sn}`, {
        method: "PATCH",
        credentials: "same-origin",
        headers: { "content-type": "application/json", ...(csrf ? { "x-csrf-token": decodeURIComponent(csrf) } : {}) },
        body: JSON.stringify({ high_limit: 1 }),
      });
      return { status: response.status, body: (await response.json()) as { error: { code: string; message: string } } };
    }, SN);
    expect(answer).toEqual({ status: 403, body: { error: { code: "MCS_ERR_FORBIDDEN", message: expect.stringMatching(/operator/) } } });
    await context.close();
  });

  it("logged no script errors and no refused resources", () => {
    expect(pageErrors).toEqual([]);
  });
});
