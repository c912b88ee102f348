import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { systemClock } from "@mcs/platform";
import type { ChannelView, Role } from "@mcs/protocol";
import { buildTestApp, PASSWORD, type TestApp } from "../../backend/test/helper.ts";
import { launchBrowser, screenshot, requireBuiltSite } from "../../test-support/browser.ts";
import { beforeAllOrFail } from "../../test-support/suite-setup.ts";

const SECRET = "wh-secret-4f1c9a7e-never-shown";

/**
 * Alarm channels in headless Chromium against the real backend (services mode): a webhook
 * channel with working hours, tested against a local receiver that checks the signature;
 * its secret is write-only (kept when the form leaves it empty, never in an answer).
 */
describe("admin site: alarm channels, in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let admin: Page;
  let receiver: HttpServer;
  let hookUrl: string;
  /** What the receiver got: headers and the exact body bytes. */
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  /** Every API answer the pages read, to look for the secret. */
  const answers: string[] = [];
  const pageErrors: string[] = [];

  beforeAllOrFail(async () => {
    requireBuiltSite();
    [t, browser] = await Promise.all([buildTestApp("services", { clock: systemClock }), launchBrowser()]);
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/mcs/alarms`;
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => receiver?.close(resolve));
    await t?.close();
  });

  /** `prepare` runs before the first page loads (to intercept the API, say). */
  async function newPage(role: Role, prepare?: (page: Page) => Promise<unknown>): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) pageErrors.push(message.text());
    });
    page.on("response", async (response) => {
      if (!new URL(response.url()).pathname.startsWith("/api/")) return;
      answers.push(await response.text().catch(() => ""));
    });
    await prepare?.(page);
    await page.goto(`${base}/login?redirect=/channels`);
    await page.locator('input[name="username"]').fill(role);
    await page.locator('input[name="password"]').fill(PASSWORD);
    await page.locator('[data-test="login-submit"]').click();
    await page.waitForURL(`${base}/channels`);
    return { context, page };
  }

  const signed = (body: string, secret: string) => `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;

  it("shows one card per channel kind and says what a new channel hears", async () => {
    ({ page: admin } = await newPage("admin"));
    for (const kind of ["邮件", "钉钉", "飞书", "企业微信", "Webhook", "短信"]) await admin.locator(".kind-name", { hasText: kind }).first().waitFor();
    await admin.locator('[data-test="channels-intro"]').getByText("新建通道默认通知所有设备、所有报警类型、全天 24 小时").waitFor();
    await admin.locator(".el-menu").getByText("报警通道").waitFor();
  });

  it("says there is no alarm channel yet, and its button opens the form for a new one", async () => {
    await admin.locator('[data-test="channels-none"]').getByText("还没有报警通道").waitFor();
    await admin.locator('[data-test="channels-none-add"]').click();
    const drawer = admin.locator('[data-test="channel-drawer"]');
    await drawer.getByText("添加邮件通道").waitFor();
    await drawer.getByRole("button", { name: "取消" }).click();
    await drawer.waitFor({ state: "hidden" });
  });

  it("shows a list that failed to load as an error, never as \"no channel yet\"", async () => {
    const { context, page } = await newPage("admin", (page) =>
      page.route(
        (url) => url.pathname === "/api/channels",
        (route) => route.fulfill({ status: 503, contentType: "application/json", body: JSON.stringify({ error: { code: "MCS_ERR_UNAVAILABLE", message: "the database did not answer" } }) }),
      ),
    );
    await page.locator(".el-alert--error").getByText("the database did not answer").waitFor();
    await page.locator('[data-test="channel-card-email"]').waitFor();
    expect(await page.locator('[data-test="channels-none"]').count()).toBe(0);
    expect(await page.getByText("尚未配置此类通道").count()).toBe(0);
    await context.close();
  });

  it("adds a webhook channel with working hours: required fields first, then the server's refusal on its field", async () => {
    await admin.locator('[data-test="add-channel-webhook"]').click();
    const drawer = admin.locator('[data-test="channel-drawer"]');
    await drawer.getByText("添加Webhook通道").waitFor();
    await drawer.locator('[data-test="defaults-note"]').waitFor();

    // Nothing filled in: the form says what is missing without asking the server.
    await admin.locator('[data-test="channel-save"]').click();
    await drawer.locator('[data-test="config-url"]').getByText("必填").waitFor();
    await drawer.locator('[data-test="config-secret"]').getByText("必填").waitFor();

    await drawer.locator('[data-test="channel-name"]').fill("值班室 DCS");
    await drawer.locator('[data-test="config-url"] input').fill("ftp://dcs.plant.local/alarms");
    await drawer.locator('[data-test="config-secret"] input').fill(SECRET);
    // Working hours: Monday–Friday 08:00–18:00 comes first; a weekend window is added.
    await drawer.locator('[data-test="rule-schedule"]').getByText("工作时间").click();
    await drawer.locator('[data-test="schedule-window-0"]').waitFor();
    await drawer.locator('[data-test="add-window"]').click();
    await drawer.locator('[data-test="schedule-window-1"]').waitFor();
    await admin.locator('[data-test="channel-save"]').click();
    // The server's own words, under the field it names.
    await drawer.locator('[data-test="config-url"]').getByText("must be an http:// or https:// address").waitFor();

    await drawer.locator('[data-test="config-url"] input').fill(hookUrl);
    await admin.locator('[data-test="channel-save"]').click();
    await drawer.waitFor({ state: "hidden" });
    const card = admin.locator('[data-test="channel-card-webhook"]');
    await card.getByText("值班室 DCS").waitFor();
    await card.getByText("工作时间（2 个时段，Asia/Shanghai）").waitFor();
    await card.getByText(hookUrl).waitFor();

    const stored = (await t.app.inject({ method: "GET", url: "/api/channels", headers: await t.as("admin") })).json<{ data: ChannelView[] }>().data;
    expect(stored).toEqual([expect.objectContaining({
      type: "webhook", name: "值班室 DCS", enabled: true, sns: null, types: null, min_level: 1, level2_always: true,
      config: { url: hookUrl, secret: "********" },
      schedule: { timezone: "Asia/Shanghai", windows: [{ days: [1, 2, 3, 4, 5], start: "08:00", end: "18:00" }, { days: [6, 7], start: "08:00", end: "18:00" }], holidays: [], workdays: [] },
    })]);
  });

  it("sends a test: ok shown inline, and the receiver got a request signed with the secret", async () => {
    const card = admin.locator('[data-test="channel-card-webhook"]');
    await card.locator('[data-test="test-channel"]').click();
    await card.locator('[data-test="test-ok"]').getByText("测试消息已送达").waitFor();
    expect(received).toHaveLength(1);
    const [first] = received;
    expect(first!.headers["x-mcs-signature"]).toBe(signed(first!.body, SECRET));
    expect(JSON.parse(first!.body)).toMatchObject({ event: "alarm.test", sn: "TEST" });
  });

  it("edits the channel leaving the secret empty: the stored secret is kept (the next test is signed with it)", async () => {
    const card = admin.locator('[data-test="channel-card-webhook"]');
    await card.locator('[data-test="edit-channel"]').click();
    const drawer = admin.locator('[data-test="channel-drawer"]');
    await drawer.getByText("编辑通道：值班室 DCS").waitFor();
    const secret = drawer.locator('[data-test="config-secret"] input');
    expect(await secret.inputValue()).toBe("");
    expect(await secret.getAttribute("placeholder")).toBe("已设置，留空不修改");
    await drawer.locator('[data-test="channel-name"]').fill("值班室 DCS（夜班）");
    await drawer.locator('[data-test="config-url"] input').fill(`${hookUrl}?shift=night`);
    await drawer.locator('[data-test="schedule-editor"]').scrollIntoViewIfNeeded();
    await screenshot(admin, "channel-drawer");
    await admin.locator('[data-test="channel-save"]').click();
    await drawer.waitFor({ state: "hidden" });
    await card.getByText("值班室 DCS（夜班）").waitFor();

    await card.locator('[data-test="test-channel"]').click();
    await card.locator('[data-test="test-ok"]').waitFor();
    expect(received).toHaveLength(2);
    const second = received[1]!;
    expect(second.headers["x-mcs-signature"]).toBe(signed(second.body, SECRET));
    await screenshot(admin, "channels");
  });

  it("never sent the secret to the browser", () => {
    expect(answers.length).toBeGreaterThan(5);
    expect(answers.filter((answer) => answer.includes(SECRET))).toEqual([]);
  });

  it("shows an operator the channels without add, edit, delete or test buttons, and the API refuses the operator's change", async () => {
    const { context, page } = await newPage("operator");
    const card = page.locator('[data-test="channel-card-webhook"]');
    await card.getByText("值班室 DCS（夜班）").waitFor();
    for (const button of ["add-channel-webhook", "add-channel-email", "edit-channel", "delete-channel", "test-channel", "channel-enabled-switch"]) {
      expect(await page.locator(`[data-test="${button}"]`).count(), button).toBe(0);
    }
    // Viewing: the same drawer, read-only, with no save.
    await card.locator('[data-test="view-channel"]').click();
    const drawer = page.locator('[data-test="channel-drawer"]');
    await drawer.getByText("查看通道：值班室 DCS（夜班）").waitFor();
    expect(await drawer.locator('[data-test="channel-name"]').isDisabled()).toBe(true);
    expect(await page.locator('[data-test="channel-save"]').count()).toBe(0);

    const id = (await t.app.inject({ method: "GET", url: "/api/channels", headers: await t.as("admin") })).json<{ data: ChannelView[] }>().data[0]!.id;
    const answer = await page.evaluate(async (channelId) => {
      const csrf = document.cookie.split("; ").find((part) => part.startsWith("mcs_csrf="))?.slice("mcs_csrf=".length);
      const response = await fetch(`/api/channels/${channelId}`, {
        method: "PATCH",
        credentials: "same-origin",
        headers: { "content-type": "application/json", ...(csrf ? { "x-csrf-token": decodeURIComponent(csrf) } : {}) },
        body: JSON.stringify({ enabled: false }),
      });
      return { status: response.status, code: ((await response.json()) as { error: { code: string } }).error.code };
    }, id);
    expect(answer).toEqual({ status: 403, code: "MCS_ERR_FORBIDDEN" });
    await context.close();
  });

  it("logged no script errors and no refused resources", () => {
    expect(pageErrors).toEqual([]);
  });
});
