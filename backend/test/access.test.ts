import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "@mcs/protocol";
import { MODES } from "../../test-support/ports.ts";
import { buildTestApp, expectError, type TestApp } from "./helper.ts";

type Method = "GET" | "POST" | "PATCH" | "DELETE";
interface Route {
  method: Method;
  url: string;
  payload?: object;
  /** Roles that may call it; every other logged-in role gets 403. */
  roles: Role[];
}

const ALL: Role[] = ["admin", "engineer", "operator", "viewer"];
const EDITORS: Role[] = ["admin", "engineer"];

/** Every route that needs a session, and who may use it. */
const ROUTES: Route[] = [
  { method: "GET", url: "/api/auth/me", roles: ALL },
  { method: "GET", url: "/api/devices", roles: ALL },
  { method: "GET", url: "/api/devices/ACC1", roles: ALL },
  { method: "GET", url: "/api/devices/ACC1/telemetry", roles: ALL },
  { method: "POST", url: "/api/devices", payload: { sn: "ACC2" }, roles: EDITORS },
  { method: "PATCH", url: "/api/devices/ACC1", payload: { name: "renamed" }, roles: EDITORS },
  { method: "POST", url: "/api/devices/ACC1/credentials", roles: EDITORS },
  { method: "POST", url: "/api/devices/ACC1/commands", payload: { cmd: "reboot" }, roles: EDITORS },
  { method: "GET", url: "/api/devices/ACC1/commands", roles: ALL },
  { method: "GET", url: "/api/devices/ACC1/commands/00000000-0000-4000-8000-000000000000", roles: ALL },
  { method: "DELETE", url: "/api/devices/ACC1", roles: EDITORS },
  { method: "GET", url: "/api/audit", roles: ["admin"] },
  { method: "POST", url: "/api/auth/logout", roles: ALL },
];

describe.each(MODES)("who may call which route (%s mode)", (mode) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(mode);
    await t.app.inject({ method: "POST", url: "/api/devices", headers: await t.as("admin"), payload: { sn: "ACC1" } });
  });
  afterAll(async () => t.close());

  it.each(ROUTES)("$method $url without a session → 401", async (route) => {
    const res = await t.app.inject({ method: route.method, url: route.url, ...(route.payload && { payload: route.payload }) });
    expectError(res, 401, "MCS_ERR_UNAUTHENTICATED", /no session/);
  });

  it.each(ROUTES)("$method $url with an expired session → 401", async (route) => {
    const res = await t.app.inject({ method: route.method, url: route.url, headers: { authorization: "Bearer expired-or-never-issued" } });
    expectError(res, 401, "MCS_ERR_UNAUTHENTICATED", /expired or was revoked/);
  });

  const refusals = ROUTES.flatMap((route) => ALL.filter((role) => !route.roles.includes(role)).map((role) => ({ ...route, role })));
  it.each(refusals)("$method $url as $role → 403, and nothing changes", async (route) => {
    const before = await t.ports.db.query(`SELECT count(*)::int AS n FROM audit_log`);
    const res = await t.app.inject({ method: route.method, url: route.url, headers: await t.as(route.role), ...(route.payload && { payload: route.payload }) });
    expectError(res, 403, "MCS_ERR_FORBIDDEN", new RegExp(`you are ${route.role}`));
    expect(await t.ports.db.query(`SELECT count(*)::int AS n FROM audit_log`)).toEqual(before);
  });

  it("checks the role before the body: a viewer's bad body is 403, not 400", async () => {
    const res = await t.app.inject({ method: "POST", url: "/api/devices", headers: await t.as("viewer"), payload: { sn: "bad sn!" } });
    expectError(res, 403, "MCS_ERR_FORBIDDEN");
  });

  it("answers an unknown route with 404 in the error shape", async () => {
    expectError(await t.app.inject({ method: "GET", url: "/api/nothing-here" }), 404, "MCS_ERR_NOT_FOUND", "no route GET /api/nothing-here");
  });
});
