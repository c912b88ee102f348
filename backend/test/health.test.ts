import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthSchema } from "@mcs/protocol";
import { MODES } from "../../test-support/ports.ts";
import { buildApp } from "../src/app.ts";
import { buildTestApp, overriding, type TestApp } from "./helper.ts";

const health = async (app: TestApp["app"]) => (await app.inject({ method: "GET", url: "/api/health" })).json<Record<string, unknown>>();

describe.each(MODES)("GET /api/health (%s mode)", (mode) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(mode);
  });
  afterAll(async () => t.close());

  it("answers without a session, in the documented shape", async () => {
    const res = await t.app.inject({ method: "GET", url: "/api/health" });
    expect(res.statusCode).toBe(200);
    expect(() => HealthSchema.strict().parse(res.json())).not.toThrow();
  });

  it("reports the database and cache checked live, the broker as its owner says, and no license yet", async () => {
    const expected = mode === "services" ? "ok" : "embedded";
    expect(await health(t.app)).toEqual({ status: "ok", db: expected, cache: expected, broker: expected, license: "trial", dead_letters: 0, dead_letters_5min: 0, demo: null });
  });

  it("counts dead letters", async () => {
    await t.ports.db.query(`INSERT INTO dead_letters (topic, sn, reason, payload) VALUES ('mcs/X/up', 'X', 'test', '{}')`);
    expect(await health(t.app)).toMatchObject({ status: "ok", dead_letters: 1, dead_letters_5min: 1 });
  });

  it("is degraded while many messages are refused (30 in 5 minutes: one unreadable detector reporting every 10 s), and ok once they are old", async () => {
    await t.ports.db.query(`INSERT INTO dead_letters (topic, sn, reason, payload) SELECT 'mcs/X/up', 'X', 'payload is not JSON', '{' FROM generate_series(1, 29)`);
    expect(await health(t.app)).toMatchObject({ status: "degraded", dead_letters: 30, dead_letters_5min: 30 });
    await t.ports.db.query(`UPDATE dead_letters SET received_at = now() - interval '6 minutes'`);
    expect(await health(t.app)).toMatchObject({ status: "ok", dead_letters: 30, dead_letters_5min: 0 });
  });

  it("is degraded when a service is down, and says which", async () => {
    const app = await buildApp({ ...t.ports, cache: overriding(t.ports.cache, { ping: async () => false }), health: { broker: () => "down" } });
    try {
      expect(await health(app)).toMatchObject({ status: "degraded", cache: "down", broker: "down" });
    } finally {
      await app.close();
    }
  });

  it("answers within its timeout when the database hangs", async () => {
    const app = await buildApp({ ...t.ports, db: overriding(t.ports.db, { query: () => new Promise<never>(() => {}) }) });
    try {
      const started = Date.now();
      expect(await health(app)).toMatchObject({ status: "degraded", db: "down" });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await app.close();
    }
  });
});
