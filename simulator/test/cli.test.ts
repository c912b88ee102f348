import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@mcs/platform";
import { startServer, type Server } from "../../server/src/server.ts";
import { parseCliArgs, readCreds } from "../src/index.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Runs `npm run sim -- <args>` (the same entry point) and answers its exit code and output. */
function sim(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "simulator/src/cli.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("exit", (code) => resolve({ code, output }));
  });
}

// Issue 3, part 3: `npm run sim` against the product in its embedded mode (`npm start`).
describe("the fleet CLI against npm start's embedded server", () => {
  let server: Server;
  let dir: string;
  let api: string;
  let token: string;
  let common: string[];
  const creds = () => join(dir, "devices.csv");

  const get = async (path: string) => (await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${token}` } })).json();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mcs-sim-cli-"));
    server = await startServer(loadConfig({ MCS_DATA_DIR: dir, HTTP_PORT: "0", HTTP_HOST: "127.0.0.1", MQTT_TLS_PORT: "0", HTTPS_PORT: "0", MCS_ADMIN_PASSWORD: "cli-admin-pw", MCS_DEMO_DEVICES: "0" }));
    api = `http://127.0.0.1:${server.httpPort}`;
    const login = await fetch(`${api}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: "cli-admin-pw" }) });
    token = ((await login.json()) as { token: string }).token;
    common = ["--url", `mqtts://localhost:${server.mqttPort}`, "--ca", join(dir, "certs", "ca.pem"), "--creds", creds(), "--interval", "1", "--summary", "1", "--seed", "3"];
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("--provision registers the devices through the API, keeps their passwords in the CSV (mode 0600), runs them, and prints a live summary", async () => {
    const run = await sim([...common, "--devices", "5", "--provision", "--api", api, "--user", "admin", "--password", "cli-admin-pw", "--duration", "4"]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain("registered 5 new devices");
    expect(run.output).toContain("all 5 detectors started");
    expect(run.output).toMatch(/connected \d+\/5 {2}sent \d+ \(\+\d+, [\d.]+\/s\) {2}backlog \d+ {2}dropped 0 {2}acks 0\/0 cmds {2}outages 0 {2}reboots 0/);

    const passwords = readCreds(creds());
    expect([...passwords.keys()].sort()).toEqual(["SIM-0001", "SIM-0002", "SIM-0003", "SIM-0004", "SIM-0005"]);
    expect(statSync(creds()).mode & 0o777).toBe(0o600);

    const devices = ((await get("/api/devices")) as { data: { sn: string; gas: string; unit: string; high_limit: number | null; low_limit: number | null; k: number; b: number }[] }).data;
    expect(devices.map(({ sn, gas, unit, high_limit, low_limit, k, b }) => ({ sn, gas, unit, high_limit, low_limit, k, b }))).toEqual([
      { sn: "SIM-0001", gas: "CH4", unit: "%LEL", high_limit: 25, low_limit: null, k: 1, b: 0 },
      { sn: "SIM-0002", gas: "H2S", unit: "ppm", high_limit: 7, low_limit: null, k: 1, b: 0 },
      { sn: "SIM-0003", gas: "CO", unit: "ppm", high_limit: 17, low_limit: null, k: 1, b: 0 },
      { sn: "SIM-0004", gas: "NH3", unit: "ppm", high_limit: 28, low_limit: null, k: 1, b: 0 },
      { sn: "SIM-0005", gas: "O2", unit: "%VOL", high_limit: 23.5, low_limit: 19.5, k: 1, b: 0 },
    ]);
    for (const { sn } of devices) {
      const telemetry = (await get(`/api/devices/${sn}/telemetry?from=0`)) as { data: { ppm: number; v_raw: number }[] };
      expect(telemetry.data.length, sn).toBeGreaterThan(0);
      // k = 1, b = 0: the stored value is v_raw.
      expect(telemetry.data.every((t) => t.ppm === Math.max(0, t.v_raw))).toBe(true);
    }
    const o2 = (await get("/api/devices/SIM-0005/telemetry?from=0")) as { data: { ppm: number }[] };
    expect(o2.data.every((t) => t.ppm > 19.5 && t.ppm < 23.5)).toBe(true);
  });

  it("a second run takes the passwords from the CSV and registers nothing", async () => {
    const stored = async () => ((await get("/api/devices/SIM-0005/telemetry?from=0")) as { data: unknown[] }).data.length;
    const before = await stored();
    const run = await sim([...common, "--devices", "5", "--duration", "3"]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).not.toContain("registering");
    expect(run.output).toContain("all 5 detectors started");
    await expect.poll(stored).toBeGreaterThan(before);
  });

  it("refuses to run devices the CSV has no password for, and says how to fix it", async () => {
    const run = await sim([...common, "--devices", "6", "--duration", "1"]);
    expect(run.code).toBe(2);
    expect(run.output).toContain("has no password for 1 of the 6 devices (first: SIM-0006); run with --provision");
  });
});

describe("the CLI's options", () => {
  it("default to 10 devices every 10 s on mqtts://localhost:8883 with seed 1 and no chaos", () => {
    expect(parseCliArgs([])).toMatchObject({ devices: 10, intervalS: 10, url: "mqtts://localhost:8883", creds: "devices.csv", seed: 1, ramp: 50, offlineRate: 0, rebootRate: 0, leakRate: 0, provision: false });
  });

  it("take the issue's example line", () => {
    const options = parseCliArgs(["--devices", "500", "--interval", "10", "--url", "mqtts://plant:8883", "--ca", "ca.pem", "--creds", "devices.csv", "--seed", "1", "--offline-rate", "0.5", "--reboot-rate", "0.1", "--leak-rate", "0.2"]);
    expect(options).toMatchObject({ devices: 500, intervalS: 10, url: "mqtts://plant:8883", ca: "ca.pem", seed: 1, offlineRate: 0.5, rebootRate: 0.1, leakRate: 0.2 });
  });

  it("refuse what they cannot use, naming the option", () => {
    expect(() => parseCliArgs(["--devices", "many"])).toThrow('--devices: "many" is not a valid value');
    expect(() => parseCliArgs(["--gases", "CH4,XE"])).toThrow("--gases: unknown XE");
    expect(() => parseCliArgs(["--colour"])).toThrow(/colour/);
  });
});
