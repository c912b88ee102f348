import { readFile } from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Download, Locator, Page } from "playwright-core";
import { systemClock } from "@mcs/platform";
import type { Device, Role, Settings } from "@mcs/protocol";
import { buildTestApp, PASSWORD, type TestApp } from "../../backend/test/helper.ts";
import { launchBrowser, screenshot, requireBuiltSite } from "../../test-support/browser.ts";
import { beforeAllOrFail } from "../../test-support/suite-setup.ts";

/** The engineer the admin creates, with the passwords it goes through. */
const ENGINEER = "wang.gong";
const FIRST_PASSWORD = "Tank-Farm-7-Ok";
const OWN_PASSWORD = "Gas-Detector-42x";

/** The browser's time zone (a plant in China). */
const TIME_ZONE = "Asia/Shanghai";

/** YYYY-MM-DD, `days` from today as the browser counts days (in its time zone). */
function dayFromToday(days: number): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: TIME_ZONE }).format(new Date(Date.now() + days * 86_400_000));
}

/**
 * The admin site's people, audit log, settings, bulk import, calibration history and
 * maintenance in headless Chromium, against the real backend (services mode: PostgreSQL and
 * Redis), in Chinese. The steps build on each other: the admin creates an engineer, the
 * engineer changes their password, the admin resets it, and the audit log shows all of it.
 */
describe("admin site: people, audit log, settings, import, calibration and maintenance, in a real browser", () => {
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
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "zh-CN", timezoneId: TIME_ZONE, acceptDownloads: true });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) pageErrors.push(message.text());
    });
    return { context, page };
  }

  async function logIn(page: Page, username: string, password: string): Promise<void> {
    await page.goto(`${base}/login`);
    await page.locator('input[name="username"]').fill(username);
    await page.locator('input[name="password"]').fill(password);
    await page.locator('[data-test="login-submit"]').click();
    // Everyone lands on the plant overview.
    await page.waitForURL(`${base}/`);
  }

  async function logOut(page: Page): Promise<void> {
    await page.locator('[data-test="logout"]').click();
    await page.waitForURL(/\/login/);
  }

  /** The answer of a login through the API: whether this password works now. */
  async function loginStatus(username: string, password: string): Promise<number> {
    return (await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username, password } })).statusCode;
  }

  async function confirm(page: Page): Promise<void> {
    await page.locator(".el-message-box").getByRole("button", { name: "是" }).click();
  }

  async function downloaded(page: Page, click: () => Promise<void>): Promise<{ name: string; text: string }> {
    const [download] = (await Promise.all([page.waitForEvent("download"), click()])) as [Download, void];
    return { name: download.suggestedFilename(), text: await readFile((await download.path())!, "utf8") };
  }

  /** A text box by its data-test: Element Plus puts the attribute on the <input> itself, or on its wrapper. */
  const field = (scope: Page | Locator, name: string) =>
    scope.locator(`input[data-test="${name}"], textarea[data-test="${name}"], [data-test="${name}"] input, [data-test="${name}"] textarea`).first();

  const userRow = (page: Page, username: string) => page.locator('[data-test="user-table"] .el-table__row', { has: page.locator(`[data-test="user-${username}"]`) });

  it("lets the admin add an engineer: a weak password is refused with the policy's reason in Chinese first", async () => {
    ({ page: admin } = await newPage());
    await logIn(admin, "admin", PASSWORD);
    await admin.locator(".el-menu").getByText("用户管理").click();
    await admin.waitForURL(`${base}/users`);
    await userRow(admin, "operator").waitFor();

    await admin.locator('[data-test="add-user"]').click();
    const dialog = admin.locator('[data-test="user-dialog"]');
    await dialog.getByText("不能是常见密码").waitFor(); // the policy, explained under the field
    await admin.locator('[data-test="user-username"]').fill(ENGINEER);
    await admin.locator('[data-test="user-role-engineer"]').click();
    await dialog.getByText("工程师：设备、校准").waitFor();

    // Too short: the browser says so before anything is sent.
    await field(dialog, "new-password").fill("Ab1-x");
    await field(dialog, "repeat-password").fill("Ab1-x");
    await admin.locator('[data-test="user-save"]').click();
    await dialog.getByText("密码至少需要 10 个字符").waitFor();

    // Long enough but common: the browser applies the server's own policy (@mcs/protocol), in Chinese, and sends nothing.
    const posts: string[] = [];
    admin.on("request", (request) => {
      if (request.url().endsWith("/api/users") && request.method() === "POST") posts.push(request.url());
    });
    await field(dialog, "new-password").fill("Password1234");
    await field(dialog, "repeat-password").fill("Password1234");
    await admin.locator('[data-test="user-save"]').click();
    await dialog.locator(".el-form-item__error").getByText("密码过于常见").waitFor();
    expect(posts).toEqual([]);

    await field(dialog, "new-password").fill(FIRST_PASSWORD);
    await field(dialog, "repeat-password").fill(FIRST_PASSWORD);
    await admin.locator('[data-test="user-save"]').click();
    await dialog.waitFor({ state: "hidden" });
    const row = userRow(admin, ENGINEER);
    await row.locator('[data-test="user-role-tag"]').getByText("工程师").waitFor();
    // The admin's own row offers no delete or disable; the last admin cannot step down either (the server's 409, in words).
    const own = userRow(admin, "admin");
    expect(await own.locator('[data-test="user-delete"]').count()).toBe(0);
    expect(await own.locator('[data-test="user-disable"]').count()).toBe(0);
    await own.locator('[data-test="user-change-role"]').click();
    await admin.locator('[data-test="role-option-engineer"]:visible').click();
    await admin.locator(".el-message-box").getByText("您将失去管理员权限").waitFor();
    await confirm(admin);
    await admin.locator(".el-message--error").getByText("admin 是最后一个启用的管理员：请先将其他用户设为管理员").waitFor();
    expect(await own.locator('[data-test="user-role-tag"]').textContent()).toBe("管理员");
    await screenshot(admin, "users");
  });

  it("lets the engineer log in, see settings read-only, and change their own password", async () => {
    await logOut(admin);
    const { context, page } = await newPage();
    await logIn(page, ENGINEER, FIRST_PASSWORD);
    expect(await page.locator('[data-test="current-role"]').textContent()).toBe("工程师");
    const menu = page.locator(".el-menu");
    await menu.getByText("系统设置").waitFor();
    expect(await menu.getByText("用户管理").count()).toBe(0);
    expect(await menu.getByText("审计日志").count()).toBe(0);

    // Settings: readable, not changeable.
    await menu.getByText("系统设置").click();
    await page.getByText("您可以查看系统设置，只有管理员可以修改。").waitFor();
    expect(await page.locator('[data-test="retention-save"]').count()).toBe(0);
    // The archive's runs are there to read; starting one is for admins (issue 13, part 5).
    await page.locator('[data-test="archive-card"]').waitFor();
    expect(await page.locator('[data-test="archive-run"]').count()).toBe(0);
    // The users page is not for engineers: back to the start page.
    await page.goto(`${base}/users`);
    await page.waitForURL(`${base}/`);

    await page.locator('[data-test="current-user"]').click();
    await page.locator('[data-test="change-password"]').click();
    const dialog = page.locator('[data-test="change-password-dialog"]');
    await field(dialog, "current-password").fill("not my password");
    await field(dialog, "new-password").fill(OWN_PASSWORD);
    await field(dialog, "repeat-password").fill(OWN_PASSWORD);
    await page.locator('[data-test="change-password-save"]').click();
    await dialog.getByText("当前密码错误").waitFor();

    await field(dialog, "current-password").fill(FIRST_PASSWORD);
    await page.locator('[data-test="change-password-save"]').click();
    await page.getByText("密码已修改").waitFor();
    await dialog.waitFor({ state: "hidden" });
    expect(await loginStatus(ENGINEER, FIRST_PASSWORD)).toBe(401);
    expect(await loginStatus(ENGINEER, OWN_PASSWORD)).toBe(200);
    await context.close();
  });

  it("lets the admin reset the engineer's password, and shows every change in the audit log, exported as CSV", async () => {
    await logIn(admin, "admin", PASSWORD);
    await admin.goto(`${base}/users`);
    await userRow(admin, ENGINEER).locator('[data-test="user-reset-password"]').click();
    const dialog = admin.locator('[data-test="reset-dialog"]');
    await dialog.getByText(`重置 ${ENGINEER} 的密码`).waitFor();
    await admin.locator('[data-test="generate-password"]').click();
    const generated = await field(dialog, "new-password").inputValue();
    expect(generated).toMatch(/^.{16}$/);
    await admin.locator('[data-test="reset-save"]').click();
    await admin.getByText(`已重置 ${ENGINEER} 的密码`).waitFor();
    expect(await loginStatus(ENGINEER, OWN_PASSWORD)).toBe(401);
    expect(await loginStatus(ENGINEER, generated)).toBe(200);

    await admin.locator(".el-menu").getByText("审计日志").click();
    await admin.waitForURL(`${base}/audit`);
    await field(admin, "audit-search").fill("user.");
    await field(admin, "audit-search").press("Enter");
    const table = admin.locator('[data-test="audit-table"]');
    // Newest first: the reset, the engineer's own change, the creation (and the test's own users, older).
    const engineerRows = table.locator(".el-table__row", { hasText: ENGINEER });
    await engineerRows.nth(2).waitFor();
    expect(await engineerRows.locator("code.action").allTextContents()).toEqual(["user.password.reset", "user.password.change", "user.create"]);
    expect(await engineerRows.first().textContent()).toContain("管理员重置密码");
    expect(await engineerRows.nth(1).textContent()).toMatch(new RegExp(`${ENGINEER}.*user\\.password\\.change`));
    const page = (await t.app.inject({ method: "GET", url: "/api/audit?q=user.&limit=1", headers: await t.as("admin") })).json<{ total: number }>();
    await admin.locator('[data-test="audit-pager"]').getByText(`共 ${page.total} 条`).waitFor();

    // The newest row (the reset) opened: before → after, the changed field stands out.
    await table.locator(".el-table__expand-icon").first().click();
    const diff = admin.locator('[data-test="audit-diff"]');
    await diff.getByText("password_changed_at").waitFor();
    expect(await diff.locator('[data-test="diff-changed"]').count()).toBeGreaterThan(0);
    await screenshot(admin, "audit");

    expect(await admin.locator('[data-test="audit-export"]').getAttribute("href")).toBe("/api/audit/export.csv?q=user.");
    const csv = await downloaded(admin, () => admin.locator('[data-test="audit-export"] button').click());
    expect(csv.name).toMatch(/^audit-.*\.csv$/);
    for (const action of ["user.create", "user.password.change", "user.password.reset"]) expect(csv.text).toContain(action);
    expect(csv.text).toContain(ENGINEER);
    expect(csv.text).not.toContain(FIRST_PASSWORD);
    expect(csv.text).not.toContain(generated);
  });

  it("lets the admin test the object storage, save it with a write-only secret, and save the data retention", async () => {
    await admin.locator(".el-menu").getByText("系统设置").click();
    await admin.waitForURL(`${base}/settings`);
    await admin.locator('[data-test="license-message"]').getByText(/^trial: \d+ days left/).waitFor();
    // No object storage yet: the page says the archive goes to the server's own folder.
    await admin.locator('[data-test="archive-destination"][data-target="folder"]').getByText("MCS_DATA_DIR/archive").waitFor();

    // A storage nobody listens on: the test says it failed, and why.
    await field(admin, "storage-endpoint").fill("http://127.0.0.1:9");
    await field(admin, "storage-bucket").fill("mcs-archive");
    await field(admin, "storage-access-key").fill("AKIDEXAMPLE");
    await field(admin, "storage-secret").fill("a-secret-key-1234");
    await admin.locator('[data-test="storage-test"]').click();
    await admin.locator('[data-test="storage-test-result"]').getByText("连接失败").waitFor({ timeout: 30_000 }); // the server gives up after 10 s; a loaded machine adds to it
    await admin.locator('[data-test="storage-save"]').click();
    await admin.getByText("对象存储设置已保存").waitFor();
    expect(await field(admin, "storage-secret").getAttribute("placeholder")).toBe("已设置，留空不修改");
    expect(await field(admin, "storage-secret").inputValue()).toBe("");

    // Saved: the archive goes there now.
    await admin.locator('[data-test="archive-destination"][data-target="storage"]').getByText("归档保存到上面设置的对象存储").waitFor();

    // Issue 13: the defaults (3 days of readings, the nightly archive on, alarms and audit for a year), then changed.
    expect(await field(admin, "retention-days").inputValue()).toBe("3");
    expect(await field(admin, "retention-records-days").inputValue()).toBe("365");
    expect(await admin.locator('[data-test="retention-archive"] [role="switch"]').getAttribute("aria-checked")).toBe("true");
    await field(admin, "retention-days").fill("30");
    await field(admin, "retention-records-days").fill("730");
    await admin.locator('[data-test="retention-save"]').click();
    await admin.getByText("数据保留设置已保存").waitFor();
    const stored = (await t.app.inject({ method: "GET", url: "/api/settings", headers: await t.as("admin") })).json<Settings>();
    expect(stored.retention).toEqual({ hot_days: 30, archive: true, records_days: 730 });
    expect(stored.storage).toMatchObject({ endpoint: "http://127.0.0.1:9", bucket: "mcs-archive", secret_access_key: "********" });
    await screenshot(admin, "settings");
  });

  it("imports devices from a CSV file: checked first, the bad row reported, two created, their passwords shown once", async () => {
    await admin.locator(".el-menu").getByText("设备管理").click();
    await admin.waitForURL(`${base}/devices`);
    await admin.locator('[data-test="import-devices"]').click();
    const dialog = admin.locator('[data-test="import-dialog"]');
    expect(await dialog.locator('[data-test="import-template"]').getAttribute("href")).toBe("/api/devices/import/template.csv");

    const csv = [
      "sn,name,gas,unit,calib_due",
      `IMP-01,罐区 2 号甲烷探头,CH4,%LEL,${dayFromToday(-3)}`,
      "bad sn!,坏行,CO,ppm,",
      `IMP-02,泵房硫化氢探头,H2S,ppm,${dayFromToday(90)}`,
    ].join("\n");
    await dialog.locator('input[type="file"]').setInputFiles({ name: "devices.csv", mimeType: "text/csv", buffer: Buffer.from(`\uFEFF${csv}\n`) });
    await dialog.locator('[data-test="import-file-name"]').getByText("devices.csv").waitFor();

    // The server held at its work (the check looks each device up): the file goes up (100 %), then
    // "processing" shows until the answer comes. Holding the request itself would hold its upload too.
    let answer!: () => void;
    const held = new Promise<void>((resolve) => (answer = resolve));
    const lookUp = t.app.devices.get;
    t.app.devices.get = async (sn) => {
      await held;
      return lookUp.call(t.app.devices, sn);
    };
    try {
      await admin.locator('[data-test="import-check"]').click();
      const progress = dialog.locator('[data-test="upload-progress"]');
      await dialog.locator('[data-test="upload-progress"][data-phase="processing"][data-percent="100"]').waitFor();
      await progress.getByText("已上传，服务器正在处理").waitFor();
      await screenshot(admin, "import-processing");
      expect(await dialog.locator('[data-test="import-summary"]').count()).toBe(0);
      // Closing now would lose the answer (and, on an import, the new devices' passwords): the dialog waits for it.
      await admin.keyboard.press("Escape");
      await progress.waitFor();
      expect(await dialog.getByRole("button", { name: "取消" }).isDisabled()).toBe(true);
      answer();
      await dialog.locator('[data-test="import-summary"]').getByText("共 3 行：2 行可以导入，1 行有错误").waitFor();
      await progress.waitFor({ state: "detached" });
    } finally {
      answer();
      t.app.devices.get = lookUp;
    }
    const report = dialog.locator('[data-test="import-report"]');
    expect(await report.locator('[data-test="import-row-error"]').count()).toBe(1);
    expect(await report.locator('[data-test="import-row-error"]').textContent()).toMatch(/^sn: /);
    expect(await report.locator(".error-row").count()).toBe(1);
    expect(await t.app.inject({ method: "GET", url: "/api/devices/IMP-01", headers: await t.as("admin") }).then((res) => res.statusCode)).toBe(404);

    await admin.locator('[data-test="import-run"]').getByText("导入 2 台设备").click();
    await dialog.locator('[data-test="import-summary"]').getByText("已导入 2 台设备，1 行有错误").waitFor();
    const passwords = dialog.locator('[data-test="import-password"]');
    await passwords.first().waitFor();
    expect(await passwords.count()).toBe(2);
    const shown = await passwords.allTextContents();
    await screenshot(admin, "import");

    const file = await downloaded(admin, () => admin.locator('[data-test="import-download-passwords"]').click());
    expect(file.text).toContain(`IMP-01,IMP-01,${shown[0]}`);
    expect(file.text).toContain(`IMP-02,IMP-02,${shown[1]}`);
    await admin.locator('[data-test="import-close"]').click();
    await dialog.waitFor({ state: "hidden" });
    await admin.locator('[data-test="device-link-IMP-02"]').waitFor();

    // Shown once: opened again, the dialog starts empty.
    await admin.locator('[data-test="import-devices"]').click();
    await dialog.locator('[data-test="import-check"]').waitFor();
    expect(await dialog.locator('[data-test="import-password"]').count()).toBe(0);
    await dialog.getByRole("button", { name: "取消" }).click();
    await dialog.waitFor({ state: "hidden" });
  });

  it("shows a large file's upload going up per cent by per cent over a slow line, then the check's result", async () => {
    const cdp = await admin.context().newCDPSession(admin);
    await cdp.send("Network.enable");
    // About 35 KB at 16 KB/s: two seconds of upload, as a plant's slow uplink would make it.
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 16 * 1024 });
    try {
      await admin.locator('[data-test="import-devices"]').click();
      const dialog = admin.locator('[data-test="import-dialog"]');
      const rows = Array.from({ length: 400 }, (_, i) => `BIG-${String(i).padStart(4, "0")},三号罐区 ${i} 号可燃气体探测器（上传进度）,CH4,%LEL`);
      await dialog.locator('input[type="file"]').setInputFiles({ name: "fleet.csv", mimeType: "text/csv", buffer: Buffer.from(["sn,name,gas,unit", ...rows].join("\n")) });
      await admin.locator('[data-test="import-check"]').click();
      const progress = dialog.locator('[data-test="upload-progress"]');
      await progress.waitFor();
      const percents: number[] = [];
      for (let phase = await progress.getAttribute("data-phase"); phase === "uploading"; phase = await progress.getAttribute("data-phase").catch(() => null)) {
        const percent = Number(await progress.getAttribute("data-percent").catch(() => ""));
        if (percents.at(-1) !== percent) percents.push(percent);
        await admin.waitForTimeout(100);
      }
      expect(percents.some((percent) => percent > 0 && percent < 100), `per cents seen: ${percents.join(", ")}`).toBe(true);
      expect([...percents].sort((a, b) => a - b)).toEqual(percents);
      await dialog.locator('[data-test="import-summary"]').getByText("共 400 行：400 行可以导入，0 行有错误").waitFor();
      await dialog.getByRole("button", { name: "取消" }).click();
      await dialog.waitFor({ state: "hidden" });
    } finally {
      await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await cdp.detach();
    }
    expect((await t.app.inject({ method: "GET", url: "/api/devices/BIG-0000", headers: await t.as("admin") })).statusCode).toBe(404);
  });

  it("shows a device's calibration history after an edit, and when its next calibration is due", async () => {
    await admin.locator('[data-test="device-link-IMP-01"]').click();
    await admin.waitForURL(`${base}/devices/IMP-01`);
    const summary = admin.locator('[data-test="device-summary"]');
    // Imported with a due date three days ago: red.
    await summary.locator('[data-test="calib-due"].el-tag--danger').getByText("已过期 3 天").waitFor();

    await summary.locator('[data-test="edit-device"]').click();
    const dialog = admin.locator('[data-test="device-dialog"]');
    const formItem = (label: string) => dialog.locator(".el-form-item", { hasText: label });
    await formItem("斜率 k").locator("input").fill("1.04");
    await formItem("校准说明").locator("textarea").fill("零点/量程校准，标气批号 2301，结果 +3 %");
    const due = formItem("下次校准").locator("input");
    await due.fill(dayFromToday(20));
    await due.press("Enter");
    await admin.locator('[data-test="device-save"]').click();
    await dialog.waitFor({ state: "hidden" });
    await summary.getByText("v2 · k=1.04 b=0").waitFor();
    // Due within 30 days: amber.
    await summary.locator('[data-test="calib-due"].el-tag--warning').getByText("20 天后到期").waitFor();

    await admin.getByRole("tab", { name: "校准记录" }).click();
    const history = admin.locator('[data-test="calibration-table"]');
    await history.getByText("零点/量程校准，标气批号 2301，结果 +3 %").waitFor();
    const rows = history.locator(".el-table__body .el-table__row");
    expect(await rows.count()).toBe(2);
    expect(await rows.first().textContent()).toMatch(/v2.*当前.*1\.04.*admin/);
    expect(await rows.nth(1).textContent()).toMatch(/^v1/);
    await screenshot(admin, "device-calibration");
  });

  it("puts a device in maintenance with a reason, shows the badge with until, by and reason, and ends it", async () => {
    const summary = admin.locator('[data-test="device-summary"]');
    await summary.locator('[data-test="inhibit-device"]').click();
    const dialog = admin.locator('[data-test="inhibit-dialog"]');
    await dialog.getByRole("radio", { name: "2 小时" }).click({ force: true });
    await admin.locator('[data-test="inhibit-save"]').click();
    await dialog.getByText("请填写维护原因").waitFor();
    await field(dialog, "inhibit-reason").fill("更换传感器");
    await admin.locator('[data-test="inhibit-save"]').click();
    await dialog.waitFor({ state: "hidden" });

    await summary.locator('[data-test="inhibit-badge"]').getByText("维护中").waitFor();
    const info = await summary.locator('[data-test="inhibit-info"]').textContent();
    expect(info).toMatch(/维护至 .+（admin：更换传感器）/);
    const device = (await t.app.inject({ method: "GET", url: "/api/devices/IMP-01", headers: await t.as("admin") })).json<Device>();
    expect(device.inhibit).toMatchObject({ by: "admin", reason: "更换传感器" });
    const minutes = (Date.parse(device.inhibit!.until) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(115);
    expect(minutes).toBeLessThanOrEqual(120);
    await screenshot(admin, "device-maintenance");

    await summary.locator('[data-test="end-inhibit"]').click();
    await confirm(admin);
    await summary.locator('[data-test="inhibit-badge"]').waitFor({ state: "detached" });
    await summary.locator('[data-test="inhibit-device"]').waitFor();
  });

  it("shows an operator none of the admin pages or editing buttons", async () => {
    const { context, page } = await newPage();
    await logIn(page, "operator" satisfies Role, PASSWORD);
    const menu = page.locator(".el-menu");
    await menu.getByText("设备管理").waitFor();
    for (const entry of ["用户管理", "审计日志", "系统设置"]) expect(await menu.getByText(entry).count()).toBe(0);
    await menu.getByText("设备管理").click();
    await page.locator('[data-test="device-link-IMP-01"]').waitFor();
    expect(await page.locator('[data-test="import-devices"]').count()).toBe(0);
    await page.goto(`${base}/settings`);
    await page.waitForURL(`${base}/`);
    await menu.getByText("设备管理").click();
    await page.locator('[data-test="device-link-IMP-01"]').click();
    await page.locator('[data-test="device-summary"]').getByText("罐区 2 号甲烷探头").waitFor();
    expect(await page.locator('[data-test="inhibit-device"]').count()).toBe(0);
    await page.getByRole("tab", { name: "校准记录" }).click();
    await page.locator('[data-test="calibration-table"]').getByText("零点/量程校准").waitFor();
    await context.close();
  });

  it("logged no script errors and no refused resources", () => {
    expect(pageErrors).toEqual([]);
  });
});
