import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTestApp, type TestApp } from "./helper.ts";

describe("OpenAPI at /api/docs", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp("embedded");
  });
  afterAll(async () => t.close());

  it("lists every route with its methods, generated from the zod schemas", async () => {
    const res = await t.app.inject({ method: "GET", url: "/api/docs/json" });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>();
    expect(doc.openapi).toBe("3.1.0");
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
    expect(routes).toEqual(
      expect.arrayContaining([
        "GET /api/health",
        "POST /api/auth/login",
        "POST /api/auth/logout",
        "GET /api/devices",
        "POST /api/devices",
        "GET /api/devices/{sn}",
        "PATCH /api/devices/{sn}",
        "DELETE /api/devices/{sn}",
        "POST /api/devices/{sn}/credentials",
        "GET /api/devices/{sn}/telemetry",
        "GET /api/audit",
      ]),
    );
    expect(routes.some((route) => route.includes("/api/docs"))).toBe(false);
  });

  it("describes bodies, answers and errors with the wire field names", async () => {
    const doc = (await t.app.inject({ method: "GET", url: "/api/docs/json" })).json<Record<string, any>>();
    const create = doc.paths["/api/devices"].post;
    const body = create.requestBody.content["application/json"].schema;
    expect(Object.keys(body.properties)).toEqual(expect.arrayContaining(["sn", "name", "gas", "unit", "k", "b", "t_comp", "t_ref", "high_limit", "low_limit"]));
    expect(body.additionalProperties).toBe(false);
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(["201", "400", "401", "403", "409"]));
    expect(create.responses["201"].content["application/json"].schema.properties).toHaveProperty("mqtt_password");
    expect(create.security).toEqual([{ bearer: [] }, { cookie: [] }]);
    const telemetry = doc.paths["/api/devices/{sn}/telemetry"].get;
    expect(telemetry.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual(
      expect.arrayContaining(["query:from", "query:to", "query:limit", "path:sn"]),
    );
  });

  it("serves the UI", async () => {
    const res = await t.app.inject({ method: "GET", url: "/api/docs/" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/text\/html/);
  });
});
