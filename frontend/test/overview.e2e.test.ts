import mqtt from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import type { BrowserContext, Page } from "playwright-core";
import type { Alarm, Device, Overview } from "@mcs/protocol";
import { screenshot } from "../../test-support/browser.ts";
import { collectPageErrors, pageApi as api, startEmbeddedSite, type EmbeddedSite } from "../../test-support/embedded-site.ts";
import { beforeAllOrFail } from "../../test-support/suite-setup.ts";

const ADMIN_PASSWORD = "Overview-admin-4417";
const OPERATOR_PASSWORD = "Watch-the-plant-5529";
/** Methane in %LEL (k = 1): the preset's level 1 above 25, level 2 above 50. */
const GAS = "OV-GAS-01";
/** Online and normal, but its calibration was due yesterday. */
const CAL = "OV-CAL-01";
/** Never heard from. */
const SILENT = "OV-OFF-01";

/** The plant's date yesterday, YYYY-MM-DD (the server reckons in Asia/Shanghai). */
function yesterdayInShanghai(): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" }).format(Date.now() - 86_400_000);
}

/**
 * Issue 15, item 2: the admin site's home page, on the whole product in one process
 * (`startServer`, embedded mode), in headless Chromium in Chinese. Readings are published over
 * MQTT as the detectors would.
 */
describe("the plant overview: counts, attention, the open alarms acknowledged there, the header's links", () => {
  let site: EmbeddedSite;
  let server: EmbeddedSite["server"];
  let base: string;
  let adminContext: BrowserContext;
  let admin: Page;
  let screenPage: Page;
  const clients: mqtt.MqttClient[] = [];
  const devices = new Map<string, mqtt.MqttClient>();
  const lastTs = new Map<string, number>();
  let seq = 0;
  const pageErrors: string[] = [];

  beforeAllOrFail(async () => {
    site = await startEmbeddedSite("overview", { MCS_ADMIN_PASSWORD: ADMIN_PASSWORD, MCS_DEMO_DEVICES: "0" });
    ({ server, base } = site);
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await site?.stop();
  });

  function watch(page: Page): void {
    page.setDefaultTimeout(10_000);
    collectPageErrors(page, pageErrors);
  }

  async function newContext(): Promise<BrowserContext> {
    return site.browser.newContext({ viewport: { width: 1366, height: 900 }, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
  }

  async function logIn(page: Page, username: string, password: string): Promise<void> {
    await page.goto(`${base}/login`);
    await page.locator('input[name="username"]').fill(username);
    await page.locator('input[name="password"]').fill(password);
    await page.locator('[data-test="login-submit"]').click();
    await page.waitForURL(`${base}/`);
  }

  async function addDevice(payload: Record<string, unknown>): Promise<string> {
    const created = await api<{ mqtt_password: string }>(admin, "POST", "/api/devices", payload);
    expect(created.status).toBe(201);
    return created.body.mqtt_password;
  }

  async function connect(sn: string, password: string): Promise<void> {
    const client = await mqtt.connectAsync(`mqtts://localhost:${server.mqttPort}`, {
      ca: server.ca, username: sn, password, protocolVersion: 4, reconnectPeriod: 0, clientId: sn,
    });
    clients.push(client);
    devices.set(sn, client);
  }

  async function publish(sn: string, vRaw: number): Promise<void> {
    seq += 1;
    const ts = Math.max(Math.floor(Date.now() / 1000), (lastTs.get(sn) ?? 0) + 1);
    lastTs.set(sn, ts);
    await devices.get(sn)!.publishAsync(`mcs/${sn}/up`, JSON.stringify({ ts, seq, v_raw: vRaw, temp: 25, humi: 40, bat: 3.9, rssi: -60, err: 0 }), { qos: 1 });
  }

  const count = (page: Page, key: string) => page.locator(`[data-test="overview-count-${key}"]`).getAttribute("data-count");

  it("lands an admin on the overview, which for an empty plant says to add a device, and never that all is normal", async () => {
    adminContext = await newContext();
    admin = await adminContext.newPage();
    watch(admin);
    await logIn(admin, "admin", ADMIN_PASSWORD);
    expect(await admin.locator("html").getAttribute("lang")).toBe("zh-CN");
    await admin.locator(".el-menu .el-menu-item.is-active").getByText("概览").waitFor();
    await admin.locator('[data-test="overview-counts"]').waitFor();
    expect(await count(admin, "total")).toBe("0");
    const none = admin.locator('[data-test="overview-no-devices"]');
    await none.getByText("还没有接入任何探测器").waitFor();
    await admin.locator('[data-test="overview-summary"][data-state="empty"]').waitFor();
    await admin.locator('[data-test="overview-chart"] [data-test="overview-chart-empty"]').getByText("近 24 小时没有报警").waitFor();
    // The way forward: the device page, with its add button.
    await none.locator('[data-test="overview-add-device"]').click();
    await admin.waitForURL(`${base}/devices`);
    await admin.locator('[data-test="add-device"]').waitFor();
    await admin.locator(".el-menu").getByText("概览").click();
    await admin.waitForURL(`${base}/`);
  });

  it("counts the devices by the state the device list shows, and lists those needing attention with why", async () => {
    const created = await api(admin, "POST", "/api/users", { username: "operator", password: OPERATOR_PASSWORD, role: "operator" });
    expect(created.status).toBe(201);
    await connect(GAS, await addDevice({ sn: GAS, name: "罐区 T-101 甲烷" }));
    await connect(CAL, await addDevice({ sn: CAL, name: "泵房 甲烷", calib_due: yesterdayInShanghai() }));
    await addDevice({ sn: SILENT, name: "装车台 甲烷" });
    await publish(GAS, 5);
    await publish(CAL, 3);

    await expect.poll(() => count(admin, "normal"), { timeout: 10_000 }).toBe("2");
    expect(await count(admin, "total")).toBe("3");
    expect(await count(admin, "offline")).toBe("1");
    for (const key of ["alarm2", "alarm1", "fault", "maintenance", "not_configured"]) expect(await count(admin, key), key).toBe("0");
    // The same devices, by GET /api/devices.
    const list = (await api<{ data: Device[] }>(admin, "GET", "/api/devices")).body.data;
    expect(list.map((device) => [device.sn, device.status]).sort()).toEqual([[CAL, "online"], [GAS, "online"], [SILENT, "offline"]]);

    const attention = admin.locator('[data-test="overview-attention"]');
    await attention.locator(`[data-test="overview-attention-row"][data-sn="${SILENT}"] [data-test="overview-reason-offline"]`).getByText("从未上线").waitFor();
    await attention.locator(`[data-test="overview-attention-row"][data-sn="${CAL}"] [data-test="overview-reason-calibration_overdue"]`).getByText("校准已逾期 1 天").waitFor();
    expect(await attention.locator(`[data-test="overview-attention-row"][data-sn="${GAS}"]`).count()).toBe(0);
    // Some devices need attention: not "all normal", though no alarm is open.
    await admin.locator('[data-test="overview-open-alarms"] [data-test="overview-no-alarms"]').getByText("当前无未处理报警", { exact: true }).waitFor();
    await admin.locator('[data-test="overview-summary"][data-state="attention"]').waitFor();

    await attention.locator(`[data-test="overview-attention-link-${CAL}"]`).click();
    await admin.waitForURL(`${base}/devices/${CAL}`);
    await admin.goBack();
    await admin.waitForURL(`${base}/`);

    // A tile opens the device list filtered by its state.
    await admin.locator('[data-test="overview-count-offline"]').click();
    await admin.waitForURL(`${base}/devices?status=offline`);
    await admin.locator(`[data-test="device-link-${SILENT}"]`).waitFor();
    expect(await admin.locator(`[data-test="device-link-${GAS}"]`).count()).toBe(0);
    await admin.locator(".el-menu").getByText("概览").click();
    await admin.waitForURL(`${base}/`);
  });

  it("links the header to the big screen (a window of its own), the API docs (a tab) and the analysis page", async () => {
    const screenLink = admin.locator('[data-test="nav-screen"]');
    expect(await screenLink.getAttribute("href")).toBe("/screen");
    expect(await screenLink.getAttribute("target")).toBe("_blank");
    const docs = admin.locator('[data-test="nav-api-docs"]');
    expect(await docs.getAttribute("href")).toBe("/api/docs");
    expect(await docs.getAttribute("target")).toBe("_blank");
    expect((await fetch(`${base}/api/docs`)).status).toBe(200);
    await admin.locator(".el-menu").getByText("离线分析").waitFor();

    [screenPage] = await Promise.all([adminContext.waitForEvent("page"), screenLink.click()]);
    watch(screenPage);
    await screenPage.waitForURL(`${base}/screen`);
    await screenPage.locator('[data-test="connection-state"][data-state="live"]').waitFor();
  });

  it("shows a gas alarm at once in the open list, acknowledges it there, and the big screen shows it acknowledged", async () => {
    // Level 2 (> 50 %LEL): published until the alarm is raised.
    const raised = async () => (await api<{ data: Alarm[] }>(admin, "GET", "/api/alarms?state=open")).body.data.find((alarm) => alarm.sn === GAS && alarm.type === "HIGH");
    await expect.poll(async () => {
      await publish(GAS, 62);
      return (await raised())?.level;
    }, { timeout: 15_000, interval: 1000 }).toBe(2);

    const row = admin.locator(`[data-test="overview-alarm-row"][data-sn="${GAS}"][data-type="HIGH"]`);
    await row.and(admin.locator('[data-state="unacked"]')).waitFor();
    // The plant's wall-clock time (Asia/Shanghai, as the browser here).
    const plantTime = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }).format(new Date((await raised())!.raised_at));
    expect(await row.locator('[data-test="overview-alarm-time"]').textContent()).toContain(plantTime);
    await expect.poll(() => count(admin, "alarm2"), { timeout: 10_000 }).toBe("1");
    await admin.locator('[data-test="overview-summary"][data-state="attention"]').waitFor();
    await expect.poll(() => admin.locator('[data-test="overview-chart-canvas"]').getAttribute("data-total"), { timeout: 10_000 }).toBe("1");
    await screenPage.locator(`[data-test="alarm-item"][data-sn="${GAS}"][data-state="unacked"]`).waitFor();
    await screenshot(admin, "overview-alarm");

    await row.locator('[data-test="overview-ack"]').click();
    const dialog = admin.locator('[data-test="alarm-answer-dialog"]');
    await dialog.locator("textarea").fill("已通知现场巡检，正在排查");
    await dialog.locator('[data-test="alarm-answer-send"]').click();
    await dialog.waitFor({ state: "hidden" });
    await row.and(admin.locator('[data-state="acked"]')).waitFor();
    expect(await row.locator('[data-test="overview-ack"]').count()).toBe(0);
    expect(await raised()).toMatchObject({ state: "acked", acked_by: "admin", ack_comment: "已通知现场巡检，正在排查" });
    await screenPage.locator(`[data-test="alarm-item"][data-sn="${GAS}"][data-state="acked"]`).waitFor({ timeout: 5000 });
  });

  it("follows an acknowledgement made elsewhere (an operator's, in another browser) without a reload", async () => {
    await publish(GAS, 5);
    await publish(CAL, 70);
    const context = await newContext();
    const operator = await context.newPage();
    watch(operator);
    await logIn(operator, "operator", OPERATOR_PASSWORD);
    expect(await operator.locator('[data-test="nav-kiosk-link"]').count()).toBe(0);
    expect(await operator.locator('[data-test="nav-screen"]').getAttribute("href")).toBe("/screen");
    const row = operator.locator(`[data-test="overview-alarm-row"][data-sn="${CAL}"][data-state="unacked"]`);
    for (let i = 0; i < 10 && !(await row.count()); i++) {
      await publish(CAL, 70);
      await operator.waitForTimeout(1000);
    }
    await row.waitFor();
    await admin.locator(`[data-test="overview-alarm-row"][data-sn="${CAL}"][data-state="unacked"]`).waitFor();
    await row.locator('[data-test="overview-ack"]').click();
    await operator.locator('[data-test="alarm-answer-dialog"] [data-test="alarm-answer-send"]').click();
    // The admin's overview, untouched: the alarm event brings it within the poll.
    await admin.locator(`[data-test="overview-alarm-row"][data-sn="${CAL}"][data-state="acked"]`).waitFor({ timeout: 7000 });
    await context.close();
  });

  it("lets an admin make a kiosk link for a wall screen, which opens the screen without a login, and revoke it", async () => {
    await admin.locator('[data-test="nav-kiosk-link"]').click();
    const dialog = admin.locator('[data-test="kiosk-dialog"]');
    await dialog.locator('[data-test="kiosk-create"]').click();
    await dialog.getByText("请填写大屏名称").waitFor();
    await dialog.locator('[data-test="kiosk-name"]').fill("中控室大屏");
    await dialog.locator('[data-test="kiosk-create"]').click();
    const url = await dialog.locator('[data-test="kiosk-url"]').inputValue();
    expect(url).toMatch(new RegExp(`^${base}/screen\\?token=mcsk_[A-Za-z0-9_-]{43}$`));
    await dialog.locator('[data-test="kiosk-tokens"]').getByText("中控室大屏").waitFor();

    // A fresh browser, no session: the link alone opens the screen.
    const kiosk = await newContext();
    const wall = await kiosk.newPage();
    watch(wall);
    await wall.goto(url);
    await wall.locator('[data-test="connection-state"][data-state="live"]').waitFor();
    await wall.locator(`[data-test="alarm-item"][data-sn="${CAL}"][data-state="acked"]`).waitFor();

    const id = (await api<{ data: { id: number; name: string }[] }>(admin, "GET", "/api/kiosk-tokens")).body.data.find((token) => token.name === "中控室大屏")!.id;
    await dialog.locator(`[data-test="kiosk-revoke-${id}"]`).click();
    await admin.locator(".el-message-box").getByRole("button", { name: "是" }).click();
    await dialog.locator('[data-test="kiosk-tokens"]').getByText("已吊销").waitFor();
    await wall.locator('[data-test="screen-denied"]').waitFor({ timeout: 5000 });
    await kiosk.close();
    await admin.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
  });

  it("says in red that it cannot tell when the overview cannot be loaded, and recovers", async () => {
    await admin.route("**/api/overview", (route) => route.fulfill({ status: 503, contentType: "application/json", body: JSON.stringify({ error: { code: "MCS_ERR_UNAVAILABLE", message: "database unreachable" } }) }));
    await admin.locator('[data-test="overview-error"]').getByText("概览数据无法加载").waitFor({ timeout: 8000 });
    await admin.locator('[data-test="overview-summary"][data-state="unknown"]').waitFor();
    expect(await admin.locator('[data-test="overview-summary"][data-state="normal"]').count()).toBe(0);
    await admin.unroute("**/api/overview");
    await admin.locator('[data-test="overview-error"]').waitFor({ state: "detached", timeout: 8000 });
    const overview = (await api<Overview>(admin, "GET", "/api/overview")).body;
    expect(overview.counts.total).toBe(3);
  });

  it("logged no script errors", async () => {
    await adminContext.close();
    expect(pageErrors).toEqual([]);
  });
});
