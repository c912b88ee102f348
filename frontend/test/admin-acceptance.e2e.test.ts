import mqtt from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import type { BrowserContext, Page } from "playwright-core";
import type { Device, Floorplan } from "@mcs/protocol";
import { screenshot } from "../../test-support/browser.ts";
import { collectPageErrors, pageApi as api, startEmbeddedSite, type EmbeddedSite } from "../../test-support/embedded-site.ts";
import { beforeAllOrFail } from "../../test-support/suite-setup.ts";

const ADMIN_PASSWORD = "Acceptance-admin-2301";
const OPERATOR_PASSWORD = "Watch-the-plant-7731";
const SN = "ACC-CH4-01";
/** Where the device is dropped: per cent of the drawing's width and height. */
const DROP = { x: 30, y: 60 };

/** An 800×500 plant drawing: a site boundary, two tanks, a road. */
const DRAWING = Buffer.from(
  `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="500" viewBox="0 0 800 500">
  <rect width="800" height="500" fill="#f7f9fc"/>
  <rect x="20" y="20" width="760" height="460" fill="none" stroke="#3a5a80" stroke-width="4"/>
  <circle cx="240" cy="300" r="90" fill="#dfe8f3" stroke="#3a5a80" stroke-width="3"/>
  <circle cx="560" cy="200" r="70" fill="#dfe8f3" stroke="#3a5a80" stroke-width="3"/>
  <rect x="20" y="400" width="760" height="30" fill="#d0d4da"/>
  <text x="240" y="305" font-size="22" text-anchor="middle" fill="#3a5a80">T-101</text>
  <text x="560" y="205" font-size="22" text-anchor="middle" fill="#3a5a80">T-102</text>
</svg>`,
);

/**
 * Issue 5's acceptance, on the whole product in one process (`startServer` in embedded
 * mode: PGlite, the in-process broker over TLS, the worker, the backend serving the built
 * admin site) driven through headless Chromium in Chinese.
 */
describe("admin site acceptance: the whole stack, in a real browser", () => {
  let site: EmbeddedSite;
  let server: EmbeddedSite["server"];
  let base: string;
  let admin: Page;
  let adminContext: BrowserContext;
  let mqttPassword: string;
  let device: mqtt.MqttClient;
  let seq = 0;
  let lastTs = 0;
  const pageErrors: string[] = [];

  beforeAllOrFail(async () => {
    site = await startEmbeddedSite("admin-acceptance", { MCS_ADMIN_PASSWORD: ADMIN_PASSWORD, MCS_DEMO_DEVICES: "0" });
    ({ server, base } = site);
  });

  afterAll(async () => {
    await device?.endAsync(true);
    await site?.stop();
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await site.browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    collectPageErrors(page, pageErrors);
    return { context, page };
  }

  async function logIn(page: Page, username: string, password: string): Promise<void> {
    await page.goto(`${base}/login`);
    await page.locator('input[name="username"]').fill(username);
    await page.locator('input[name="password"]').fill(password);
    await page.locator('[data-test="login-submit"]').click();
    // Everyone lands on the plant overview; the device list is one menu entry away.
    await page.waitForURL(`${base}/`);
    await page.locator('[data-test="overview-counts"]').waitFor();
    await page.locator(".el-menu").getByText("设备管理").click();
    await page.waitForURL(`${base}/devices`);
  }

  async function publishReading(vRaw: number): Promise<number> {
    seq += 1;
    // One reading per second at most, in order: "the next reading" is the newest.
    const ts = Math.max(Math.floor(Date.now() / 1000), lastTs + 1);
    lastTs = ts;
    await device.publishAsync(`mcs/${SN}/up`, JSON.stringify({ ts, seq, v_raw: vRaw, temp: 25, humi: 40, bat: 3.9, rssi: -60, err: 0 }), { qos: 1 });
    return seq;
  }

  /** The device's stored readings, oldest first. */
  async function readings(): Promise<{ ts: number; ppm: number; v_raw: number }[]> {
    return (await api<{ data: { ts: number; ppm: number; v_raw: number }[] }>(admin, "GET", `/api/devices/${SN}/telemetry`)).body.data;
  }

  /** The centre of the device's icon on the plan, and of the drawing's box. */
  async function iconOnPlan(page: Page): Promise<{ x: number; y: number; percent: { x: number; y: number } }> {
    const pin = await page.locator(`[data-test="marker-${SN}"] .pin`).boundingBox();
    const stage = await page.locator('[data-test="plan-stage"]').boundingBox();
    if (!pin || !stage) throw new Error("no icon or no plan on the page");
    const x = pin.x + pin.width / 2;
    const y = pin.y + pin.height / 2;
    return { x, y, percent: { x: ((x - stage.x) / stage.width) * 100, y: ((y - stage.y) / stage.height) * 100 } };
  }

  it("logs the admin in, in Chinese", async () => {
    ({ context: adminContext, page: admin } = await newPage());
    await logIn(admin, "admin", ADMIN_PASSWORD);
    expect(await admin.locator("html").getAttribute("lang")).toBe("zh-CN");
    expect(await admin.locator('[data-test="current-role"]').textContent()).toBe("管理员");
    for (const item of ["设备管理", "报警通道", "平面图"]) await admin.locator(".el-menu").getByText(item).waitFor();
    // The operator who watches later (added through the API: the users page is not under test here).
    const created = await api(admin, "POST", "/api/users", { username: "operator", password: OPERATOR_PASSWORD, role: "operator" });
    expect(created.status).toBe(201);
  });

  it("adds a device through the dialog, and notes its MQTT password, shown once", async () => {
    await admin.locator('[data-test="add-device"]').click();
    await admin.locator('[data-test="field-sn"]').fill(SN);
    await admin.locator('[data-test="field-name"]').fill("罐区 T-101 甲烷");
    await admin.locator('[data-test="apply-preset"]').click();
    await admin.locator('[data-test="device-save"]').click();
    const secret = admin.locator('[data-test="mqtt-password"]');
    await secret.waitFor();
    mqttPassword = await secret.inputValue();
    expect(mqttPassword.length).toBeGreaterThanOrEqual(16);
    await admin.locator('[data-test="secret-done"]').click();
    await admin.locator(`[data-test="device-link-${SN}"]`).waitFor();
  });

  it("takes a reading published over MQTT TLS with the device's own login, and shows its ppm", async () => {
    device = await mqtt.connectAsync(`mqtts://localhost:${server.mqttPort}`, {
      ca: server.ca, username: SN, password: mqttPassword, protocolVersion: 4, reconnectPeriod: 0, clientId: SN,
    });
    await publishReading(10); // k = 1, b = 0: 10 %LEL
    await expect.poll(readings, { timeout: 5000 }).toEqual([expect.objectContaining({ ppm: 10, v_raw: 10 })]);
    await admin.getByRole("button", { name: "刷新" }).click();
    await admin.locator('[data-test="device-table"] tr', { hasText: SN }).getByText("10 %LEL").waitFor();
  });

  it("changes the calibration (k) in the dialog: the next reading, published at once, is stored with the new k within a second", async () => {
    const row = admin.locator('[data-test="device-table"] tr', { hasText: SN });
    await row.locator('[data-test="edit-device"]').click();
    const dialog = admin.locator('[data-test="device-dialog"]');
    const field = (label: string) => dialog.locator(".el-form-item", { hasText: label });
    await field("斜率 k").locator("input").fill("2");
    await field("校准说明").locator("textarea").fill("量程校准，标气批号 2301，结果 +3 %");
    const saved = admin.waitForResponse((response) => response.url().endsWith(`/api/devices/${SN}`) && response.request().method() === "PATCH");
    await admin.locator('[data-test="device-save"]').click();
    expect((await saved).status()).toBe(200);
    const changedAt = Date.now();

    // Published well within a second of the change: the worker must already use k = 2 for it.
    await publishReading(10);
    expect(Date.now() - changedAt).toBeLessThan(1000);
    await expect.poll(async () => (await readings())[1], { timeout: 3000, interval: 50 }).toMatchObject({ ppm: 20, v_raw: 10 });
    await admin.getByRole("button", { name: "刷新" }).click();
    await row.getByText("20 %LEL").waitFor();

    // The device's page: its new calibration version and the two readings.
    await admin.locator(`[data-test="device-link-${SN}"]`).click();
    const summary = admin.locator('[data-test="device-summary"]');
    await summary.getByText("v2 · k=2 b=0").waitFor();
    await admin.locator(".trend canvas").first().waitFor();
    await screenshot(admin, "acceptance-device");
  });

  it("uploads a floor plan (a wrong file refused on its field first) and drags the device onto it", async () => {
    await admin.locator(".el-menu").getByText("平面图").click();
    await admin.waitForURL(`${base}/floorplans`);
    await admin.locator('[data-test="no-plans"]').waitFor();
    await admin.locator('[data-test="upload-plan"]').click();
    const dialog = admin.locator('[data-test="upload-dialog"]');
    const file = dialog.locator('input[type="file"]');

    // A GIF named .png: the browser lets it through, the server recognises it by its content.
    await dialog.locator('[data-test="plan-name"]').fill("罐区");
    await file.setInputFiles({ name: "tank-farm.png", mimeType: "image/png", buffer: Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "latin1") });
    await admin.locator('[data-test="upload-submit"]').click();
    await dialog.getByText("a GIF image is not a floor plan").waitFor();

    await file.setInputFiles({ name: "tank-farm.svg", mimeType: "image/svg+xml", buffer: DRAWING });
    await admin.locator('[data-test="upload-submit"]').click();
    await dialog.waitFor({ state: "hidden" });
    await admin.getByRole("tab", { name: "罐区" }).waitFor();
    await admin.locator('[data-test="plan-image"]').evaluate((image: HTMLImageElement) => image.decode());

    // The drawing keeps its 800×500 shape, whatever the area around it.
    const stage = (await admin.locator('[data-test="plan-stage"]').boundingBox())!;
    expect(stage.width / stage.height).toBeCloseTo(1.6, 1);

    const item = (await admin.locator(`[data-test="unplaced-${SN}"]`).boundingBox())!;
    const target = { x: stage.x + (stage.width * DROP.x) / 100, y: stage.y + (stage.height * DROP.y) / 100 };
    await admin.mouse.move(item.x + item.width / 2, item.y + item.height / 2);
    await admin.mouse.down();
    await admin.mouse.move(target.x, target.y, { steps: 12 });
    await admin.mouse.up();
    await admin.locator(`[data-test="marker-${SN}"]`).waitFor();
    await admin.locator('[data-test="unsaved"]').waitFor();
    const dropped = await iconOnPlan(admin);
    expect(Math.abs(dropped.x - target.x)).toBeLessThanOrEqual(2);
    expect(Math.abs(dropped.y - target.y)).toBeLessThanOrEqual(2);

    // Leaving with unsaved positions asks first; staying keeps them.
    await admin.locator(".el-menu").getByText("设备管理").click();
    await admin.locator(".el-message-box").getByText("设备位置有未保存的修改").waitFor();
    await admin.locator(".el-message-box").getByRole("button", { name: "取消" }).click();
    expect(new URL(admin.url()).pathname).toBe("/floorplans");

    const saved = admin.waitForResponse((response) => /\/api\/floorplans\/\d+\/devices$/.test(response.url()));
    await admin.locator('[data-test="save-positions"]').click();
    expect((await saved).status()).toBe(200);
    await admin.locator('[data-test="unsaved"]').waitFor({ state: "detached" });
    const plans = (await api<{ data: Floorplan[] }>(admin, "GET", "/api/floorplans")).body.data;
    expect(plans).toHaveLength(1);
    const [spot] = plans[0]!.devices;
    expect(spot?.sn).toBe(SN);
    expect(Math.abs(spot!.x - DROP.x)).toBeLessThanOrEqual(1);
    expect(Math.abs(spot!.y - DROP.y)).toBeLessThanOrEqual(1);
  });

  it("shows the icon where it was dropped after a reload, and at the same place on the drawing on a smaller screen", async () => {
    const before = await iconOnPlan(admin);
    await admin.reload();
    await admin.locator(`[data-test="marker-${SN}"]`).waitFor();
    await admin.locator('[data-test="plan-image"]').evaluate((image: HTMLImageElement) => image.decode());
    const after = await iconOnPlan(admin);
    expect(Math.abs(after.x - before.x)).toBeLessThanOrEqual(2);
    expect(Math.abs(after.y - before.y)).toBeLessThanOrEqual(2);
    // Coloured by live status: the device reported a moment ago.
    await expect.poll(() => admin.locator(`[data-test="marker-${SN}"]`).getAttribute("data-status"), { timeout: 7000 }).toBe("online");
    await screenshot(admin, "floorplan");

    await admin.setViewportSize({ width: 1024, height: 640 });
    await expect.poll(async () => (await iconOnPlan(admin)).percent.x, { timeout: 3000 }).toBeCloseTo(DROP.x, 0);
    const small = await iconOnPlan(admin);
    expect(Math.abs(small.percent.x - DROP.x)).toBeLessThanOrEqual(1);
    expect(Math.abs(small.percent.y - DROP.y)).toBeLessThanOrEqual(1);
    await admin.setViewportSize({ width: 1366, height: 768 });
  });

  it("shows an operator no edit buttons on devices, channels and floor plans, and the API refuses the operator's change", async () => {
    const { context, page } = await newPage();
    await logIn(page, "operator", OPERATOR_PASSWORD);
    expect(await page.locator('[data-test="current-role"]').textContent()).toBe("操作员");
    await page.locator(`[data-test="device-link-${SN}"]`).waitFor();
    for (const button of ["add-device", "edit-device", "delete-device"]) expect(await page.locator(`[data-test="${button}"]`).count(), button).toBe(0);

    await page.locator(".el-menu").getByText("报警通道").click();
    await page.locator('[data-test="channel-card-webhook"]').waitFor();
    expect(await page.locator('[data-test^="add-channel-"]').count()).toBe(0);

    await page.locator(".el-menu").getByText("平面图").click();
    await page.locator(`[data-test="marker-${SN}"]`).waitFor();
    for (const button of ["upload-plan", "save-positions", "rename-plan", "delete-plan", "unplaced-list", `unplace-${SN}`]) {
      expect(await page.locator(`[data-test="${button}"]`).count(), button).toBe(0);
    }
    // Dragging does nothing for a watcher.
    const icon = await iconOnPlan(page);
    await page.mouse.move(icon.x, icon.y);
    await page.mouse.down();
    await page.mouse.move(icon.x + 120, icon.y - 80, { steps: 5 });
    await page.mouse.up();
    const still = await iconOnPlan(page);
    expect(Math.abs(still.x - icon.x)).toBeLessThanOrEqual(1);

    const patch = await api<{ error: { code: string } }>(page, "PATCH", `/api/devices/${SN}`, { k: 3 });
    expect({ status: patch.status, code: patch.body.error.code }).toEqual({ status: 403, code: "MCS_ERR_FORBIDDEN" });
    const planId = (await api<{ data: Floorplan[] }>(page, "GET", "/api/floorplans")).body.data[0]!.id;
    const place = await api<{ error: { code: string } }>(page, "PUT", `/api/floorplans/${planId}/devices`, { devices: [] });
    expect(place.status).toBe(403);
    expect((await api<Device>(page, "GET", `/api/devices/${SN}`)).body.k).toBe(2);
    await context.close();
  });

  it("finds every change in the audit log: the device added, its calibration changed, the plan uploaded and its placements", async () => {
    type Entry = { actor: string; action: string; target: string; before: Record<string, unknown> | null; after: Record<string, unknown> | null };
    const audit = (await api<{ data: Entry[] }>(admin, "GET", "/api/audit?limit=200")).body.data;
    const find = (action: string) => audit.filter((entry) => entry.action === action && entry.actor === "admin");
    expect(find("device.create")).toEqual([expect.objectContaining({ target: SN })]);
    expect(find("device.update")).toEqual([expect.objectContaining({ target: SN, before: expect.objectContaining({ k: 1 }), after: expect.objectContaining({ k: 2 }) })]);
    expect(find("floorplan.create")).toEqual([expect.objectContaining({ target: expect.stringContaining("罐区") })]);
    expect(find("floorplan.devices")).toEqual([expect.objectContaining({ after: expect.objectContaining({ devices: [expect.objectContaining({ sn: SN })] }) })]);
    // The operator's refused change left no trace of a change.
    expect(audit.filter((entry) => entry.actor === "operator" && entry.action.startsWith("device."))).toEqual([]);
    await adminContext.close();
  });

  it("logged no script errors and no refused resources", () => {
    expect(pageErrors).toEqual([]);
  });
});
