import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { systemClock } from "@mcs/platform";
import { generateArchive, type GeneratedArchive } from "../../tools/analysis/src/index.ts";
import { buildTestApp, PASSWORD, type TestApp } from "../../backend/test/helper.ts";
import { launchBrowser, requireBuiltSite, screenshot } from "../../test-support/browser.ts";
import { beforeAllOrFail } from "../../test-support/suite-setup.ts";

/**
 * Issue 13, part 4: the /analysis page in headless Chromium against the real backend
 * serving the built site. Archive files are opened from disk (the file input) and from the
 * archive's object list; the parsing runs in a Web Worker (a 50 MB file:
 * analysis-responsiveness.solo.test.ts).
 */
describe("the offline analysis page, in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let dir: string;
  let archive: GeneratedArchive;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAllOrFail(async () => {
    requireBuiltSite();
    dir = mkdtempSync(join(tmpdir(), "mcs-analysis-e2e-"));
    [t, browser, archive] = await Promise.all([
      buildTestApp("embedded", { clock: systemClock, archive: { dataDir: join(dir, "data"), defaultHotDays: 3 } }),
      launchBrowser(),
      generateArchive({ devices: 100, outDir: join(dir, "day"), seed: 13 }),
    ]);
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    const address = t.app.server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  }, 120_000);

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function engineerPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) pageErrors.push(message.text());
    });
    await page.goto(`${base}/login`);
    await page.locator('input[name="username"]').fill("engineer");
    await page.locator('input[name="password"]').fill(PASSWORD);
    await page.locator('[data-test="login-submit"]').click();
    await page.waitForURL(`${base}/`);
    return page;
  }

  const day = () => archive.days[0]!;

  it("opens a day of 100 detectors from disk and shows the trend, heat map, health and what-if views", async () => {
    const page = await engineerPage();
    await page.locator(".el-menu").getByText("离线分析").click();
    await page.waitForURL(`${base}/analysis`);
    await page.locator('[data-test="analysis-empty"]').getByText("选择或打开归档文件后开始分析").waitFor();

    await page.locator('[data-test="analysis-file-input"]').setInputFiles([day().readings, day().manifest, day().alarms!]);
    await page.locator('[data-test="analysis-stats"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('[data-test="analysis-device-count"] .el-statistic__number').textContent()).toBe("100");
    expect(await page.locator('[data-test="analysis-parsed"]').textContent()).toMatch(/^共 859,?\d{3} 条读数、100 台设备/);

    // Trends: the device with the most alarms, its limits drawn on a canvas.
    const trendCanvas = page.locator('[data-test="analysis-trend-chart"] canvas').first();
    await trendCanvas.waitFor();
    expect(await trendCanvas.evaluate((canvas: HTMLCanvasElement) => canvas.width * canvas.height)).toBeGreaterThan(0);
    await screenshot(page, "analysis-page-trends");

    // Heat map: every alarm of the alarms file counted.
    await page.getByRole("tab", { name: "报警热力图" }).click();
    await page.locator('[data-test="analysis-heat-map-chart"] canvas').first().waitFor();
    expect(await page.locator('[data-test="analysis-heat-map-total"]').textContent()).toBe(`合计 ${day().alarmCount}`);
    await screenshot(page, "analysis-page-heat-map");

    // Health: 100 devices, worst first; each flat-lined detector is bad, with the reason named.
    await page.getByRole("tab", { name: "传感器健康" }).click();
    await page.locator('[data-test="health-pagination"]').getByText("共 100 条").waitFor();
    const flatLined = archive.devices.filter((device) => device.role === "flat_line");
    await page.locator('[data-test="health-filter"]').getByText(/^异常/).click();
    for (const device of flatLined) {
      const row = page.locator('[data-test="health-table"] .el-table__body tr', { hasText: device.sn });
      await row.locator('[data-verdict="bad"]').waitFor();
      expect(await row.locator('[data-code="flat_line"]').textContent()).toMatch(/^平直线：v_raw 连续 \d+ 个样本不变/);
    }
    const badDevices = archive.devices.filter((device) => device.role === "flat_line" || device.role === "negative_drift").length;
    await page.locator('[data-test="health-pagination"]').getByText(`共 ${badDevices} 条`).waitFor();
    await screenshot(page, "analysis-page-health");

    // What-if: CH4 with a level-1 limit of 2 %LEL raises more than the archived 25 %LEL did; the archived settings replayed give what was raised.
    await page.getByRole("tab", { name: "假设回放" }).click();
    await page.locator('[data-test="what-if-gas"]').click();
    await page.locator(".el-select-dropdown__item", { hasText: /^CH4$/ }).click();
    const high1 = page.locator('[data-test="what-if-high1"] input');
    expect(await high1.inputValue()).toBe("25");
    // 2 %LEL: the noisy CH4 detector (clean air about 1 %LEL) crosses it all day; 25 %LEL it never reached.
    await high1.fill("2");
    await page.locator('[data-test="what-if-run"]').click();
    const total = (variant: string) => page.locator(`[data-test="what-if-totals"] [data-variant="${variant}"] .el-statistic__number`).textContent().then((text) => Number(text?.replace(/,/g, "")));
    await page.locator('[data-test="what-if-totals"]').waitFor({ timeout: 60_000 });
    const [replayed, archived, actual] = [await total("replayed"), await total("archived"), await total("actual")];
    const ch4 = new Set(archive.devices.filter((device) => device.gas === "CH4").map((device) => device.sn));
    const alarmLines = readAlarmRows(day().alarms!).filter((row) => ch4.has(row.sn));
    expect(actual).toBe(alarmLines.length);
    expect(archived).toBe(alarmLines.filter((row) => row.type !== "OFFLINE").length);
    expect(replayed).toBeGreaterThan(archived);
    expect(await page.locator('[data-test="what-if-times"] .el-table__body tr').count()).toBe(Math.min(replayed, 500));
    await screenshot(page, "analysis-page-what-if");
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it("lists the archive's objects, opens one through the worker, and says so clearly when the list is unavailable", async () => {
    const page = await engineerPage();
    const admin = await t.as("admin");
    // The archive's storage set up but unreachable: the real route answers 503, and the dialog says why.
    const storage = { endpoint: "http://127.0.0.1:9", region: "auto", bucket: "plant-archive", access_key_id: "k", secret_access_key: "s", force_path_style: true, prefix: "" };
    expect((await t.app.inject({ method: "PUT", url: "/api/settings/storage", headers: admin, payload: storage })).statusCode).toBe(200);
    await page.goto(`${base}/analysis`);
    await page.locator('[data-test="analysis-from-store"]').click();
    await page.locator('[data-test="archive-picker-error"]').getByText(/^无法读取归档存储的文件列表：.*cannot reach http:\/\/127\.0\.0\.1:9/).waitFor();
    await page.keyboard.press("Escape");

    // No object storage: the archive is the server's folder, where the archiver writes its day files.
    await t.ports.db.query(`DELETE FROM settings WHERE key = 'storage'`);
    const key = "archive/2025/12/sensor_data_20251213.csv.gz";
    mkdirSync(join(dir, "data", "archive", "archive", "2025", "12"), { recursive: true });
    copyFileSync(day().readings, join(dir, "data", "archive", key));
    writeFileSync(join(dir, "data", "archive", "archive", "2025", "12", "audit_20251213.csv.gz"), gzipSync("id,at,actor,ip,action,target,before,after\n"));
    const requested: string[] = [];
    page.on("request", (request) => {
      if (new URL(request.url()).pathname === "/api/archive/object") requested.push(new URL(request.url()).searchParams.get("key") ?? "");
    });
    await page.locator('[data-test="analysis-from-store"]').click();
    const picker = page.locator('[data-test="archive-picker"]');
    await picker.getByText(/位置：.*archive/).waitFor();
    // Audit logs hold no readings: not offered.
    expect(await picker.locator(".el-table__body tr").count()).toBe(1);
    await picker.locator(".el-table__body tr .el-checkbox").click();
    await page.locator('[data-test="archive-picker-analyse"]').click();
    await page.locator('[data-test="analysis-stats"]').waitFor({ timeout: 60_000 });
    expect(requested).toEqual([key]);
    expect(await page.locator('[data-test="analysis-device-count"] .el-statistic__number').textContent()).toBe("100");
    // No manifest and no alarms file: the heat map counts readings beyond a limit, of which there are none without settings.
    expect(await page.locator('[data-test="analysis-stats"]').textContent()).toContain("未提供报警文件");
    await screenshot(page, "analysis-page-from-store");
  }, 90_000);

});

/** The alarms file's sn and type columns, read back as the test's own check (gunzip in Node). */
function readAlarmRows(file: string): { sn: string; type: string }[] {
  return gunzipSync(readFileSync(file)).toString("utf8").trim().split("\n").slice(1).map((line) => {
    const [, sn, type] = line.split(",");
    return { sn: sn ?? "", type: type ?? "" };
  });
}
