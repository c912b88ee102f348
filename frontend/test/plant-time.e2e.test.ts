import mqtt from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import type { BrowserContext, Page } from "playwright-core";
import type { Alarm } from "@mcs/protocol";
import { screenshot } from "../../test-support/browser.ts";
import { collectPageErrors, pageApi, startEmbeddedSite, type EmbeddedSite } from "../../test-support/embedded-site.ts";
import { beforeAllOrFail } from "../../test-support/suite-setup.ts";
import { plantDateTime } from "../src/lib/plant-time.ts";

const ADMIN_PASSWORD = "Plant-clock-admin-7731";
/** Methane in %LEL (k = 1): level 2 above 50. */
const GAS = "TZ-GAS-01";

/**
 * Issue 15, item 4: one plant time zone. The browser is in America/New_York; every time the
 * overview, the alarm list, the device page and the big screen show for the same alarm is the
 * same wall-clock time in the plant's zone (Asia/Shanghai by default, then the zone set).
 */
describe("the plant's time zone, with the browser in another zone", () => {
  let site: EmbeddedSite;
  let server: EmbeddedSite["server"];
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let client: mqtt.MqttClient | undefined;
  let seq = 0;
  let lastTs = 0;
  const pageErrors: string[] = [];

  beforeAllOrFail(async () => {
    site = await startEmbeddedSite("plant-time", { MCS_ADMIN_PASSWORD: ADMIN_PASSWORD, MCS_DEMO_DEVICES: "0" });
    ({ server, base } = site);
    context = await site.browser.newContext({ viewport: { width: 1600, height: 900 }, locale: "zh-CN", timezoneId: "America/New_York" });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    collectPageErrors(page, pageErrors);
  });

  afterAll(async () => {
    await client?.endAsync(true);
    await site?.stop();
  });

  const api = <T>(method: string, path: string, body?: unknown) => pageApi<T>(page, method, path, body);

  async function publish(vRaw: number): Promise<void> {
    seq += 1;
    lastTs = Math.max(Math.floor(Date.now() / 1000), lastTs + 1);
    await client!.publishAsync(`mcs/${GAS}/up`, JSON.stringify({ ts: lastTs, seq, v_raw: vRaw, temp: 25, humi: 40, bat: 3.9, rssi: -60, err: 0 }), { qos: 1 });
  }

  /** The same alarm's raised time on the four pages, as each shows it. */
  async function shownTimes(): Promise<{ overview: string; alarms: string; device: string; screen: string; zone: string }> {
    await page.goto(`${base}/`);
    const overview = (await page.locator(`[data-test="overview-alarm-row"][data-sn="${GAS}"] [data-test="overview-alarm-time"]`).textContent())!.trim();
    await page.goto(`${base}/alarms`);
    const alarms = (await page.locator(`[data-test="alarm-raised-at"][data-sn="${GAS}"]`).textContent())!.trim();
    const zone = (await page.locator('[data-test="alarm-table"] [data-test="plant-zone"]').first().textContent())!.trim();
    await page.goto(`${base}/devices/${GAS}`);
    await page.getByRole("tab", { name: "报警记录" }).click();
    const device = (await page.locator(`[data-test="alarm-raised-at"][data-sn="${GAS}"]`).textContent())!.trim();
    const screenPage = await context.newPage();
    await screenPage.goto(`${base}/screen`);
    const screen = (await screenPage.locator(`[data-test="alarm-item"][data-sn="${GAS}"] [data-test="alarm-time"]`).textContent())!.trim();
    await screenshot(screenPage, "plant-time-screen");
    await screenPage.close();
    return { overview, alarms, device, screen, zone };
  }

  it("shows one alarm at the same plant wall-clock time everywhere: Asia/Shanghai by default, with the zone named", async () => {
    await page.goto(`${base}/login`);
    await page.locator('input[name="username"]').fill("admin");
    await page.locator('input[name="password"]').fill(ADMIN_PASSWORD);
    await page.locator('[data-test="login-submit"]').click();
    await page.waitForURL(`${base}/`);
    expect(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)).toBe("America/New_York");

    const created = await api<{ mqtt_password: string }>("POST", "/api/devices", { sn: GAS, name: "罐区 甲烷" });
    expect(created.status).toBe(201);
    client = await mqtt.connectAsync(`mqtts://localhost:${server.mqttPort}`, {
      ca: server.ca, username: GAS, password: created.body.mqtt_password, protocolVersion: 4, reconnectPeriod: 0, clientId: GAS,
    });
    const raised = async () => (await api<{ data: Alarm[] }>("GET", "/api/alarms?state=open")).body.data.find((alarm) => alarm.sn === GAS && alarm.type === "HIGH");
    await expect.poll(async () => {
      await publish(62);
      return (await raised())?.level;
    }, { timeout: 15_000, interval: 1000 }).toBe(2);
    const raisedAt = Date.parse((await raised())!.raised_at);

    const shanghai = plantDateTime(raisedAt, "Asia/Shanghai");
    const shown = await shownTimes();
    expect(shown).toEqual({ overview: shanghai, alarms: shanghai, device: shanghai, screen: shanghai.slice(11), zone: "(北京时间 UTC+8)" });
    expect(pageErrors).toEqual([]);
  });

  it("follows the zone set on the settings page", async () => {
    await page.goto(`${base}/settings`);
    const card = page.locator('[data-test="plant-zone-card"]');
    await card.locator('[data-test="plant-zone-current"]').getByText("当前：北京时间 UTC+8").waitFor();
    await card.locator('[data-test="plant-zone-browser"]').getByText("America/New_York").waitFor();
    await card.locator('[data-test="plant-zone-select"]').click();
    await page.locator(".el-select-dropdown__item", { hasText: "Asia/Tokyo (UTC+09:00)" }).click();
    await card.locator('[data-test="plant-zone-save"]').click();
    await page.locator(".el-message--success").getByText("厂区时区已保存：Asia/Tokyo UTC+9").waitFor();
    expect((await api<{ time_zone: string }>("GET", "/api/settings/plant")).body).toEqual({ time_zone: "Asia/Tokyo" });

    const raisedAt = Date.parse((await api<{ data: Alarm[] }>("GET", "/api/alarms?state=open")).body.data.find((alarm) => alarm.sn === GAS)!.raised_at);
    const tokyo = plantDateTime(raisedAt, "Asia/Tokyo");
    expect(await shownTimes()).toEqual({ overview: tokyo, alarms: tokyo, device: tokyo, screen: tokyo.slice(11), zone: "(Asia/Tokyo UTC+9)" });

    // A bad zone is refused by the server, and nothing changes.
    const refused = await api<{ error: { message: string } }>("PUT", "/api/settings/plant", { time_zone: "+08:00" });
    expect(refused.status).toBe(400);
    expect((await api<{ time_zone: string }>("GET", "/api/settings/plant")).body).toEqual({ time_zone: "Asia/Tokyo" });
    expect(pageErrors).toEqual([]);
  });
});
