import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@mcs/platform";
import { ERR, FakeClock, Fleet } from "@mcs/simulator";
import { DEMO_CYCLE, demoCycle, demoRoles, leakPeak, startDemoScenario, type DemoLimits } from "../src/demo-scenario.ts";
import { DEMO_FLOORPLAN_NAME } from "../src/demo-floorplan.ts";
import { startServer, type Server } from "../src/server.ts";

interface Alarm { id: number; sn: string; type: string; level: number; state: string; condition_active: boolean }

/** A server on a fresh data folder with `devices` demo detectors reporting every second, the scenario `speed` times faster. */
function demoEnv(dir: string, extra: Record<string, string>) {
  return { MCS_DATA_DIR: dir, HTTP_PORT: "0", HTTP_HOST: "127.0.0.1", MQTT_TLS_PORT: "0", HTTPS_PORT: "0", MCS_ADMIN_PASSWORD: "demo-admin-pw", MCS_DEMO_DEVICES: "4", ...extra };
}
const SPEED = 6;

function client(server: Server) {
  const base = `http://127.0.0.1:${server.httpPort}`;
  let token = "";
  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${base}${path}`, { ...init, headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers } });
    return { status: response.status, body: response.status === 204 ? null : await response.json() };
  };
  return {
    api,
    async login() {
      const login = await api("/api/auth/login", { method: "POST", body: JSON.stringify({ username: "admin", password: "demo-admin-pw" }) });
      expect(login.status).toBe(200);
      token = login.body.token;
    },
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("the demo scenario's schedule", () => {
  const sns = ["DEMO-001", "DEMO-002", "DEMO-003", "DEMO-004", "DEMO-005"];

  it("plays a leak, an outage and a low battery on three fixed detectors, each undone within the cycle", () => {
    const steps = demoCycle(sns);
    expect(steps.map((s) => [s.atMs, s.action.kind, s.action.sn])).toEqual([
      [0, "leak", "DEMO-002"],
      [20_000, "cut_link", "DEMO-003"],
      [40_000, "battery_low", "DEMO-004"],
      [110_000, "restore_link", "DEMO-003"],
      [160_000, "battery_full", "DEMO-004"],
    ]);
    // The outage outlasts the 3 report intervals (30 s) after which a silent detector is offline.
    expect(DEMO_CYCLE.outage.durationMs).toBeGreaterThan(3 * 10_000);
    // Everything is over well inside the cycle's length (the shortest period).
    expect(Math.max(...steps.map((s) => s.atMs))).toBeLessThan(DEMO_CYCLE.lengthMs);
  });

  it("keeps the parts on the same detectors, and leaves out what too small a fleet cannot show", () => {
    expect(demoRoles(sns)).toEqual({ leak: "DEMO-002", outage: "DEMO-003", lowBattery: "DEMO-004" });
    expect(demoRoles(["DEMO-001"])).toEqual({ leak: "DEMO-001", outage: undefined, lowBattery: undefined });
    expect(demoRoles(["DEMO-001", "DEMO-002", "DEMO-003"])).toEqual({ leak: "DEMO-002", outage: "DEMO-003", lowBattery: "DEMO-001" });
    expect(demoCycle(["DEMO-001"]).map((s) => s.action.kind)).toEqual(["leak"]);
    expect(demoCycle(["DEMO-001", "DEMO-002"]).map((s) => [s.action.kind, s.action.sn])).toEqual([["leak", "DEMO-002"], ["cut_link", "DEMO-001"], ["restore_link", "DEMO-001"]]);
    expect(demoCycle([])).toEqual([]);
  });

  it("scales the durations for tests", () => {
    const fast = demoCycle(sns, 10);
    expect(fast.map((s) => s.atMs)).toEqual([0, 2_000, 4_000, 11_000, 16_000]);
    expect(fast[0]!.action).toMatchObject({ kind: "leak", riseS: 12, plumeS: 9, decayS: 3 });
  });

  it("holds the leak above level 2 for well over a minute at speed 1, and over a minute at speed 2", () => {
    const { riseS, plumeS, decayS, peakOfLevel2 } = DEMO_CYCLE.leak;
    // Rise 1 − e^(−3t/riseS) to the peak; plume ±15 %; decay e^(−t/decayS) (see simulator/src/signal.ts).
    const level2Reached = (-Math.log(1 - 1 / peakOfLevel2) * riseS) / 3;
    const level2Left = riseS + plumeS + decayS * Math.log(peakOfLevel2 * 0.85);
    expect(peakOfLevel2 * 0.85).toBeGreaterThan(1); // the plume's trough stays above level 2
    expect(level2Reached).toBeLessThan(90);
    expect(level2Left - level2Reached).toBeGreaterThanOrEqual(120);
    expect((level2Left - level2Reached) / 2).toBeGreaterThanOrEqual(60);
    // Below level 1 less its deadband (H2S: 7 − 2 ppm) before the next cycle starts.
    const peak = 14 * peakOfLevel2;
    expect((riseS + plumeS + decayS * Math.log((peak * 1.15) / 5)) * 1000).toBeLessThan(DEMO_CYCLE.lengthMs);
  });

  it("aims the leak at 1.3 × the device's level 2 (its settings, else the gas preset)", () => {
    expect(leakPeak({ gas: "CH4", unit: "%LEL", high_limit: 25, high_limit_2: 50 }, "CH4")).toBeCloseTo(65);
    expect(leakPeak({ gas: "H2S", unit: "ppm", high_limit: 7, high_limit_2: null }, "H2S")).toBeCloseTo(18.2);
    expect(leakPeak(null, "CO")).toBeCloseTo(44.2);
  });
});

describe("the demo scenario's loop, on a fake clock", () => {
  const start = Date.UTC(2026, 0, 1, 8);
  const limits: DemoLimits = { gas: "H2S", unit: "ppm", high_limit: 7, high_limit_2: 14 };

  function detectors(clock: FakeClock) {
    return new Fleet(["DEMO-001", "DEMO-002", "DEMO-003", "DEMO-004"].map((sn) => ({ sn, password: "x" })), { url: "mqtts://127.0.0.1:1", clock }).detectors;
  }

  it("waits for the first event, plays each step at its time, repeats every period and stops with no timer left", async () => {
    const clock = new FakeClock(start);
    const all = detectors(clock);
    const [, leak, outage, battery] = all;
    const scenario = startDemoScenario({ detectors: all, limitsOf: async () => limits, firstEventAfterMs: 60_000, periodMs: 300_000, clock });
    expect(scenario.roles).toEqual({ leak: "DEMO-002", outage: "DEMO-003", lowBattery: "DEMO-004" });
    await clock.advance(59_999);
    expect(scenario.cycles).toBe(0);
    expect(leak!.signal.leak).toBeUndefined();
    await clock.advance(1);
    expect(scenario.cycles).toBe(1);
    leak!.signal.sample(Math.floor(clock.now() / 1000));
    expect(leak!.signal.leak).toMatchObject({ phase: "rise" });
    expect(leak!.signal.leak!.amplitude).toBeGreaterThan(18.2 - 1);
    await clock.advance(20_000);
    expect(outage!.link).toBe(false);
    await clock.advance(20_000);
    expect(battery!.signal.batteryCharge).toBeCloseTo(0.1);
    expect(battery!.signal.sample(Math.floor(clock.now() / 1000)).err & ERR.LOW_BATTERY).toBe(ERR.LOW_BATTERY);
    await clock.advance(70_000);
    expect(outage!.link).toBe(true);
    await clock.advance(50_000);
    expect(battery!.signal.batteryCharge).toBe(1);
    await clock.advance(300_000 - 160_000);
    expect(scenario.cycles).toBe(2);
    expect(outage!.link).toBe(true);
    await clock.advance(20_000);
    expect(outage!.link).toBe(false);
    scenario.stop();
    expect(scenario.pending).toBe(0);
    expect(clock.pending).toBe(0);
    await clock.advance(600_000);
    expect(scenario.cycles).toBe(2);
  });

  it("never plays faster than its cycle, and does nothing once stopped before the first event", async () => {
    const clock = new FakeClock(start);
    const all = detectors(clock);
    const scenario = startDemoScenario({ detectors: all, limitsOf: async () => limits, firstEventAfterMs: 0, periodMs: 1_000, speed: 2, clock });
    expect(scenario.periodMs).toBe(DEMO_CYCLE.lengthMs / 2);
    await clock.advance(DEMO_CYCLE.lengthMs / 2 - 1);
    expect(scenario.cycles).toBe(1);
    scenario.stop();
    expect(clock.pending).toBe(0);

    const idle = startDemoScenario({ detectors: detectors(clock), limitsOf: async () => limits, firstEventAfterMs: 60_000, periodMs: 300_000, clock });
    idle.stop();
    expect(clock.pending).toBe(0);
  });
});

describe("the demo scenario on the embedded server", () => {
  let server: Server;
  let dir: string;
  let http: ReturnType<typeof client>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mcs-demo-scenario-"));
    const config = loadConfig(demoEnv(dir, { MCS_DEMO_SCENARIO_START_S: "1", MCS_DEMO_SCENARIO_PERIOD_S: "600" }));
    server = await startServer({ ...config, demoIntervalMs: 1_000, demoScenario: { ...config.demoScenario, speed: SPEED } });
    http = client(server);
    await http.login();
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("gives the demo detectors both levels of their gas preset", async () => {
    const { body } = await http.api("/api/devices");
    const demo = (body.data as { sn: string; gas: string; high_limit: number; high_limit_2: number | null }[]).filter((d) => d.sn.startsWith("DEMO-"));
    expect(demo).toHaveLength(4);
    expect(demo.map((d) => [d.sn, d.gas, d.high_limit, d.high_limit_2])).toEqual([
      ["DEMO-001", "CH4", 25, 50],
      ["DEMO-002", "H2S", 7, 14],
      ["DEMO-003", "CO", 17, 34],
      ["DEMO-004", "NH3", 28, 56],
    ]);
  });

  it("says on /api/health that a demo runs", async () => {
    const { body } = await http.api("/api/health");
    expect(body.demo).toEqual({ devices: 4, scenario: true });
    expect(body).toMatchObject({ status: "ok", db: "embedded" });
  });

  it("stands the demo detectors on the demo plant drawing", async () => {
    const { body } = await http.api("/api/floorplans");
    const plans = body.data as { name: string; devices: { sn: string }[] }[];
    expect(plans).toHaveLength(1);
    expect(plans[0]!.name).toBe(DEMO_FLOORPLAN_NAME);
    expect(plans[0]!.devices.map((d) => d.sn)).toEqual(["DEMO-001", "DEMO-002", "DEMO-003", "DEMO-004"]);
  });

  const openAlarms = async () => ((await http.api("/api/alarms?state=open")).body.data as Alarm[]);

  it("plays the leak on DEMO-002: HIGH level 1, then level 2, acknowledged while the gas is still up", async () => {
    expect(server.scenario?.roles).toEqual({ leak: "DEMO-002", outage: "DEMO-003", lowBattery: "DEMO-004" });
    const level1 = await until("HIGH level 1", async () => (await openAlarms()).find((a) => a.sn === "DEMO-002" && a.type === "HIGH"), 30_000);
    const level2 = await until("HIGH level 2", async () => (await openAlarms()).find((a) => a.id === level1.id && a.level === 2), 30_000);
    expect(level2.condition_active).toBe(true);
    const { body: detail } = await http.api(`/api/alarms/${level2.id}`);
    const steps = (detail.events as { kind: string; level: number }[]).map((e) => [e.kind, e.level]);
    expect(steps.slice(0, 2)).toEqual([["raised", 1], ["level_up", 2]]);
    // Acknowledged while the gas is still up, as a person at the screen would.
    const ack = await http.api(`/api/alarms/${level2.id}/ack`, { method: "POST", body: JSON.stringify({ comment: "demo leak seen" }) });
    expect(ack.status).toBe(200);
    expect(ack.body.state).toBe("acked");
  }, 70_000);

  it("takes DEMO-003 offline and brings it back (OFFLINE raised, then cleared)", async () => {
    const offline = await until("OFFLINE", async () => (await openAlarms()).find((a) => a.sn === "DEMO-003" && a.type === "OFFLINE"), 30_000);
    await until("OFFLINE cleared", async () => {
      const { body } = await http.api(`/api/alarms/${offline.id}`);
      return body.condition_active === false;
    }, 40_000);
  }, 75_000);

  it("runs DEMO-004's battery low", async () => {
    await until("LOW_BATTERY", async () => (await openAlarms()).find((a) => a.sn === "DEMO-004" && a.type === "LOW_BATTERY"), 30_000);
  }, 35_000);

  it("raises nothing on the detectors without a part (DEMO-001)", async () => {
    expect((await openAlarms()).filter((a) => a.sn === "DEMO-001")).toEqual([]);
  });

  it("stops with no timer of its own left", async () => {
    expect(server.scenario?.cycles).toBe(1);
  });
});

describe("the demo with MCS_DEMO_SCENARIO=off", () => {
  let server: Server;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mcs-demo-off-"));
    const config = loadConfig(demoEnv(dir, { MCS_DEMO_SCENARIO: "off", MCS_DEMO_SCENARIO_START_S: "0" }));
    expect(config.demoScenario.enabled).toBe(false);
    server = await startServer({ ...config, demoIntervalMs: 1_000, demoScenario: { ...config.demoScenario, speed: SPEED } });
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the demo detectors reporting but plays no scripted event", async () => {
    const http = client(server);
    await http.login();
    expect(server.scenario).toBeUndefined();
    expect((await http.api("/api/health")).body.demo).toEqual({ devices: 4, scenario: false });
    // Long enough for the fast scenario's leak (level 1 within ~4 s) and outage (at ~3 s).
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    const alarms = (await http.api("/api/alarms?state=open")).body.data as Alarm[];
    expect(alarms.filter((a) => a.type === "HIGH" || a.type === "OFFLINE" || a.type === "LOW_BATTERY")).toEqual([]);
    expect(server.fleet!.detectors.every((d) => d.stats.measured > 0)).toBe(true);
  }, 20_000);

  it("gives demo devices of older versions (level 1 only) their preset's level 2 on the next start, never one a user has changed", async () => {
    // As an older version left them: no level 2; DEMO-002 since changed by a user (its audit says so).
    await server.ports.db.query(`UPDATE devices SET high_limit_2 = NULL WHERE sn IN ('DEMO-001', 'DEMO-002', 'DEMO-003')`);
    await server.ports.db.query(`INSERT INTO audit_log (actor, action, target, before, after) VALUES ('admin', 'device.update', 'DEMO-002', '{}'::jsonb, '{}'::jsonb)`);
    await server.ports.db.query(`UPDATE devices SET high_limit = 40 WHERE sn = 'DEMO-003'`); // a level 1 at the preset's level 2: left alone
    await server.stop();
    const config = loadConfig(demoEnv(dir, { MCS_DEMO_SCENARIO: "off" }));
    server = await startServer({ ...config, demoIntervalMs: 1_000 });
    const limits = async (sn: string) => {
      const [row] = await server.ports.db.query<{ high_limit: number; high_limit_2: number | null }>(`SELECT high_limit, high_limit_2 FROM devices WHERE sn = $1`, [sn]);
      return [row!.high_limit, row!.high_limit_2];
    };
    expect(await limits("DEMO-001")).toEqual([25, 50]);
    expect(await limits("DEMO-002")).toEqual([7, null]);
    expect(await limits("DEMO-003")).toEqual([40, null]);
    expect(await limits("DEMO-004")).toEqual([28, 56]);
    const [audit] = await server.ports.db.query<{ actor: string }>(`SELECT actor FROM audit_log WHERE target = 'DEMO-001' AND action = 'device.update' ORDER BY id DESC LIMIT 1`);
    expect(audit?.actor).toBe("demo-fleet");
  }, 30_000);
});

describe("the demo scenario's setting", () => {
  it("is on exactly when the demo fleet runs, unless turned off", () => {
    expect(loadConfig({}).demoScenario).toEqual({ enabled: true, firstEventAfterMs: 60_000, periodMs: 300_000, speed: 1 });
    expect(loadConfig({ MCS_DEMO_DEVICES: "0" }).demoScenario.enabled).toBe(false);
    expect(loadConfig({ MCS_DEMO_SCENARIO: "off" }).demoScenario.enabled).toBe(false);
    expect(loadConfig({ DATABASE_URL: "postgres://x@db/mcs" }).demoScenario.enabled).toBe(false);
    expect(loadConfig({ MCS_DEMO_SCENARIO_START_S: "5", MCS_DEMO_SCENARIO_PERIOD_S: "120" }).demoScenario).toMatchObject({ firstEventAfterMs: 5_000, periodMs: 120_000 });
    expect(() => loadConfig({ MCS_DEMO_SCENARIO: "maybe" })).toThrow(/MCS_DEMO_SCENARIO/);
  });
});
