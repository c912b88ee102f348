import { mkdtempSync, rmSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { loadConfig } from "@mcs/platform";
import type { Alarm, Floorplan, Trend } from "@mcs/protocol";
import { startServer, type Server } from "../../server/src/server.ts";
import { launchBrowser, screenshot, requireBuiltSite } from "../../test-support/browser.ts";
import { beforeAllOrFail } from "../../test-support/suite-setup.ts";
import { shortTime } from "../src/pages/screen/time.ts";

const ADMIN_PASSWORD = "Big-screen-admin-6001";
const OPERATOR_PASSWORD = "Watch-the-screen-6002";
const SN = "SCR-CH4-01";
/** A second device on no plan: it shows in the compact grid. */
const LOOSE_SN = "SCR-H2S-02";
/** A gas without a preset, registered as monitor only (no alarm limits, by choice). */
const MONITOR_SN = "SCR-MON-03";
/** CH4 in %LEL (GB/T 50493): level 1 above 25, level 2 above 50. */
const LIMITS = { high_limit: 25, high_limit_2: 50 };
const VIEWPORT = { width: 1920, height: 1080 };

/** A 1600×900 plant drawing: site boundary, tank farm, process unit, a road. */
const DRAWING = Buffer.from(
  `<svg xmlns="http://www.w3.org/2000/svg" width="1600" height="900" viewBox="0 0 1600 900">
  <rect width="1600" height="900" fill="#eef2f7"/>
  <rect x="30" y="30" width="1540" height="840" fill="none" stroke="#3a5a80" stroke-width="6"/>
  <circle cx="420" cy="420" r="150" fill="#dfe8f3" stroke="#3a5a80" stroke-width="4"/>
  <circle cx="760" cy="420" r="120" fill="#dfe8f3" stroke="#3a5a80" stroke-width="4"/>
  <rect x="1050" y="200" width="420" height="380" fill="#e5e0f0" stroke="#5a4a80" stroke-width="4"/>
  <rect x="30" y="720" width="1540" height="50" fill="#cfd4db"/>
  <text x="420" y="428" font-size="36" text-anchor="middle" fill="#3a5a80">T-101</text>
  <text x="760" y="428" font-size="36" text-anchor="middle" fill="#3a5a80">T-102</text>
  <text x="1260" y="400" font-size="36" text-anchor="middle" fill="#5a4a80">Unit 200</text>
</svg>`,
);

/**
 * Issue 6's acceptance for the big screen, on the whole product in one process (embedded
 * mode: PGlite, the in-process broker over TLS, the worker, the backend serving the built
 * frontend), in headless Chromium at 1920×1080 in Chinese: readings go the real MQTT path.
 */
describe("the big screen (issue 6): the plant live on a control-room TV", () => {
  let server: Server;
  let dir: string;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let adminToken: string;
  let kioskToken: string;
  let kioskId: number;
  let mqttPassword: string;
  let device: mqtt.MqttClient;
  let seq = 0;
  let lastTs = 0;
  const pageErrors: string[] = [];
  /** Every TCP connection of the HTTP listener, upgraded WebSockets included: cut them to simulate a lost backend. */
  const sockets = new Set<Socket>();

  beforeAllOrFail(async () => {
    requireBuiltSite();
    dir = mkdtempSync(join(tmpdir(), "mcs-screen-"));
    [server, browser] = await Promise.all([
      startServer(loadConfig({
        MCS_DATA_DIR: dir, HTTP_PORT: "0", HTTP_HOST: "127.0.0.1", MQTT_TLS_PORT: "0", HTTPS_PORT: "0",
        MCS_ADMIN_PASSWORD: ADMIN_PASSWORD, MCS_DEMO_DEVICES: "0",
      })),
      launchBrowser(),
    ]);
    base = `http://127.0.0.1:${server.httpPort}`;
    server.app.server.on("connection", (socket: Socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    });
    const login = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: ADMIN_PASSWORD }) });
    adminToken = ((await login.json()) as { token: string }).token;
  });

  afterAll(async () => {
    await device?.endAsync(true);
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The API as an admin script calls it (Bearer: no CSRF token needed). */
  async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const multipart = body instanceof FormData;
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined || multipart ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : multipart ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
  }

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: VIEWPORT, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      const text = message.text();
      // A refused connection while the backend is away is what the loss test makes happen.
      if (message.type() === "error" && !text.startsWith("Failed to load resource") && !text.includes("WebSocket connection to")) pageErrors.push(text);
    });
    return { context, page };
  }

  async function publishReading(vRaw: number): Promise<number> {
    seq += 1;
    const ts = Math.max(Math.floor(Date.now() / 1000), lastTs + 1);
    lastTs = ts;
    await device.publishAsync(`mcs/${SN}/up`, JSON.stringify({ ts, seq, v_raw: vRaw, temp: 25, humi: 40, bat: 3.9, rssi: -60, err: 0 }), { qos: 1 });
    return Date.now();
  }

  const marker = (sn = SN) => page.locator(`[data-test="marker-${sn}"]`);

  /** The HTTP listener stops and every connection is cut: to a screen, the backend is gone (the worker keeps ingesting). */
  async function stopListening(): Promise<void> {
    const closed = new Promise<void>((resolve) => server.app.server.close(() => resolve()));
    server.app.server.closeAllConnections();
    for (const socket of sockets) socket.destroy();
    await closed;
  }

  async function listenAgain(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      server.app.server.once("error", reject);
      server.app.server.listen(port, "127.0.0.1", () => {
        server.app.server.off("error", reject);
        resolve();
      });
    });
  }

  it("sets the plant up through the API: a CH4 detector with level 1/2 limits placed on an uploaded plan, another on none, and a kiosk token", async () => {
    const created = await api<{ mqtt_password: string }>("POST", "/api/devices", {
      sn: SN, name: "罐区 T-101 甲烷", gas: "CH4", unit: "%LEL", k: 1, b: 0, ...LIMITS,
      deadband: 1, on_delay_samples: 1, off_delay_samples: 1, latching: false, report_interval_s: 600,
    });
    expect(created.status).toBe(201);
    mqttPassword = created.body.mqtt_password;
    expect((await api("POST", "/api/devices", { sn: LOOSE_SN, name: "装置区 硫化氢", gas: "H2S", unit: "ppm", high_limit: 7, high_limit_2: 14 })).status).toBe(201);

    const form = new FormData();
    form.append("name", "罐区");
    form.append("file", new Blob([DRAWING], { type: "image/svg+xml" }), "tank-farm.svg");
    const plan = await api<Floorplan>("POST", "/api/floorplans", form);
    expect(plan.status).toBe(201);
    expect((await api<Floorplan>("PUT", `/api/floorplans/${plan.body.id}/devices`, { devices: [{ sn: SN, x: 26, y: 47 }] })).status).toBe(200);

    const kiosk = await api<{ id: number; token: string }>("POST", "/api/kiosk-tokens", { name: "中控室大屏" });
    expect(kiosk.status).toBe(201);
    ({ token: kioskToken, id: kioskId } = kiosk.body);
    expect((await api("POST", "/api/users", { username: "operator", password: OPERATOR_PASSWORD, role: "operator" })).status).toBe(201);
  });

  it("opens /screen?token=… as a kiosk: the token leaves the address bar, the feed goes live, no acknowledge button", async () => {
    ({ context, page } = await newPage());
    await page.goto(`${base}/screen?token=${encodeURIComponent(kioskToken)}`);
    await page.locator('[data-test="connection-state"][data-state="live"]').waitFor();
    expect(new URL(page.url()).pathname).toBe("/screen");
    expect(page.url()).not.toContain("token");
    expect(await page.evaluate(() => sessionStorage.getItem("mcs.screen.token"))).toBe(kioskToken);
    expect(await page.locator("html").getAttribute("lang")).toBe("zh-CN");
    await page.locator('[data-test="screen-title"]').getByText("气体监测中控大屏").waitFor();
    // The plan, its drawing, and the device on no plan in the grid below.
    await page.locator('[data-test="plan-image"]').evaluate((image: HTMLImageElement) => image.decode());
    await marker().waitFor();
    await page.locator(`[data-test="tile-${LOOSE_SN}"]`).waitFor();
    await page.locator('[data-test="alarm-empty"]').getByText("当前无报警").waitFor();
    expect(await page.locator('[data-test="count-total"]').textContent()).toBe("2");
    // The sound prompt (browsers block audio until a click): the operator clicks it once.
    const enable = page.locator('[data-test="enable-sound"]');
    if (await enable.isVisible()) await enable.click();
    await page.locator('[data-test="silence"]').waitFor();
  });

  it("shows a normal reading published over MQTT TLS as a green icon with its ppm", async () => {
    device = await mqtt.connectAsync(`mqtts://localhost:${server.mqttPort}`, {
      ca: server.ca, username: SN, password: mqttPassword, protocolVersion: 4, reconnectPeriod: 0, clientId: SN,
    });
    await publishReading(12.5); // k = 1, b = 0: 12.5 %LEL
    await page.locator(`[data-test="marker-${SN}"][data-look="normal"] [data-test="ppm"]`).getByText("12.5", { exact: true }).waitFor();
    await marker().getByText("%LEL").waitFor();
    expect(await page.locator('[data-test="count-online"]').textContent()).toBe("1");
    expect(await page.locator('[data-test="count-alarm"]').textContent()).toBe("0");
    expect(await marker().locator('[data-test="ripple"]').count()).toBe(0);
    const pin = await marker().locator(".pin").evaluate((element) => getComputedStyle(element).backgroundColor);
    expect(pin).toBe("rgb(34, 197, 94)"); // green
    await screenshot(page, "screen-normal");
  });

  it("turns the icon red with a ripple within 2 s of a level 2 reading, puts the alarm on top of the list and counts it", async () => {
    const published = await publishReading(63); // > high_limit_2 (50)
    await page.locator(`[data-test="marker-${SN}"][data-look="alarm2"]`).waitFor({ timeout: 2000 });
    const item = page.locator('[data-test="alarm-item"]').first();
    await item.and(page.locator(`[data-sn="${SN}"]`)).waitFor({ timeout: 2000 });
    await page.locator('[data-test="count-alarm"]').getByText("1", { exact: true }).waitFor({ timeout: 2000 });
    const elapsed = Date.now() - published;
    expect(elapsed).toBeLessThan(2000);

    // The ripple: rings expanding from the pin in red, animated at least once a second, for ever.
    const rings = marker().locator('[data-test="ripple"] i');
    expect(await rings.count()).toBeGreaterThanOrEqual(2);
    const ring = await rings.first().evaluate((element) => {
      const style = getComputedStyle(element);
      return {
        name: style.animationName, duration: Number.parseFloat(style.animationDuration), iterations: style.animationIterationCount,
        colour: style.borderTopColor, running: element.getAnimations().some((animation) => animation.playState === "running"),
      };
    });
    expect(ring.name).toMatch(/ripple/);
    expect(ring.duration).toBeLessThanOrEqual(1);
    expect(ring.iterations).toBe("infinite");
    expect(ring.running).toBe(true);
    expect(ring.colour).toBe("rgb(255, 45, 45)");
    await marker().locator('[data-test="ppm"]').getByText("63", { exact: true }).waitFor();

    // The list: level 2, 高报, the first alarm (首警), its value with the unit, red while unanswered.
    await item.getByText("2 级").waitFor();
    await item.getByText("高报").waitFor();
    await item.locator('[data-test="first-badge"]').getByText("首警").waitFor();
    await item.locator('[data-test="alarm-value"]').getByText("63 %LEL").waitFor();
    expect(await item.getAttribute("data-state")).toBe("unacked");
    expect(await item.locator('[data-test="ack-alarm"]').count()).toBe(0); // a kiosk only looks
    await page.locator('[data-test="first-alarm"]').getByText("罐区 T-101 甲烷").waitFor();

    // A new alarm sounds the tone (Web Audio); silence stops it until the next new alarm.
    await page.locator('[data-test="silence"][data-playing="true"]').waitFor();
    await page.waitForTimeout(300); // the ripple mid-way for the picture
    await screenshot(page, "screen-alarm");
    await page.locator('[data-test="silence"]').click();
    await page.locator('[data-test="resound"]').waitFor();
  });

  it("scales the same screen to 1366×768 and 3840×2160: everything on screen, nothing cut off", async () => {
    for (const size of [{ width: 1366, height: 768 }, { width: 3840, height: 2160 }]) {
      await page.setViewportSize(size);
      await page.waitForTimeout(200);
      for (const selector of ['[data-test="clock"]', '[data-test="count-alarm"]', '[data-test="silence"], [data-test="resound"]', '[data-test="alarm-item"]', '[data-test="plan-stage"]', `[data-test="marker-${SN}"]`, `[data-test="tile-${LOOSE_SN}"]`]) {
        const box = (await page.locator(selector).first().boundingBox())!;
        expect(box, selector).not.toBeNull();
        expect(box.x, selector).toBeGreaterThanOrEqual(0);
        expect(box.y, selector).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width, selector).toBeLessThanOrEqual(size.width + 0.5);
        expect(box.y + box.height, selector).toBeLessThanOrEqual(size.height + 0.5);
      }
      // 1 rem follows the viewport: 16 px at 1920×1080.
      const rem = await page.evaluate(() => Number.parseFloat(getComputedStyle(document.documentElement).fontSize));
      expect(rem).toBeCloseTo((16 * size.width) / 1920, 0);
      await screenshot(page, `screen-alarm-${size.width}x${size.height}`);
    }
    await page.setViewportSize(VIEWPORT);
  });

  it("back to normal: the condition clears as the alarm model says (icon no longer red), the alarm stays as cleared-unacknowledged", async () => {
    await publishReading(6);
    await page.locator(`[data-test="marker-${SN}"][data-look="normal"]`).waitFor({ timeout: 3000 });
    await marker().locator('[data-test="ppm"]').getByText("6", { exact: true }).waitFor();
    expect(await marker().locator('[data-test="ripple"]').count()).toBe(0);
    await page.locator('[data-test="count-alarm"]').getByText("0", { exact: true }).waitFor();
    const item = page.locator(`[data-test="alarm-item"][data-sn="${SN}"]`);
    await item.and(page.locator('[data-state="cleared_unacked"]')).waitFor();
    await item.getByText("已消失未确认").waitFor();
    expect(await page.locator('[data-test="alarm-item"]').count()).toBe(1);
  });

  it("opens the device's trend on a click: the last hour with the alarm limits, and 24 h as a band", async () => {
    const hour = page.waitForResponse((response) => response.url().includes(`/api/devices/${SN}/trend?range=1h`));
    await marker().click();
    const answer = await hour;
    expect(answer.status()).toBe(200);
    const trend = (await answer.json()) as Trend;
    expect(trend.limits).toMatchObject(LIMITS);
    expect(trend.data.map((point) => point.avg)).toEqual([12.5, 63, 6]);
    const dialog = page.locator('[data-test="trend-dialog"]');
    await dialog.getByText("罐区 T-101 甲烷（SCR-CH4-01）趋势").waitFor();
    await dialog.locator('[data-test="trend-chart"] canvas').waitFor();
    await screenshot(page, "screen-trend");
    const day = page.waitForResponse((response) => response.url().includes(`/api/devices/${SN}/trend?range=24h`));
    await dialog.locator('[data-test="trend-range-24h"]').click();
    expect((await day).status()).toBe(200);
    await dialog.locator('[data-test="trend-close"]').click();
    await dialog.waitFor({ state: "detached" });
  });

  it("marks a device in maintenance (inhibited) with a wrench, and names it in the maintenance strip", async () => {
    expect((await api("POST", `/api/devices/${LOOSE_SN}/inhibit`, { minutes: 30, reason: "更换传感器" })).status).toBe(200);
    const tile = page.locator(`[data-test="tile-${LOOSE_SN}"][data-inhibited="true"]`);
    await tile.locator('[data-test="inhibited-badge"]').waitFor({ timeout: 3000 });
    await page.locator('[data-test="inhibited-strip"]').getByText("装置区 硫化氢").waitFor();
    await page.locator('[data-test="count-inhibited"]').getByText("1", { exact: true }).waitFor();
  });

  it("lets a logged-in operator acknowledge from the screen: the alarm leaves every screen", async () => {
    const { context: operatorContext, page: operator } = await newPage();
    try {
      await operator.goto(`${base}/screen`);
      await operator.waitForURL(/\/login\?redirect=(%2F|\/)screen$/);
      await operator.locator('input[name="username"]').fill("operator");
      await operator.locator('input[name="password"]').fill(OPERATOR_PASSWORD);
      await operator.locator('[data-test="login-submit"]').click();
      await operator.waitForURL(`${base}/screen`);
      const item = operator.locator(`[data-test="alarm-item"][data-sn="${SN}"]`);
      await item.locator('[data-test="ack-alarm"]').click();
      await operator.locator('[data-test="ack-comment"]').fill("已通知现场人员复查");
      const acked = operator.waitForResponse((response) => /\/api\/alarms\/\d+\/ack$/.test(response.url()));
      await operator.locator('[data-test="ack-submit"]').click();
      const response = await acked;
      expect(response.status()).toBe(200);
      expect(((await response.json()) as Alarm).state).toBe("closed");
      await item.waitFor({ state: "detached" });
      // The kiosk hears it over its WebSocket.
      await page.locator(`[data-test="alarm-item"][data-sn="${SN}"]`).waitFor({ state: "detached", timeout: 3000 });
      await page.locator('[data-test="alarm-empty"]').waitFor();
    } finally {
      await operatorContext.close();
    }
  });

  it("draws a monitor-only device yellow with 未配置, never green, and shows an alarm found in a late backlog as 补报 at the reading's time", async () => {
    const created = await api<{ mqtt_password: string }>("POST", "/api/devices", {
      sn: MONITOR_SN, name: "试验区 乙烯", gas: "C2H4", unit: "%LEL", monitor_only: true, monitor_reason: "试用传感器，报警限值待定", report_interval_s: 600,
    });
    expect(created.status).toBe(201);
    const monitor = await mqtt.connectAsync(`mqtts://localhost:${server.mqttPort}`, {
      ca: server.ca, username: MONITOR_SN, password: created.body.mqtt_password, protocolVersion: 4, reconnectPeriod: 0, clientId: MONITOR_SN,
    });
    try {
      // A normal value: with limits it would be green; without, it is "not configured".
      await monitor.publishAsync(`mcs/${MONITOR_SN}/up`, JSON.stringify({ ts: Math.floor(Date.now() / 1000), seq: 1, v_raw: 3, temp: 25, humi: 40, bat: 3.9, rssi: -60, err: 0 }), { qos: 1 });
      const tile = page.locator(`[data-test="tile-${MONITOR_SN}"][data-monitor-only="true"]`);
      await tile.waitFor({ timeout: 5000 });
      await tile.locator('[data-test="not-configured"]').getByText("未配置").waitFor();
      expect(await tile.getAttribute("data-look")).toBe("fault");
      // The fault look flashes slowly (dark every other beat): its colour, read with the flashing held at its start.
      const pin = await tile.locator(".pin").evaluate((element) => {
        for (const animation of element.getAnimations()) {
          animation.pause();
          animation.currentTime = 0;
        }
        return getComputedStyle(element).backgroundColor;
      });
      expect(pin).toBe("rgb(255, 214, 10)"); // yellow, not green (rgb(34, 197, 94))
      expect(await tile.getAttribute("title")).toContain("仅监测，未设报警限值：试用传感器，报警限值待定");
      await tile.click();
      const trend = page.locator('[data-test="trend-dialog"]');
      await trend.locator('[data-test="trend-not-configured"]').getByText("未配置").waitFor();
      await trend.locator('[data-test="trend-close"]').click();
      await trend.waitFor({ state: "detached" });
    } finally {
      await monitor.endAsync(true);
    }

    // The CH4 detector's backlog, sent after its live data: a level 2 leak ten minutes ago, over since.
    const start = Math.floor(Date.now() / 1000) - 600;
    const values = [30, 40, 55, 40, 30];
    const backlog = Array.from({ length: 20 }, (_, i) => ({ ts: start + i * 10, seq: 1000 + i, v_raw: values[i - 5] ?? 1, temp: 25, humi: 40, bat: 3.9, rssi: -60, err: 0 }));
    await device.publishAsync(`mcs/${SN}/up`, JSON.stringify(backlog), { qos: 1 });
    const item = page.locator(`[data-test="alarm-item"][data-sn="${SN}"][data-late="true"]`);
    await item.waitFor({ timeout: 5000 });
    const raisedAt = new Date((start + 50) * 1000).toISOString();
    const alarms = (await api<{ data: Alarm[] }>("GET", `/api/alarms?sn=${SN}&state=open`)).body.data;
    expect(alarms).toEqual([expect.objectContaining({ type: "HIGH", late: true, raised_at: raisedAt, ppm: 30, peak_ppm: 55, state: "cleared_unacked" })]);

    await item.locator('[data-test="late-badge"]').getByText("补报").waitFor();
    // The reading's time, not now; when it arrived in the badge's title.
    expect(await item.locator('[data-test="alarm-time"]').textContent()).toBe(shortTime(raisedAt, Date.now()));
    expect(await item.locator('[data-test="late-badge"]').getAttribute("title")).toBe(`补报：读数时间 ${shortTime(raisedAt, Date.now())}，收到于 ${shortTime(alarms[0]!.received_at, Date.now())}`);
    await item.locator('[data-test="alarm-value"]').getByText("30 %LEL").waitFor();
    await item.getByText("峰值 55 %LEL").waitFor();
    await item.getByText("已消失未确认").waitFor();
    // Now is still what the newest reading says: the icon stays as it was (not red for a leak that is over).
    expect(await marker().getAttribute("data-look")).toBe("normal");
    await screenshot(page, "screen-late-and-not-configured");
  });

  it("shows the lost-connection banner within seconds when the backend goes away, and resynchronises without a reload when it is back", async () => {
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    const port = server.httpPort;
    const lostAt = Date.now();
    await stopListening();

    const banner = page.locator('[data-test="connection-banner"]');
    await banner.waitFor({ timeout: 6000 });
    expect(Date.now() - lostAt).toBeLessThan(6000);
    await banner.getByText("与服务器的连接已中断 — 显示的数据可能已过时 · 正在重连…").waitFor();
    await banner.locator('[data-test="banner-age"]').getByText(/距上次更新 \d+ 秒/).waitFor();
    expect(await page.locator('[data-test="screen"]').getAttribute("class")).toContain("stale");
    const animation = await banner.evaluate((element) => getComputedStyle(element).animationName);
    expect(animation).not.toBe("none"); // it flashes
    await screenshot(page, "screen-connection-lost");

    // A reading while the screen is cut off: the worker stores it; the screen must show it after.
    await publishReading(17.5);
    await page.waitForTimeout(1000);
    await listenAgain(port);

    await page.locator('[data-test="connection-state"][data-state="live"]').waitFor({ timeout: 20_000 });
    await banner.waitFor({ state: "detached" });
    await page.locator(`[data-test="marker-${SN}"][data-look="normal"] [data-test="ppm"]`).getByText("17.5", { exact: true }).waitFor({ timeout: 3000 });
    expect(await page.locator('[data-test="screen"]').getAttribute("class")).not.toContain("stale");
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 45_000);

  it("ends the screen with a clear notice when an admin revokes its kiosk token, and does not retry", async () => {
    expect((await api("DELETE", `/api/kiosk-tokens/${kioskId}`)).status).toBe(204);
    await page.locator('[data-test="screen-denied"]').getByText("此大屏的访问令牌无效或已被撤销").waitFor({ timeout: 5000 });
    expect(await page.locator('[data-test="connection-state"]').getAttribute("data-state")).toBe("denied");
    // Denied is final: no banner pretending a retry will help.
    expect(await page.locator('[data-test="connection-banner"]').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
