import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { MODES } from "../../test-support/ports.ts";
import { buildApp } from "../src/app.ts";
import { buildTestApp, expectError, overriding, type TestApp } from "./helper.ts";

describe.each(MODES)("the one error handler (%s mode)", (mode) => {
  let t: TestApp;
  let admin: { authorization: string };
  beforeAll(async () => {
    t = await buildTestApp(mode);
    admin = await t.as("admin");
  });
  afterAll(async () => t.close());

  it("answers a server failure with 500 and no details, and logs it with the request's context", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "error" }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const failing = overriding(t.ports.db, {
      query: async (text: string, params?: readonly unknown[]) => {
        if (text.includes("FROM devices ORDER BY sn")) throw new Error("relation devices is on fire at 10.0.0.5:5432");
        return t.ports.db.query(text, params);
      },
    } as Partial<typeof t.ports.db>);
    const app = await buildApp({ ...t.ports, db: failing, logger });
    try {
      const res = await app.inject({ method: "GET", url: "/api/devices", headers: admin });
      expectError(res, 500, "MCS_ERR_INTERNAL", "internal error; the server log has the details");
      expect(res.body).not.toContain("fire");
      expect(lines).toContainEqual(expect.objectContaining({
        msg: "request failed", method: "GET", url: "/api/devices", user: "admin", ip: "127.0.0.1",
        err: expect.objectContaining({ message: expect.stringContaining("on fire") }),
      }));
    } finally {
      await app.close();
    }
  });

  it("answers 503 when the session store (cache) cannot be reached", async () => {
    const down = overriding(t.ports.cache, { get: async () => { throw new Error("ECONNREFUSED"); } });
    const app = await buildApp({ ...t.ports, cache: down });
    try {
      expectError(await app.inject({ method: "GET", url: "/api/devices", headers: admin }), 503, "MCS_ERR_UNAVAILABLE", /session store/);
    } finally {
      await app.close();
    }
  });

  it("still lists devices, offline, when the live state cannot be read", async () => {
    await t.app.inject({ method: "POST", url: "/api/devices", headers: admin, payload: { sn: "E1" } });
    const app = await buildApp({ ...t.ports, cache: overriding(t.ports.cache, { hgetall: async () => { throw new Error("ECONNREFUSED"); } }) });
    try {
      const res = await app.inject({ method: "GET", url: "/api/devices", headers: admin });
      expect(res.json()).toEqual({ data: [expect.objectContaining({ sn: "E1", status: "offline", ppm: null })] });
    } finally {
      await app.close();
    }
  });

  it("keeps a committed change when the bus is down (the worker's full reload picks it up)", async () => {
    const app = await buildApp({ ...t.ports, bus: overriding(t.ports.bus, { publish: async () => { throw new Error("ECONNREFUSED"); } }) });
    try {
      const res = await app.inject({ method: "PATCH", url: "/api/devices/E1", headers: admin, payload: { k: 4 } });
      expect(res.json()).toMatchObject({ k: 4, calib_version: 2 });
    } finally {
      await app.close();
    }
  });
});
