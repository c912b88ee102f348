import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import mqtt from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "@mcs/platform";
import { beforeAllOrFail } from "../../test-support/suite-setup.ts";
import { startServer, type Server } from "../src/server.ts";

const DAY_S = 86_400;

// Issue 13, acceptance in embedded mode: no object storage set up, so the archive goes to
// MCS_DATA_DIR/archive with the plan's keys.
describe("the archive on the embedded defaults", () => {
  let server: Server;
  let dir: string;
  let base: string;
  let token = "";
  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${base}${path}`, { ...init, headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...init.headers } });
    return { status: response.status, body: await response.json() };
  };

  beforeAllOrFail(async () => {
    dir = mkdtempSync(join(tmpdir(), "mcs-archive-embedded-"));
    server = await startServer(loadConfig({ MCS_DATA_DIR: dir, HTTP_PORT: "0", HTTP_HOST: "127.0.0.1", MQTT_TLS_PORT: "0", HTTPS_PORT: "0", MCS_ADMIN_PASSWORD: "first-admin-pw", MCS_DEMO_DEVICES: "0" }));
    base = `http://127.0.0.1:${server.httpPort}`;
    token = (await api("/api/auth/login", { method: "POST", body: JSON.stringify({ username: "admin", password: "first-admin-pw" }) })).body.token;
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("archives readings published 5 days late to MCS_DATA_DIR/archive, and the telemetry route no longer has them", async () => {
    const created = await api("/api/devices", { method: "POST", body: JSON.stringify({ sn: "OLD-1", name: "back from the field", gas: "H2S", unit: "ppm" }) });
    expect(created.status).toBe(201);
    // A backlog from five days ago, and one reading of today.
    const now = Math.floor(Date.now() / 1000);
    const day = Math.floor((now - 5 * DAY_S) / DAY_S) * DAY_S;
    const backlog = Array.from({ length: 30 }, (_, i) => ({ ts: day + 3600 + i * 60, seq: i, v_raw: 0.1 + i / 100, temp: 21, humi: 50, bat: 3.9, rssi: -70, err: 0 }));
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${server.mqttPort}`, { username: "OLD-1", password: created.body.mqtt_password, ca: readFileSync(join(dir, "certs", "ca.pem")), protocolVersion: 4 });
    await client.publishAsync("mcs/OLD-1/up", JSON.stringify(backlog), { qos: 1 });
    await client.publishAsync("mcs/OLD-1/up", JSON.stringify({ ts: now, seq: 100, v_raw: 0.2, err: 0 }), { qos: 1 });
    await client.endAsync();
    const telemetry = async () => (await api(`/api/devices/OLD-1/telemetry?from=${day}&to=${now + 60}&limit=1000`)).body.data as { ts: number; ppm: number }[];
    await expect.poll(async () => (await telemetry()).length, { timeout: 15_000 }).toBe(31);
    const stored = (await telemetry()).slice(0, 30);

    const queued = await api("/api/archive/run", { method: "POST", body: "{}" });
    expect(queued.status).toBe(202);
    await expect.poll(async () => (await api("/api/archive/runs")).body.data.find((run: { id: number }) => run.id === queued.body.id)?.state, { timeout: 20_000 }).toBe("ok");

    const dayText = new Date(day * 1000).toISOString().slice(0, 10);
    const [year, month] = dayText.split("-");
    const file = join(dir, "archive", "archive", year!, month!, `sensor_data_${dayText.replaceAll("-", "")}.csv.gz`);
    expect(existsSync(file)).toBe(true);
    const lines = gunzipSync(readFileSync(file)).toString("utf8").trimEnd().split("\n");
    expect(lines[0]).toBe("sn,ts,seq,ppm,v_raw,temp,humi,bat,rssi,err,flags");
    expect(lines.slice(1).map((line) => line.split(",").slice(0, 4).join(","))).toEqual(
      stored.map((reading, i) => `OLD-1,${new Date(reading.ts * 1000).toISOString()},${i},${reading.ppm}`),
    );
    expect(await telemetry()).toHaveLength(1);
    expect((await api("/api/archive/objects")).body).toMatchObject({ target: join(dir, "archive"), data: expect.arrayContaining([expect.objectContaining({ kind: "sensor_data", day: dayText })]) });
  }, 60_000);
});
