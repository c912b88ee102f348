import { afterAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { PresenceStore, systemClock, TelemetryStore } from "@mcs/platform";
import type { Device, Role } from "@mcs/protocol";
import { buildTestApp, PASSWORD, type TestApp } from "../../backend/test/helper.ts";
import { launchBrowser, screenshot, requireBuiltSite } from "../../test-support/browser.ts";
import { beforeAllOrFail } from "../../test-support/suite-setup.ts";
import { plantDateTime } from "../src/lib/plant-time.ts";

const SN = "E2E-CH4-01";
/** Registered with its limits left to the H2S preset (GBZ 2.1: 7 / 14 ppm), level 1 given. */
const PRESET_SN = "E2E-H2S-02";
/** A gas without a preset, registered as monitor only: no alarm limits, by choice. */
const MONITOR_SN = "E2E-MON-03";
const MONITOR_REASON = "试用传感器，报警限值待工艺确认";

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

  beforeAllOrFail(async () => {
    requireBuiltSite();
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
    // The login page sent here by /devices goes back there.
    await admin.waitForURL(`${base}/devices`);
    await admin.locator(".el-menu").getByText("设备管理").waitFor();
    await admin.locator(".el-menu").getByText("报警中心").waitFor();
    expect(await admin.locator('[data-test="current-role"]').textContent()).toBe("管理员");
  });

  it("says the plant is quiet when no alarm is open, but shows an alarm list that failed to load as an error, never as quiet", async () => {
    const { context, page } = await newPage();
    await page.goto(`${base}/login?redirect=/alarms`);
    await logIn(page, "admin");
    await page.waitForURL(`${base}/alarms`);
    const empty = page.locator('[data-test="alarms-empty"]');
    await empty.getByText("没有未关闭的报警").waitFor();
    await empty.getByText("厂区目前平静").waitFor();
    await screenshot(page, "alarms-quiet");
    // Another filter: nothing matches, and the way back is offered.
    await page.locator('[data-test="alarm-state-filter"]').click();
    await page.locator(".el-select-dropdown__item:visible", { hasText: "已关闭" }).click();
    await empty.getByText("没有符合条件的报警").waitFor();
    await empty.locator('[data-test="empty-clear-filters"]').click();
    await empty.getByText("没有未关闭的报警").waitFor();

    // The server fails from now on: the error shows, and nothing claims the plant is quiet.
    await page.route(
      (url) => url.pathname === "/api/alarms",
      (route) => route.fulfill({ status: 503, contentType: "application/json", body: JSON.stringify({ error: { code: "MCS_ERR_UNAVAILABLE", message: "the database did not answer" } }) }),
    );
    await page.reload();
    await page.locator(".el-alert--error").getByText("the database did not answer").waitFor();
    await page.locator('[data-test="alarms-empty"][data-state="failed"]').getByText("列表未能加载").waitFor();
    expect(await page.getByText("没有未关闭的报警").count()).toBe(0);
    expect(await page.getByText("厂区目前平静").count()).toBe(0);
    await screenshot(page, "alarms-load-failed");
    // Once the server answers again, retrying shows the list as it is.
    await page.unrouteAll();
    await page.locator('[data-test="empty-retry"]').click();
    await empty.getByText("没有未关闭的报警").waitFor();
    await context.close();
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
    await admin.locator('[data-test="alarm-table"]').getByText("没有未关闭的报警").waitFor();
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
    await page.waitForURL(`${base}/`);
    await page.goto(`${base}/devices`);
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

  // ── Fail-safe defaults (a fresh admin page in Chinese: the steps above left the first in English) ──

  let page: Page;
  let pageContext: BrowserContext;
  const dialog = () => page.locator('[data-test="device-dialog"]');
  /** A field's own input, wherever the component put the attribute. */
  const input = (name: string) => dialog().locator(`input[data-test="field-${name}"], [data-test="field-${name}"] input`).first();
  const formItem = (label: string) => dialog().locator(".el-form-item", { hasText: label });
  const message = (text: string | RegExp) => page.locator(".el-message", { hasText: text });

  async function chooseGas(gas: string): Promise<void> {
    const box = input("gas");
    await box.click();
    await box.fill(gas);
    await box.press("Enter");
  }

  it("leaves the alarm limits to the gas preset: the empty boxes show its values, and the saved device says what came from it", async () => {
    ({ context: pageContext, page } = await newPage());
    await page.goto(`${base}/login`);
    await logIn(page, "admin");
    await page.waitForURL(`${base}/`);
    await page.goto(`${base}/devices`);
    await page.locator('[data-test="add-device"]').click();
    await input("sn").fill(PRESET_SN);

    // The default methane in %LEL: its preset, named and shown in the empty boxes.
    const hint = dialog().locator('[data-test="preset-hint"]');
    await hint.getByText("留空的报警限值、量程上限和回差取自 CH4 预设（GB/T 50493-2019: 25 / 50 %LEL）").waitFor();
    expect(await input("high_limit").getAttribute("placeholder")).toBe("预设 25");
    expect(await input("low_limit").getAttribute("placeholder")).toBe("留空表示不检查");

    // H2S has its preset in ppm: in %LEL there is none, and the dialog says so.
    await chooseGas("H2S");
    await hint.getByText("H2S 的预设以 ppm 为单位，单位 %LEL 没有预设", { exact: false }).waitFor();
    expect(await input("range_max").getAttribute("placeholder")).toBe("必填（无预设）");
    await dialog().locator('[data-test="field-unit"]').click();
    await page.locator(".el-select-dropdown__item:visible", { hasText: /^ppm$/ }).click();
    await hint.getByText("取自 H2S 预设（GBZ 2.1 MAC 10 mg/m³ → 7 / 14 ppm）", { exact: false }).waitFor();
    expect(await input("high_limit").getAttribute("placeholder")).toBe("预设 7");
    expect(await input("high_limit_2").getAttribute("placeholder")).toBe("预设 14");
    expect(await input("range_max").getAttribute("placeholder")).toBe("预设 100");

    // Level 1 given lower than the preset's; the rest left empty: sent as absent, never as null.
    await input("high_limit").fill("5");
    const sent = page.waitForRequest((request) => request.url().endsWith("/api/devices") && request.method() === "POST");
    await page.locator('[data-test="device-save"]').click();
    const body = (await sent).postDataJSON() as Record<string, unknown>;
    expect(body).toMatchObject({ sn: PRESET_SN, gas: "H2S", unit: "ppm", high_limit: 5, monitor_only: false });
    for (const field of ["high_limit_2", "low_limit", "low_limit_2", "range_max", "deadband", "monitor_reason"]) expect(body, field).not.toHaveProperty(field);

    await message("以下字段取自预设（GBZ 2.1 MAC 10 mg/m³ → 7 / 14 ppm）：高报 2 级 14 ppm、量程上限 100 ppm、回差 2 ppm").waitFor();
    await screenshot(page, "device-preset-applied");
    await page.locator('[data-test="secret-done"]').click();
    const stored = await t.app.inject({ method: "GET", url: `/api/devices/${PRESET_SN}`, headers: await t.as("admin") });
    expect(stored.json<Device>()).toMatchObject({ high_limit: 5, high_limit_2: 14, low_limit: null, range_max: 100, deadband: 2, monitor_only: false });

    // Editing: a limit emptied goes back to the preset (sent as null), and the answer says so.
    await page.locator('[data-test="device-table"] tr', { hasText: PRESET_SN }).locator('[data-test="edit-device"]').click();
    expect(await input("high_limit").inputValue()).toBe("5");
    await input("high_limit").fill("");
    const patched = page.waitForRequest((request) => request.url().endsWith(`/api/devices/${PRESET_SN}`) && request.method() === "PATCH");
    await page.locator('[data-test="device-save"]').click();
    expect((await patched).postDataJSON()).toEqual({ high_limit: null });
    await message("以下字段取自预设（GBZ 2.1 MAC 10 mg/m³ → 7 / 14 ppm）：高报 1 级 7 ppm").waitFor();
    await dialog().waitFor({ state: "hidden" });
  });

  it("refuses a gas without a preset until limits are given, and monitor only without a reason; the device is then not configured, never green", async () => {
    await page.locator('[data-test="add-device"]').click();
    await input("sn").fill(MONITOR_SN);
    await chooseGas("C2H4");
    await dialog().locator('[data-test="preset-hint"]').getByText("没有 C2H4（%LEL）的报警预设", { exact: false }).waitFor();
    expect(await input("high_limit").getAttribute("placeholder")).toBe("必填：高报或低报至少一项");

    // The server's refusal, on the field it names.
    const refused = page.waitForResponse((response) => response.url().endsWith("/api/devices") && response.request().method() === "POST");
    await page.locator('[data-test="device-save"]').click();
    expect((await refused).status()).toBe(400);
    await formItem("高报 1 级").getByText("there is no alarm preset for C2H4 in %LEL; give high_limit or low_limit and range_max (or choose monitor_only with a reason)").waitFor();

    // Monitor only: the limits are switched off, and a reason is required before anything is sent.
    await input("high_limit").fill("20");
    await formItem("仅监测（不设报警限值）").locator(".el-switch").click();
    expect(await input("high_limit").inputValue()).toBe("");
    expect(await input("high_limit").isDisabled()).toBe(true);
    await dialog().locator('[data-test="preset-hint"]').getByText("仅监测：此设备不设报警限值", { exact: false }).waitFor();
    let posts = 0;
    const count = (request: { url(): string; method(): string }) => void (request.url().endsWith("/api/devices") && request.method() === "POST" && posts++);
    page.on("request", count);
    await page.locator('[data-test="device-save"]').click();
    await formItem("仅监测的原因").getByText("请说明为什么此探测器不设报警限值").waitFor();
    expect(posts).toBe(0);
    page.off("request", count);

    await input("monitor-reason").fill(MONITOR_REASON);
    const created = page.waitForResponse((response) => response.url().endsWith("/api/devices") && response.request().method() === "POST");
    await page.locator('[data-test="device-save"]').click();
    expect((await created).status()).toBe(201);
    await page.locator('[data-test="secret-done"]').click();

    // Never heard from: offline (grey). Then online before its first reading (the worker's FAULT not yet raised): still not green.
    const row = page.locator('[data-test="device-table"] tr', { hasText: MONITOR_SN });
    await row.locator('[data-test="not-configured"]').getByText("未配置").waitFor();
    await row.locator('[data-test="status-offline"]').waitFor();
    await new PresenceStore(t.ports.cache).change(MONITOR_SN, null, { online: true, at: Date.now(), reason: "status" });
    const live = await t.app.inject({ method: "GET", url: `/api/devices/${MONITOR_SN}`, headers: await t.as("admin") });
    expect(live.json<Device>()).toMatchObject({ status: "online", monitor_only: true, monitor_reason: MONITOR_REASON, high_limit: null, low_limit: null });
    await page.getByRole("button", { name: "刷新" }).click();
    await row.locator('[data-test="status-fault"]').getByText("故障").waitFor();
    expect(await row.locator('[data-test="status-online"]').count()).toBe(0);
    await row.locator('[data-test="not-configured"]').hover();
    await page.locator(".el-popper", { hasText: `仅监测，未设报警限值：${MONITOR_REASON}` }).waitFor();
    // Devices with limits stay as they are.
    expect(await page.locator('[data-test="device-table"] tr', { hasText: PRESET_SN }).locator('[data-test="not-configured"]').count()).toBe(0);
    await screenshot(page, "device-list-not-configured");

    await row.locator(`[data-test="device-link-${MONITOR_SN}"]`).click();
    const summary = page.locator('[data-test="device-summary"]');
    await summary.locator('[data-test="not-configured"]').getByText("未配置").waitFor();
    await summary.locator('[data-test="status-fault"]').waitFor();
    expect(await summary.locator('[data-test="status-online"]').count()).toBe(0);
    await summary.getByText(`原因：${MONITOR_REASON}`, { exact: false }).waitFor();
    await screenshot(page, "device-page-not-configured");
  });

  it("marks a late alarm 补报 with when it arrived, shows its peak beside its value, and its episodes and late events in the detail", async () => {
    const now = Date.now();
    const at = (offsetS: number) => new Date(now - 20 * 60_000 + offsetS * 1000).toISOString();
    const received = new Date(now - 60_000).toISOString();
    const db = t.ports.db;
    // Found in a backlog the detector sent after its live data: raised at the reading's time, received 19 minutes later.
    const [late] = await db.query<{ id: number }>(
      `INSERT INTO alarms (sn, type, level, state, condition_active, value, peak, peak_at, reason, raised_at, received_at, late, cleared_at)
       VALUES ($1, 'HIGH', 2, 'cleared_unacked', false, 30, 62, $2, 'late readings: value 30 > level 1 limit 25', $3, $4, true, $5) RETURNING id::int AS id`,
      [SN, at(60), at(0), received, at(120)],
    );
    const episode = `INSERT INTO alarm_episodes (alarm_id, sn, type, level, started_at, start_seq, start_value, ended_at, end_seq, peak, peak_at, reason, late, recorded_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`;
    await db.query(episode, [late!.id, SN, "HIGH", 1, at(0), 10, 30, at(40), 14, 38, at(30), "value 30 > level 1 limit 25", true, received]);
    await db.query(episode, [late!.id, SN, "HIGH", 2, at(50), 15, 45, at(120), 22, 62, at(60), "value 45 > level 2 limit 50", true, received]);
    const event = `INSERT INTO alarm_events (alarm_id, kind, level, value, at, actor, note) VALUES ($1, $2, $3, $4, $5, 'worker', $6)`;
    await db.query(event, [late!.id, "raised", 1, 30, at(0), "late readings: value 30 > level 1 limit 25"]);
    await db.query(event, [late!.id, "late_episode", 2, 62, at(50), "late readings: level 2 from 50 s"]);
    await db.query(event, [late!.id, "revised", 1, 38, at(0), "late readings: peak 30 is now 38"]);
    await db.query(event, [late!.id, "condition_cleared", 2, null, at(120), "late readings: back inside"]);
    // A live fault on the same device, still holding: no 补报.
    const [live] = await db.query<{ id: number }>(
      `INSERT INTO alarms (sn, type, level, state, condition_active, value, peak, peak_at, reason, raised_at, received_at, late)
       VALUES ($1, 'FAULT', 1, 'unacked', true, 150, 150, $2, 'over-range: value 150 > range max 100', $2, $2, false) RETURNING id::int AS id`,
      [SN, new Date(now - 120_000).toISOString()],
    );
    await db.query(episode, [live!.id, SN, "FAULT", 1, new Date(now - 120_000).toISOString(), 30, 150, null, null, 150, new Date(now - 120_000).toISOString(), "over-range", false, new Date(now - 120_000).toISOString()]);

    // Times are the plant's wall clock (Asia/Shanghai by default), whatever the browser's zone.
    const local = async (iso: string) => plantDateTime(Date.parse(iso), "Asia/Shanghai");
    await page.locator(".el-menu").getByText("报警中心").click();
    await page.waitForURL(`${base}/alarms`);
    const table = page.locator('[data-test="alarm-table"]');
    const lateRow = table.locator(`tr:has([data-test="alarm-detail-${late!.id}"])`);
    const liveRow = table.locator(`tr:has([data-test="alarm-detail-${live!.id}"])`);
    await lateRow.locator('[data-test="late-tag"]').getByText("补报").waitFor();
    expect(await liveRow.locator('[data-test="late-tag"]').count()).toBe(0);
    await lateRow.getByText(await local(at(0))).waitFor(); // raised: the reading's own time
    expect(await lateRow.locator('[data-test="alarm-value"]').textContent()).toBe("30");
    expect(await lateRow.locator('[data-test="alarm-peak"]').textContent()).toBe("62");
    expect(await lateRow.locator('[data-test="alarm-peak-at"]').textContent()).toBe(`于 ${await local(at(60))}`);
    await lateRow.locator('[data-test="late-tag"]').hover();
    await page.locator(".el-popper", { hasText: `迟到数据产生的报警：读数时间 ${await local(at(0))}，服务器收到于 ${await local(received)}` }).waitFor();
    await screenshot(page, "alarms-late");

    await lateRow.locator(`[data-test="alarm-detail-${late!.id}"]`).click();
    const drawer = page.locator(".el-drawer", { hasText: `报警 #${late!.id}` });
    await drawer.getByText(`补报：此报警来自迟到的数据`, { exact: false }).waitFor();
    await drawer.getByText(`发生于 ${await local(at(0))}，服务器于 ${await local(received)} 才收到`, { exact: false }).waitFor();
    const episodes = drawer.locator('[data-test="alarm-episodes"] .el-table__body tr');
    await expect.poll(() => episodes.count()).toBe(2);
    await episodes.nth(0).getByText("1 级").waitFor();
    expect(await episodes.nth(0).locator('[data-test="episode-peak"]').textContent()).toBe("38");
    await episodes.nth(0).getByText(await local(at(40))).waitFor();
    await episodes.nth(1).getByText("2 级").waitFor();
    expect(await episodes.nth(1).locator('[data-test="episode-peak"]').textContent()).toBe("62");
    expect(await drawer.locator('[data-test="alarm-episodes"] [data-test="late-tag"]').count()).toBe(2);
    const events = drawer.locator('[data-test="alarm-events"]');
    for (const [kind, name] of [["raised", "报警产生"], ["late_episode", "补报时段"], ["revised", "补报修正"], ["condition_cleared", "报警条件消失"]]) {
      expect(await events.locator(`[data-test="event-${kind}"]`).textContent(), kind).toBe(name);
    }
    await screenshot(page, "alarm-detail-late");
    await page.keyboard.press("Escape");
    await drawer.waitFor({ state: "hidden" });

    await liveRow.locator(`[data-test="alarm-detail-${live!.id}"]`).click();
    const liveDrawer = page.locator(".el-drawer", { hasText: `报警 #${live!.id}` });
    await liveDrawer.locator('[data-test="alarm-episodes"] [data-test="episode-holding"]').getByText("仍在持续").waitFor();
    expect(await liveDrawer.locator('[data-test="late-tag"]').count()).toBe(0);
    await page.keyboard.press("Escape");
    await pageContext.close();
  });

  it("shows on the device page why its messages are refused, and a reading kept with a wrong clock with the device's own time (issue 11)", async () => {
    await t.ports.db.query(`INSERT INTO dead_letters (topic, sn, reason, payload) VALUES ($1, $2, 'payload is not JSON', '{"ts":')`, [`mcs/${SN}/up`, SN]);
    const now = Math.floor(Date.now() / 1000);
    await new TelemetryStore(t.ports.db).insertBatch([
      { sn: SN, ts: now - 30, seq: 900, ppm: 60, v_raw: 60, err: 0, flags: 4, calib_version: 1, device_ts: 30 },
    ]);
    const { context, page } = await newPage();
    await page.goto(`${base}/login`);
    await logIn(page, "admin");
    await page.waitForURL(`${base}/`);
    await page.goto(`${base}/devices/${SN}`);
    await page.locator('[data-test="last-refusal"]').getByText("payload is not JSON", { exact: false }).waitFor();
    await page.locator('[data-test="flag-clock"]').getByText("时钟异常").waitFor();
    await page.locator('[data-test="flag-clock"]').hover();
    await page.locator(".el-popper", { hasText: "设备自身时间" }).getByText("1970", { exact: false }).waitFor();
    await screenshot(page, "device-page-refused-and-clock");
    await context.close();
  });

  it("logged no script errors and no refused resources", () => {
    expect(pageErrors).toEqual([]);
  });
});
