import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@mcs/platform";
import { startServer, type Server } from "../src/server.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const run = promisify(execFile);

/** The README's section under a heading, up to the next heading of the same or a higher level (outside code blocks). */
function section(heading: string): string {
  const lines = README.split("\n");
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`README.md has no "${heading}"`);
  const level = /^#+/.exec(heading)![0].length;
  let fenced = false;
  let end = start + 1;
  for (; end < lines.length; end++) {
    if (lines[end]!.startsWith("```")) fenced = !fenced;
    else if (!fenced && new RegExp(`^#{1,${level}} `).test(lines[end]!)) break;
  }
  return lines.slice(start, end).join("\n");
}

// Issue 15: the README's commands and tour match what a fresh clone does. The server starts
// as `npm start` starts it (embedded defaults, a fresh data folder, no admin password given).
describe("README.md, tried on a fresh data folder", () => {
  let server: Server;
  let dir: string;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mcs-readme-"));
    server = await startServer(loadConfig({ MCS_DATA_DIR: dir, HTTP_PORT: "0", HTTP_HOST: "127.0.0.1", MQTT_TLS_PORT: "0", HTTPS_PORT: "0", MCS_DEMO_DEVICES: "2", MCS_DEMO_SCENARIO: "off" }));
    base = `http://127.0.0.1:${server.httpPort}`;
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("opens with the two commands, and both are the project's own scripts", () => {
    const first = /^```sh\n([\s\S]*?)```/m.exec(README)![1]!;
    expect(first).toMatch(/^npm install && npm start\b/m);
    expect(first).toMatch(/^npm test\b/m);
    const scripts = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts as Record<string, string>;
    expect(scripts.start).toBeTruthy();
    expect(scripts.test).toBeTruthy();
  });

  it("every address it gives answers on the running product", async () => {
    const urls = [...new Set([...README.matchAll(/http:\/\/localhost:8080(\/[^\s)>`"']*)/g)].map((m) => m[1]!))];
    expect(urls).toEqual(expect.arrayContaining(["/", "/screen", "/api/docs", "/api/health", "/analysis"]));
    for (const path of urls) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(200);
      const body = await response.text();
      if (path.startsWith("/api/health")) expect(JSON.parse(body), path).toMatchObject({ status: "ok" });
      else if (!path.startsWith("/api/")) expect(body, path).toContain('<div id="app">');
    }
  });

  it("the admin password is where it says, readable by its owner only", () => {
    expect(section("## The first ten minutes")).toContain("data/initial-admin-password");
    const file = join(dir, "initial-admin-password");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8").trim().length).toBeGreaterThanOrEqual(12);
  });

  it("names only environment variables the product reads", () => {
    const named = [...new Set([...README.matchAll(/`((?:MCS|MQTT|HTTP|HTTPS|DATABASE|REDIS)_[A-Z_]+)`/g)].map((m) => m[1]!))];
    const read = ["packages/platform/src/config.ts", "server/src/server.ts", "backend/src/main.ts", "worker/src/main.ts"].map((file) => readFileSync(join(ROOT, file), "utf8")).join("\n");
    for (const name of named) expect(read, name).toContain(name);
  });

  it("'Your own detector' works as written: the device, its reading, its ppm and its level 2 alarm", async () => {
    const tour = section("### Your own detector");
    const password = readFileSync(join(dir, "initial-admin-password"), "utf8").trim();
    const api = async (path: string, token?: string, body?: unknown) => {
      const response = await fetch(`${base}${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: await response.json() };
    };
    const { body: login } = await api("/api/auth/login", undefined, { username: "admin", password });
    const token = login.token as string;
    const device = JSON.parse(/localhost:8080\/api\/devices -H[^\n]*\n\s*-d '(\{[^']*\})'/.exec(tour)![1]!) as { sn: string };
    const created = await api("/api/devices", token, device);
    expect(created.status).toBe(201);
    expect(created.body.mqtt_password).toEqual(expect.any(String));

    // The README's mosquitto_pub line, with its $(date +%s) and the password the answer gave.
    const publish = /^(mosquitto_pub [\s\S]*?)\n(?!\s)/m.exec(tour)![1]!.replace(/\\\n\s*/g, " ");
    expect(publish).toContain(`-t mcs/${device.sn}/up`);
    const command = publish
      .replace("-h localhost -p 8883", `-h localhost -p ${server.mqttPort}`)
      .replace("data/certs/ca.pem", join(dir, "certs", "ca.pem"))
      .replace("'<mqtt_password>'", `'${created.body.mqtt_password}'`);
    await run("bash", ["-c", command]);

    const expectedPpm = Number(/telemetry[^\n]*# ppm ([\d.]+)/.exec(tour)![1]);
    const deadline = Date.now() + 10_000;
    let ppm: number | undefined;
    let alarms: { type: string; level: number }[] = [];
    while (Date.now() < deadline) {
      const telemetry = await api(`/api/devices/${device.sn}/telemetry?from=${Math.floor(Date.now() / 1000) - 3600}`, token);
      ppm = (telemetry.body.data as { ppm: number }[])[0]?.ppm;
      alarms = (await api(`/api/alarms?sn=${device.sn}`, token)).body.data;
      if (ppm !== undefined && alarms.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(ppm).toBe(expectedPpm);
    expect(tour).toMatch(/# HIGH level 2/);
    expect(alarms).toEqual([expect.objectContaining({ type: "HIGH", level: 2 })]);
  });
});
