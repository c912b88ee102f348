import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { BrowserContext, Page } from "playwright-core";
import { collectPageErrors, startEmbeddedSite, type EmbeddedSite } from "../../test-support/embedded-site.ts";
import { beforeAllOrFail } from "../../test-support/suite-setup.ts";

/** `MCS_README_IMAGES=1` writes the tour's screenshots into docs/images/ (committed, small JPEGs). */
const README_IMAGES = process.env.MCS_README_IMAGES === "1" ? fileURLToPath(new URL("../../docs/images/", import.meta.url)) : undefined;
const SCREENSHOTS = README_IMAGES ?? join(import.meta.dirname, "..", "..", "test-artifacts", "screenshots");

/**
 * Issue 15's acceptance, as a newcomer meets the product: `npm start`'s defaults on a fresh
 * data folder (the demo fleet and its scenario, the generated admin password), Chromium in
 * Chinese with its own clock in another zone than the plant's (New York), so a time that
 * followed the browser would show.
 */
describe("a newcomer's first minutes: the overview, the big screen, the demo leak, its acknowledgement", () => {
  let site: EmbeddedSite;
  let base: string;
  let context: BrowserContext;
  let admin: Page;
  let screen: Page;
  let leakSn: string;
  const pageErrors: string[] = [];

  beforeAllOrFail(async () => {
    // The demo as `npm start` runs it, its first leak brought forward and played three times as fast.
    site = await startEmbeddedSite("first-minutes", { MCS_DEMO_DEVICES: "8", MCS_DEMO_SCENARIO_START_S: "5" }, (config) => ({ ...config, demoScenario: { ...config.demoScenario, speed: 3 } }));
    base = site.base;
    context = await site.browser.newContext({ viewport: { width: 1280, height: 720 }, locale: "zh-CN", timezoneId: "America/New_York" });
    admin = await context.newPage();
    admin.setDefaultTimeout(15_000);
    collectPageErrors(admin, pageErrors);
  });

  afterAll(async () => {
    await site?.stop();
  });

  async function shoot(page: Page, name: string): Promise<void> {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.jpg`), type: "jpeg", quality: 60 });
  }

  it("logs in with the generated password and lands on the plant overview, labelled as a demo", async () => {
    const password = readFileSync(join(site.dir, "initial-admin-password"), "utf8").trim();
    await admin.goto(base);
    await admin.waitForURL(/\/login/);
    await admin.locator('input[name="username"]').fill("admin");
    await admin.locator('input[name="password"]').fill(password);
    await admin.locator('[data-test="login-submit"]').click();
    await admin.waitForURL(`${base}/`);
    await admin.locator('[data-test="overview-counts"]').waitFor();
    await admin.locator('[data-test="demo-badge"]').getByText("演示").first().waitFor();
    await admin.locator('[data-test="overview-chart"]').waitFor();
  });

  it("follows the header's link to the big screen, which opens in a window of its own", async () => {
    const link = admin.locator('[data-test="nav-screen"]');
    expect(await link.getAttribute("target")).toBe("_blank");
    [screen] = await Promise.all([context.waitForEvent("page"), link.click()]);
    collectPageErrors(screen, pageErrors);
    screen.setDefaultTimeout(15_000);
    await screen.waitForURL(/\/screen/);
    await screen.locator('[data-test="connection-state"][data-state="live"]').waitFor();
    await screen.locator('[data-test="demo-badge"]').waitFor();
  });

  it("shows the demo leak on the screen: the detector turns red and its alarm is listed", async () => {
    // The scenario's leak crosses level 1, then level 2: the screen's red look, with its ripple.
    const red = screen.locator('[data-look="alarm2"]').first();
    await red.waitFor({ timeout: 60_000 });
    leakSn = (await red.getAttribute("data-test"))!.replace(/^(marker|tile)-/, "");
    expect(await red.locator('[data-test="ripple"]').count()).toBe(1);
    await screen.locator(`[data-test="alarm-item"][data-sn="${leakSn}"][data-state="unacked"]`).first().waitFor();
    await shoot(screen, "screen-alarm");
  }, 90_000);

  it("acknowledges it from the overview, and the screen shows it acknowledged", async () => {
    const row = admin.locator(`[data-test="overview-alarm-row"][data-sn="${leakSn}"]`).first();
    await row.waitFor();
    await shoot(admin, "overview");
    await row.locator('[data-test="overview-ack"]').click();
    const dialog = admin.locator('[data-test="alarm-answer-dialog"]');
    await dialog.locator("textarea").fill("演示泄漏，已到现场确认");
    await dialog.locator('[data-test="alarm-answer-send"]').click();
    await admin.locator(`[data-test="overview-alarm-row"][data-sn="${leakSn}"][data-state="acked"]`).first().waitFor();
    await screen.locator(`[data-test="alarm-item"][data-sn="${leakSn}"][data-state="acked"]`).first().waitFor();
  });

  it("shows the alarm's time as the same plant wall-clock time on the overview, the alarm list, the device page and the screen", async () => {
    // The plant's zone (Asia/Shanghai), whatever the browser's (New York, 13 hours behind).
    const alarm = (await (await fetch(`${base}/api/alarms?sn=${leakSn}&state=open`, { headers: { cookie: await cookieHeader() } })).json()).data.find((a: { type: string }) => a.type === "HIGH") as { raised_at: string };
    const plant = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).format(new Date(alarm.raised_at));
    const overviewTime = await admin.locator(`[data-test="overview-alarm-row"][data-sn="${leakSn}"][data-state="acked"] [data-test="overview-alarm-time"]`).first().textContent();
    const screenTime = await screen.locator(`[data-test="alarm-item"][data-sn="${leakSn}"][data-state="acked"] [data-test="alarm-time"]`).first().textContent();

    await admin.goto(`${base}/alarms`);
    const cell = () => admin.locator(`[data-test="alarm-raised-at"][data-sn="${leakSn}"][data-type="HIGH"]`).first();
    await cell().waitFor();
    const listTime = await cell().textContent();
    await shoot(admin, "alarms");

    await admin.goto(`${base}/devices/${leakSn}`);
    await admin.locator('[data-test="device-sn"], h1, h2').first().waitFor();
    await shoot(admin, "device");
    await admin.getByRole("tab", { name: "报警" }).click();
    await cell().waitFor();
    const deviceTime = await cell().textContent();

    for (const [where, text] of Object.entries({ overview: overviewTime, list: listTime, device: deviceTime, screen: screenTime })) expect(text, where).toContain(plant);
    expect(pageErrors).toEqual([]);
  });

  async function cookieHeader(): Promise<string> {
    return (await context.cookies(base)).map((c) => `${c.name}=${c.value}`).join("; ");
  }
});
