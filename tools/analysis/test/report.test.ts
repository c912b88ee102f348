import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { Browser, Page } from "playwright-core";
import { generateArchive, main, type GeneratedArchive } from "../src/index.ts";
import { launchBrowser, screenshot } from "../../../test-support/browser.ts";
import { beforeAllOrFail } from "../../../test-support/suite-setup.ts";

const REPO = join(import.meta.dirname, "..", "..", "..");
const run = promisify(execFile);

/** Issue 13, part 4: `npm run analysis -- report` on a generated day of 100 detectors, opened offline in Chromium. */
describe("the analysis CLI's HTML report", () => {
  let dir: string;
  let archive: GeneratedArchive;
  let browser: Browser;
  let page: Page;
  /** Every request the report made that was not its own file: it must open offline. */
  const outside: string[] = [];
  const pageErrors: string[] = [];

  beforeAllOrFail(async () => {
    dir = mkdtempSync(join(tmpdir(), "mcs-analysis-cli-"));
    [archive, browser] = await Promise.all([generateArchive({ devices: 100, outDir: dir, seed: 13 }), launchBrowser()]);
    const day = archive.days[0]!;
    // The readings file and the alarms file; the manifest beside the readings is found by the tool.
    await run("npm", ["run", "--silent", "analysis", "--", "report", day.readings, day.alarms!, "--out", join(dir, "report.html")], { cwd: REPO });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("file:")) return route.continue();
      outside.push(url);
      return route.abort();
    });
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(pathToFileURL(join(dir, "report.html")).href);
    await page.locator('body[data-charts="ready"]').waitFor({ timeout: 20_000 });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("opens offline in Chinese with every view drawn: trend and what-if charts on canvas", async () => {
    expect(outside).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(await page.locator("html").getAttribute("lang")).toBe("zh-CN");
    await page.getByRole("heading", { name: "归档离线分析报告" }).waitFor();
    expect(await page.locator('[data-test="device-count"]').textContent()).toBe("100");
    for (const chart of ["#trend-chart", "#what-if-chart"]) {
      const size = await page.locator(`${chart} canvas`).first().evaluate((canvas: HTMLCanvasElement) => canvas.width * canvas.height);
      expect(size, chart).toBeGreaterThan(0);
    }
    await screenshot(page, "analysis-report-zh");
  });

  it("lists all 100 devices in the health table and flags each flat-lined, drifting and silent one", async () => {
    expect(await page.locator('[data-test="health"] tbody tr').count()).toBe(100);
    for (const device of archive.devices) {
      const row = page.locator(`[data-test="health"] tr[data-sn="${device.sn}"]`);
      const verdict = await row.getAttribute("data-verdict");
      const codes = await row.locator(".reason").evaluateAll((spans) => spans.map((span) => span.getAttribute("data-code")));
      if (device.role === "flat_line") {
        expect({ sn: device.sn, verdict, flat: codes.includes("flat_line") }).toEqual({ sn: device.sn, verdict: "bad", flat: true });
        expect(await row.locator('.reason[data-code="flat_line"]').textContent()).toMatch(/^平直线：v_raw 连续 \d+ 个样本不变/);
      }
      if (device.role === "negative_drift") expect({ sn: device.sn, verdict, codes }).toEqual({ sn: device.sn, verdict: "bad", codes: ["negative_drift"] });
      if (device.role === "gap") expect(codes).toContain("gap");
      if (device.role === "battery_falling") expect(codes).toContain("battery_falling");
      if (device.role === "noisy") expect(codes).toContain("noisy");
      if (device.role === "err_bits") expect(codes).toContain("error_bits");
      if (device.role === "normal" || device.role === "leak") expect({ sn: device.sn, verdict }).toEqual({ sn: device.sn, verdict: "ok" });
    }
  });

  it("draws the heat map as 100 × 24 cells that add up to the alarms really raised", async () => {
    const cells = page.locator('[data-test="heat-map"] td.heat-cell');
    expect(await cells.count()).toBe(100 * 24);
    const counts = await cells.evaluateAll((tds) => tds.map((td) => Number(td.getAttribute("data-count"))));
    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(archive.days[0]!.alarmCount);
    // A leak device's alarms sit in the row of that device.
    const leak = archive.devices.find((device) => device.role === "leak")!;
    const row = await page.locator(`[data-test="heat-map"] tr[data-sn="${leak.sn}"] td.heat-cell`).evaluateAll((tds) => tds.map((td) => Number(td.getAttribute("data-count"))));
    expect(row.reduce((sum, n) => sum + n, 0)).toBeGreaterThan(0);
  });

  it("shows the what-if at the archived, a stricter and a looser setting beside what was raised", async () => {
    const total = (variant: string) => page.locator(`[data-test="what-if"] tr.total td[data-variant="${variant}"]`).textContent().then(Number);
    const [current, stricter, looser, actual] = [await total("current"), await total("stricter"), await total("looser"), await total("actual")];
    expect(actual).toBe(archive.days[0]!.alarmCount);
    // The archived settings replayed give what was raised, but for OFFLINE (presence, not readings).
    const offline = await page.locator('[data-test="what-if"] tr[data-type="OFFLINE"] td[data-variant="actual"]').textContent().then(Number);
    expect(current).toBe(actual - offline);
    expect(stricter).toBeGreaterThan(current);
    expect(looser).toBeLessThanOrEqual(current);
    expect(await page.locator('[data-test="alarm-times"] tbody tr').count()).toBe(current);
    await page.locator("#what-if").scrollIntoViewIfNeeded();
    await screenshot(page, "analysis-report-what-if");
  });

  it("switches the trend to another device, limits drawn", async () => {
    const leak = archive.devices.find((device) => device.role === "leak" && device.gas === "CH4")!;
    await page.locator("#trend-device").selectOption(leak.sn);
    const option = await page.evaluate(() => {
      const chart = (window as unknown as { echarts: { getInstanceByDom(el: Element): { getOption(): { series: { markLine?: { data: { yAxis: number }[] } }[] } } } }).echarts
        .getInstanceByDom(document.getElementById("trend-chart")!);
      return chart.getOption().series.flatMap((series) => series.markLine?.data.map((line) => line.yAxis) ?? []);
    });
    expect(option).toEqual([leak.settings.high1, leak.settings.high2]);
  });

  it("writes English with --lang en", async () => {
    const small = join(dir, "small");
    const day = (await generateArchive({ devices: 3, outDir: small, seed: 5 })).days[0]!;
    expect(await main(["report", day.readings, day.manifest, "--out", join(small, "en.html"), "--lang", "en"])).toBe(0);
    const en = await browser.newPage();
    await en.goto(pathToFileURL(join(small, "en.html")).href);
    expect(await en.locator("html").getAttribute("lang")).toBe("en");
    await en.getByRole("heading", { name: "Archive analysis report" }).waitFor();
    await en.getByRole("heading", { name: "Sensor health" }).waitFor();
    expect(await en.locator('[data-test="health"] tbody tr').count()).toBe(3);
    await en.close();
  }, 60_000);

  it("refuses bad input with a clear message and exit code 2", async () => {
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const plain = join(dir, "plain.csv.gz");
    writeFileSync(plain, "sn,ts\n");
    const wrongHeader = join(dir, "wrong.csv.gz");
    writeFileSync(wrongHeader, gzipSync("serial,time,value\nA001,2025-12-13T00:00:00Z,1\n"));
    const badRow = join(dir, "bad-row.csv.gz");
    writeFileSync(badRow, gzipSync("sn,ts,seq,ppm,v_raw,temp,humi,bat,rssi,err,flags\nA001,2025-12-13T00:00:00.000Z,1,1,1,,,,,0,\nA001,yesterday,2,1,1,,,,,0,\n"));
    const cases: [string[], string][] = [
      [["report", join(dir, "missing.csv.gz"), "--out", join(dir, "x.html")], `error: file not found: ${join(dir, "missing.csv.gz")}`],
      [["report", plain, "--out", join(dir, "x.html")], `error: ${plain} is not a gzip file (archive files are .csv.gz)`],
      [["report", wrongHeader, "--out", join(dir, "x.html")], 'error: wrong.csv.gz, line 1: the header must be "sn,ts,seq,ppm,v_raw,temp,humi,bat,rssi,err,flags", found "serial,time,value"'],
      [["report", badRow, "--out", join(dir, "x.html")], 'error: bad-row.csv.gz, line 3: ts is not an ISO-8601 UTC time: "yesterday"'],
      [["report", plain], "error: --out report.html is required"],
    ];
    try {
      for (const [args, message] of cases) {
        stderr.mockClear();
        expect({ args, code: await main(args) }).toEqual({ args, code: 2 });
        expect(stderr.mock.calls.map(([text]) => String(text)).join("")).toBe(`${message}\n`);
      }
    } finally {
      stderr.mockRestore();
    }
  });
});
