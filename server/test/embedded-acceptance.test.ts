import { execFile } from "node:child_process";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@mcs/platform";
import { startServer, type Server } from "../src/server.ts";

const run = promisify(execFile);

// Issue "The ingest spine", acceptance, on the embedded defaults (no database, Redis or
// broker configured): a new user's first steps, with Mosquitto's own command-line client.
describe("the embedded mode, as a new user tries it", () => {
  let server: Server;
  let dir: string;
  let base: string;
  let token: string;
  const sn = "ACC-1";
  let password: string;
  /** A webhook receiver: the alarm channel the user sets up. */
  let receiver: HttpServer;
  /** Every alarm the webhook was told of (one message may list several: grouping). */
  const hooks: { sn: string; type: string; level: number; kind: string }[] = [];

  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${base}${path}`, {
      ...init,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers },
    });
    return { status: response.status, body: response.status === 204 ? null : await response.json() };
  };
  const publish = (user: string, pass: string, topic: string, args: string[]) =>
    run("mosquitto_pub", ["-h", "localhost", "-p", String(server.mqttPort), "--cafile", join(dir, "certs", "ca.pem"), "-u", user, "-P", pass, "-t", topic, "-q", "1", ...args]);
  const telemetry = async (device: string) => (await api(`/api/devices/${device}/telemetry?from=${Math.floor(Date.now() / 1000) - 86_400}`)).body.data as { ts: number; ppm: number }[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mcs-embedded-"));
    server = await startServer(loadConfig({ MCS_DATA_DIR: dir, HTTP_PORT: "0", HTTP_HOST: "127.0.0.1", MQTT_TLS_PORT: "0", HTTPS_PORT: "0", MCS_ADMIN_PASSWORD: "first-admin-pw", MCS_DEMO_DEVICES: "3" }));
    base = `http://127.0.0.1:${server.httpPort}`;
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        hooks.push(...(JSON.parse(body) as { alarms: typeof hooks }).alarms);
        res.writeHead(200).end("{}");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => receiver?.close(resolve));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers ok on /api/health", async () => {
    const health = await api("/api/health");
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: "ok", db: "embedded", cache: "embedded", broker: "embedded" });
  });

  it("logs the first admin in with MCS_ADMIN_PASSWORD", async () => {
    const login = await api("/api/auth/login", { method: "POST", body: JSON.stringify({ username: "admin", password: "first-admin-pw" }) });
    expect(login.status).toBe(200);
    token = login.body.token;
  });

  it("registers a device with k=2, b=1, t_comp=0.5, t_ref=25 and shows its MQTT password once", async () => {
    const created = await api("/api/devices", { method: "POST", body: JSON.stringify({ sn, name: "Acceptance", gas: "CO", unit: "ppm", k: 2, b: 1, t_comp: 0.5, t_ref: 25, high_limit: 17, low_limit: null }) });
    expect(created.status).toBe(201);
    password = created.body.mqtt_password;
    expect(password.length).toBeGreaterThanOrEqual(16);
  });

  it("takes an alarm channel (a webhook) that hears every alarm at every hour", async () => {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alarms`;
    const created = await api("/api/channels", { method: "POST", body: JSON.stringify({ type: "webhook", name: "值班室", config: { url, secret: "a-webhook-secret-0001" } }) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ enabled: true, sns: null, schedule: null, config: { url, secret: "********" } });
  });

  it("reads back 203.5 for v_raw=100 at 30 °C published with mosquitto_pub over TLS, and stores a resend once", async () => {
    const ts = Math.floor(Date.now() / 1000);
    const message = JSON.stringify({ ts, seq: 1, v_raw: 100, temp: 30, humi: 40, bat: 3.9, rssi: -60, err: 0 });
    await publish(sn, password, `mcs/${sn}/up`, ["-m", message]);
    await expect.poll(() => telemetry(sn)).toEqual([expect.objectContaining({ ts, ppm: 203.5, v_raw: 100, temp: 30, flags: [] })]);
    await publish(sn, password, `mcs/${sn}/up`, ["-m", message]);
    await publish(sn, password, `mcs/${sn}/up`, ["-m", JSON.stringify({ ts, seq: 2, v_raw: 1, temp: 25 })]);
    await expect.poll(async () => (await telemetry(sn)).length).toBe(2);
  });

  it("stores a backlog array of 1000 readings whole", async () => {
    const start = Math.floor(Date.now() / 1000) - 20_000;
    const backlog = Array.from({ length: 1000 }, (_, i) => ({ ts: start + i * 10, seq: 100 + i, v_raw: i, temp: 25 }));
    const file = join(dir, "backlog.json");
    writeFileSync(file, JSON.stringify(backlog));
    await publish(sn, password, `mcs/${sn}/up`, ["-f", file]);
    await expect.poll(async () => (await telemetry(sn)).length).toBe(1002);
  });

  it("stores nothing that a device publishes on another device's topic", async () => {
    await api("/api/devices", { method: "POST", body: JSON.stringify({ sn: "VICTIM" }) });
    const forged = JSON.stringify({ ts: Math.floor(Date.now() / 1000), seq: 9, v_raw: 999 });
    await publish(sn, password, "mcs/VICTIM/up", ["-m", forged]).catch(() => {});
    await publish(sn, password, `mcs/${sn}/up`, ["-m", JSON.stringify({ ts: Math.floor(Date.now() / 1000), seq: 3, v_raw: 0 })]);
    await expect.poll(async () => (await telemetry(sn)).length).toBe(1003);
    expect(await telemetry("VICTIM")).toEqual([]);
  });

  it("refuses a wrong password", async () => {
    await expect(publish(sn, "wrong-password", `mcs/${sn}/up`, ["-m", "{}"])).rejects.toThrow();
  });

  it("sends a command to a connected device through the embedded broker and shows its ack (issue 3, part 4)", async () => {
    const device = await mqtt.connectAsync(`mqtts://localhost:${server.mqttPort}`, {
      ca: readFileSync(join(dir, "certs", "ca.pem")), username: sn, password, protocolVersion: 4, reconnectPeriod: 0,
      will: { topic: `mcs/${sn}/status`, payload: Buffer.from(`{"online":false}`), qos: 1, retain: true },
    });
    device.on("message", (_topic, payload) => {
      const { id } = JSON.parse(payload.toString()) as { id: string };
      void device.publishAsync(`mcs/${sn}/ack`, JSON.stringify({ id, ok: true, msg: "debug on" }), { qos: 1 });
    });
    await device.subscribeAsync(`mcs/${sn}/cmd`, { qos: 1 });
    await device.publishAsync(`mcs/${sn}/status`, JSON.stringify({ online: true, fw: "2.0.1", boot: 5 }), { qos: 1, retain: true });
    await expect.poll(async () => (await api(`/api/devices/${sn}`)).body, { timeout: 10_000 }).toMatchObject({ status: "online", fw: "2.0.1" });
    const sent = await api(`/api/devices/${sn}/commands`, { method: "POST", body: JSON.stringify({ cmd: "set_debug", params: { interval_s: 1 } }) });
    expect(sent).toMatchObject({ status: 202, body: { status: "pending" } });
    await expect.poll(async () => (await api(`/api/devices/${sn}/commands/${sent.body.id}`)).body, { timeout: 10_000 }).toMatchObject({ status: "acked", msg: "debug on" });
    device.stream.destroy(); // its will: offline at once
    await expect.poll(async () => (await api(`/api/devices/${sn}`)).body, { timeout: 10_000 }).toMatchObject({ status: "offline" });
    await device.endAsync(true);
  });

  it("runs the demo fleet: its readings can be read back through the telemetry route", async () => {
    await expect.poll(async () => (await telemetry("DEMO-001")).length, { timeout: 15_000 }).toBeGreaterThan(0);
    const devices = (await api("/api/devices")).body.data as { sn: string; status: string }[];
    expect(devices.filter((d) => d.sn.startsWith("DEMO-")).map((d) => d.status)).toEqual(["online", "online", "online"]);
  });
  it("raises a HIGH alarm for the 203.5 ppm reading (high_limit 17; level 2 at the CO preset's 34) and notifies the webhook within seconds", async () => {
    // (mosquitto_pub's device went silent afterwards: an OFFLINE alarm may be there too.)
    await expect.poll(async () => (await api(`/api/alarms?sn=${sn}&type=HIGH`)).body.data).toEqual([expect.objectContaining({ type: "HIGH", level: 2, state: expect.stringMatching(/unacked/), ppm: 203.5 })]);
    // A deadline, not a timing claim: the dispatcher runs every 2 s, the suite shares two cores.
    await expect.poll(() => hooks, { timeout: 45_000 }).toContainEqual(expect.objectContaining({ sn, type: "HIGH", level: 2, kind: "raised", ppm: 203.5 }));
  }, 60_000);
});
