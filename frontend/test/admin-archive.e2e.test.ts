import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { loadConfig } from "@mcs/platform";
import { startServer, type Server } from "../../server/src/server.ts";
import { launchBrowser, screenshot, requireBuiltSite } from "../../test-support/browser.ts";
import { beforeAllOrFail } from "../../test-support/suite-setup.ts";

const ADMIN_PASSWORD = "Archive-admin-1301";
const SN = "ARC-CH4-01";
const DAY_MS = 86_400_000;
/** Readings of the archived day: one a minute from its noon (UTC), so none straddles midnight. */
const READINGS = 30;

/** The UTC day `days` from today, YYYY-MM-DD: the archive cuts its files by UTC day. */
function utcDay(days: number): string {
  return new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
}

/** Five days old: past the default retention (3 days), so the archive takes it. */
const DAY = utcDay(-5);
/** "Archive only the days before this one": the day after, so exactly DAY (and nothing newer). */
const BEFORE = utcDay(-4);
const NOON_S = Date.parse(`${DAY}T12:00:00Z`) / 1000;

/**
 * Issue 13, part 5: the archive on the settings page, in headless Chromium in Chinese, on
 * the whole product in one process (`startServer` in embedded mode: PGlite, the in-process
 * broker, the worker and the backend; no object storage, so the archive goes to
 * `MCS_DATA_DIR/archive`). Readings five days old come in over MQTT TLS with the device's
 * own login; the admin archives them from the page, sees the run and what is stored, and
 * restores the day. The steps build on each other.
 */
describe("the archive on the settings page (issue 13): archive now, its runs, what is stored, restore a day, in a real browser", () => {
  let server: Server;
  let dir: string;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let admin: Page;
  let adminToken: string;
  let device: mqtt.MqttClient | undefined;
  /** When the page read the list of runs (ms, test clock), to see it polls only while a run is active. */
  const runReads: number[] = [];
  let finishedAt = 0;
  const pageErrors: string[] = [];

  beforeAllOrFail(async () => {
    requireBuiltSite();
    dir = mkdtempSync(join(tmpdir(), "mcs-archive-e2e-"));
    [server, browser] = await Promise.all([
      startServer(loadConfig({
        MCS_DATA_DIR: dir, HTTP_PORT: "0", HTTP_HOST: "127.0.0.1", MQTT_TLS_PORT: "0", HTTPS_PORT: "0",
        MCS_ADMIN_PASSWORD: ADMIN_PASSWORD, MCS_DEMO_DEVICES: "0",
      })),
      launchBrowser(),
    ]);
    base = `http://127.0.0.1:${server.httpPort}`;
    const login = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }) });
    adminToken = ((await login.json()) as { token: string }).token;
  });

  afterAll(async () => {
    await device?.endAsync(true);
    await context?.close();
    await browser?.close();
    await server?.stop();
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

  /** The device's readings stored for DAY, through the telemetry route. */
  async function storedOfDay(): Promise<number> {
    const from = Date.parse(`${DAY}T00:00:00Z`) / 1000;
    const answer = await api<{ data: unknown[] }>("GET", `/api/devices/${SN}/telemetry?from=${from}&to=${from + 86_400}`);
    expect(answer.status).toBe(200);
    return answer.body.data.length;
  }

  /** A text box by its data-test: Element Plus puts the attribute on the <input> itself, or on its wrapper. */
  const field = (name: string) => admin.locator(`input[data-test="${name}"], [data-test="${name}"] input`).first();
  const dayRow = () => admin.locator('[data-test="archive-objects"] .el-table__row', { has: admin.locator(`[data-test="archive-day-${DAY}"]`) });

  it("stores readings five days old, published over MQTT TLS with the device's own login", async () => {
    const created = await api<{ mqtt_password: string }>("POST", "/api/devices", {
      sn: SN, name: "罐区 T-201 甲烷", gas: "CH4", unit: "%LEL", k: 1, b: 0, high_limit: 25, high_limit_2: 50,
      deadband: 1, on_delay_samples: 1, off_delay_samples: 1, latching: false, report_interval_s: 60,
    });
    expect(created.status).toBe(201);
    device = await mqtt.connectAsync(`mqtts://localhost:${server.mqttPort}`, {
      ca: server.ca, username: SN, password: created.body.mqtt_password, protocolVersion: 4, reconnectPeriod: 0, clientId: SN,
    });
    // A backlog, as a detector sends what it kept while offline: one message, oldest first.
    const backlog = Array.from({ length: READINGS }, (_, i) => ({ ts: NOON_S + i * 60, seq: i + 1, v_raw: 2 + (i % 5), temp: 24, humi: 40, bat: 3.9, rssi: -61, err: 0 }));
    await device.publishAsync(`mcs/${SN}/up`, JSON.stringify(backlog), { qos: 1 });
    await expect.poll(storedOfDay, { timeout: 15_000 }).toBe(READINGS);
  });

  it("shows the retention with the archive going to the server's own folder, and no runs yet", async () => {
    context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
    admin = await context.newPage();
    admin.setDefaultTimeout(10_000);
    admin.on("pageerror", (error) => pageErrors.push(error.message));
    admin.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) pageErrors.push(message.text());
    });
    admin.on("request", (request) => {
      if (request.method() === "GET" && new URL(request.url()).pathname === "/api/archive/runs") runReads.push(Date.now());
    });

    await admin.goto(`${base}/login`);
    await admin.locator('input[name="username"]').fill("admin");
    await admin.locator('input[name="password"]').fill(ADMIN_PASSWORD);
    await admin.locator('[data-test="login-submit"]').click();
    await admin.waitForURL(`${base}/`);
    await admin.locator(".el-menu").getByText("系统设置").click();
    await admin.waitForURL(`${base}/settings`);

    await admin.locator('[data-test="archive-destination"][data-target="folder"]').getByText("MCS_DATA_DIR/archive").waitFor();
    expect(await field("retention-records-days").inputValue()).toBe("365");
    await admin.locator('[data-test="archive-runs"]').getByText("还没有归档记录").waitFor();
    await admin.locator('[data-test="archive-objects"]').getByText("还没有归档的数据").waitFor();
    await admin.locator('[data-test="archive-target"]').getByText(/^存放位置：.*archive/).waitFor();
  });

  it("archives now, up to a chosen day: progress while it runs, then ok with its day and rows in the list", async () => {
    // Another worker's run is going (one run at a time), so ours waits queued until it ends:
    // the page shows the wait, whatever the machine's speed.
    const [blocker] = await server.ports.db.query<{ id: number }>(
      `INSERT INTO archive_runs (trigger, requested_by, state, queued_at, started_at, heartbeat_at) VALUES ('cli', 'another worker', 'running', now(), now(), now()) RETURNING id::int AS id`,
    );
    const before = field("archive-before");
    await before.fill(BEFORE);
    await before.press("Enter");
    const posted = admin.waitForRequest((request) => request.method() === "POST" && new URL(request.url()).pathname === "/api/archive/run");
    await admin.locator('[data-test="archive-run"]').click();
    expect((await posted).postDataJSON()).toEqual({ before: BEFORE });

    // While it runs: the bar, days done of days to do, rows so far; the button waits.
    const progress = admin.locator('[data-test="archive-progress"]');
    await progress.getByText(/排队中/).waitFor();
    expect(await admin.locator('[data-test="archive-run"]').isDisabled()).toBe(true);
    await server.ports.db.query(`UPDATE archive_runs SET state = 'ok', finished_at = now() WHERE id = $1`, [blocker!.id]);

    // Then its outcome, and the run in the list.
    const outcome = admin.locator('[data-test="archive-outcome"][data-state="ok"]');
    await outcome.getByText(new RegExp(`^归档完成：1 天，${READINGS} 行，`)).waitFor({ timeout: 30_000 });
    finishedAt = Date.now();
    await progress.waitFor({ state: "detached" });

    const run = admin.locator('[data-test="archive-runs"] .el-table__row').first();
    await run.locator('[data-test="run-state"][data-state="ok"]').getByText("成功").waitFor();
    expect(await run.locator('[data-test="run-trigger"]').textContent()).toBe("手动 · admin");
    expect(await run.locator('[data-test="run-days"]').textContent()).toBe("1 / 1 天");
    expect(await run.locator('[data-test="run-day-span"]').textContent()).toBe(DAY);
    expect(await run.locator('[data-test="run-rows"]').textContent()).toBe(String(READINGS));
    expect(await run.locator('[data-test="run-bytes"]').textContent()).toMatch(/^\d+(\.\d)? (B|KB)$/);
    expect(await run.locator('[data-test="run-ratio"]').textContent()).toMatch(/^压缩比 \d+(\.\d)? : 1$/);
    expect(await run.locator('[data-test="run-duration"]').textContent()).toMatch(/^\d+ (毫秒|秒)$/);
    expect(await run.locator('[data-test="run-error"]').count()).toBe(0);

    // Archived and freed: the file the issue names is in the server's folder, the rows are gone from the database.
    const [year, month, date] = DAY.split("-");
    expect(existsSync(join(dir, "archive", "archive", year!, month!, `sensor_data_${year}${month}${date}.csv.gz`))).toBe(true);
    expect(await storedOfDay()).toBe(0);
  }, 60_000);

  it("lists what is stored: the day with its readings file", async () => {
    const row = dayRow();
    await row.locator('[data-test="object-kind"][data-kind="sensor_data"]').getByText("读数").waitFor();
    await row.locator('[data-test="restore-day"]').waitFor();
    await admin.locator('[data-test="archive-summary"]').getByText(/^共 1 天，/).waitFor();
  });

  it("restores the day after a confirmation, shows inserted of rows, and a second restore stores nothing twice", async () => {
    await dayRow().locator('[data-test="restore-day"]').click();
    const box = admin.locator(".el-message-box");
    await box.getByText(`把 ${DAY} 的读数从归档恢复到数据库？`).waitFor();
    await box.getByRole("button", { name: "是" }).click();
    const result = admin.locator('[data-test="restore-result"]');
    await result.getByText(`${DAY} 已恢复：归档中共 ${READINGS} 行，新写入 ${READINGS} 行`).waitFor({ timeout: 20_000 });
    expect(await storedOfDay()).toBe(READINGS);
    await screenshot(admin, "settings-archive");

    await dayRow().locator('[data-test="restore-day"]').click();
    await box.getByRole("button", { name: "是" }).click();
    await result.getByText(`${DAY} 已恢复：归档中共 ${READINGS} 行，新写入 0 行`).waitFor({ timeout: 20_000 });
    expect(await storedOfDay()).toBe(READINGS);

    // Nothing is active any more: the page stopped reading the runs when the run ended.
    expect(runReads.filter((at) => at > finishedAt)).toEqual([]);
  }, 60_000);

  it("logged no script errors and no refused resources", () => {
    expect(pageErrors).toEqual([]);
  });
});
