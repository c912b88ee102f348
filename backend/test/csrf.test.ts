import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LightMyRequestResponse } from "fastify";
import { MODES } from "../../test-support/ports.ts";
import { SESSION_TTL_S } from "../src/plugins/app/sessions.ts";
import { buildTestApp, expectError, PASSWORD, type TestApp } from "./helper.ts";

const MESSAGE = "missing or wrong CSRF token: send the mcs_csrf cookie's value in x-csrf-token";

interface BrowserSession {
  token: string;
  csrf: string;
  /** The Cookie header a browser would send. */
  cookie: string;
}

function cookiesOf(res: LightMyRequestResponse) {
  return { session: res.cookies.find((c) => c.name === "mcs_session"), csrf: res.cookies.find((c) => c.name === "mcs_csrf") };
}

describe.each(MODES)("CSRF protection of cookie sessions (%s mode)", (mode) => {
  let t: TestApp;
  const auditCount = async () => (await t.ports.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log`))[0]!.n;
  const browserLogin = async (username = "admin"): Promise<BrowserSession> => {
    const res = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username, password: PASSWORD } });
    expect(res.statusCode).toBe(200);
    const { session, csrf } = cookiesOf(res);
    return { token: session!.value, csrf: csrf!.value, cookie: `mcs_session=${session!.value}; mcs_csrf=${csrf!.value}` };
  };
  const createDevice = (sn: string, headers: Record<string, string>) => t.app.inject({ method: "POST", url: "/api/devices", headers, payload: { sn } });

  beforeAll(async () => {
    t = await buildTestApp(mode);
  });
  afterAll(async () => t.close());

  it("the login sets mcs_csrf beside the session cookie: random, readable by the page (not HttpOnly), SameSite=Strict, same lifetime", async () => {
    const res = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "viewer", password: PASSWORD } });
    const { session, csrf } = cookiesOf(res);
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/", maxAge: SESSION_TTL_S });
    expect(csrf).toMatchObject({ sameSite: "Strict", path: "/", maxAge: SESSION_TTL_S });
    expect(csrf?.httpOnly).toBeFalsy();
    expect(csrf?.secure).toBeFalsy();
    expect(csrf?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrf?.value).not.toBe(session?.value);
    expect(cookiesOf(await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "viewer", password: PASSWORD } })).csrf?.value).not.toBe(csrf?.value);
  });

  it("refuses a state-changing request with the session cookie but no x-csrf-token: 403, nothing changes", async () => {
    const { cookie } = await browserLogin();
    const before = await auditCount();
    expectError(await createDevice("CSRF1", { cookie }), 403, "MCS_ERR_FORBIDDEN", MESSAGE);
    expectError(await t.app.inject({ method: "POST", url: "/api/users", headers: { cookie }, payload: { username: "evil", password: "Tank-Farm-Valve-7", role: "admin" } }), 403, "MCS_ERR_FORBIDDEN", MESSAGE);
    expect(await auditCount()).toBe(before);
    expect((await t.app.inject({ method: "GET", url: "/api/devices/CSRF1", headers: { authorization: `Bearer ${await t.tokenOf("admin")}` } })).statusCode).toBe(404);
  });

  it("refuses a wrong x-csrf-token, and one that matches a cookie planted from another session: 403", async () => {
    const mine = await browserLogin();
    const other = await browserLogin();
    expectError(await createDevice("CSRF2", { cookie: mine.cookie, "x-csrf-token": "guessed" }), 403, "MCS_ERR_FORBIDDEN", MESSAGE);
    expectError(await createDevice("CSRF2", { cookie: mine.cookie, "x-csrf-token": other.csrf }), 403, "MCS_ERR_FORBIDDEN", MESSAGE);
    // Header and cookie agree, but they are not this session's token.
    const planted = `mcs_session=${mine.token}; mcs_csrf=${other.csrf}`;
    expectError(await createDevice("CSRF2", { cookie: planted, "x-csrf-token": other.csrf }), 403, "MCS_ERR_FORBIDDEN", MESSAGE);
    // The header without the cookie.
    expectError(await createDevice("CSRF2", { cookie: `mcs_session=${mine.token}`, "x-csrf-token": mine.csrf }), 403, "MCS_ERR_FORBIDDEN", MESSAGE);
  });

  it("accepts the right x-csrf-token: POST, PATCH and DELETE go through", async () => {
    const { cookie, csrf } = await browserLogin();
    const headers = { cookie, "x-csrf-token": csrf };
    expect((await createDevice("CSRF3", headers)).statusCode).toBe(201);
    expect((await t.app.inject({ method: "PATCH", url: "/api/devices/CSRF3", headers, payload: { name: "by cookie" } })).json()).toMatchObject({ name: "by cookie" });
    expect((await t.app.inject({ method: "DELETE", url: "/api/devices/CSRF3", headers })).statusCode).toBe(204);
  });

  it("checks before the body: a cookie request with a bad body and no token is 403, not 400", async () => {
    const { cookie } = await browserLogin();
    expectError(await createDevice("bad sn!", { cookie }), 403, "MCS_ERR_FORBIDDEN", MESSAGE);
  });

  it("lets reads through without the header", async () => {
    const { cookie } = await browserLogin("viewer");
    expect((await t.app.inject({ method: "GET", url: "/api/devices", headers: { cookie } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: "GET", url: "/api/auth/me", headers: { cookie } })).json()).toMatchObject({ username: "viewer", role: "viewer" });
  });

  it("exempts Bearer tokens (scripts: no ambient credential), even with a cookie beside them", async () => {
    const { authorization } = await t.as("admin");
    expect((await createDevice("CSRF4", { authorization })).statusCode).toBe(201);
    const { cookie } = await browserLogin();
    expect((await t.app.inject({ method: "DELETE", url: "/api/devices/CSRF4", headers: { authorization, cookie } })).statusCode).toBe(204);
  });

  it("exempts the login itself", async () => {
    const { cookie } = await browserLogin();
    const res = await t.app.inject({ method: "POST", url: "/api/auth/login", headers: { cookie }, payload: { username: "admin", password: PASSWORD } });
    expect(res.statusCode).toBe(200);
  });

  it("protects the self-service password change and the logout too", async () => {
    const { cookie, csrf } = await browserLogin("operator");
    expectError(await t.app.inject({ method: "POST", url: "/api/auth/password", headers: { cookie }, payload: { current_password: PASSWORD, new_password: "Gas-Leak-Drill-77" } }), 403, "MCS_ERR_FORBIDDEN", MESSAGE);
    expectError(await t.app.inject({ method: "POST", url: "/api/auth/logout", headers: { cookie } }), 403, "MCS_ERR_FORBIDDEN", MESSAGE);
    const out = await t.app.inject({ method: "POST", url: "/api/auth/logout", headers: { cookie, "x-csrf-token": csrf } });
    expect(out.statusCode).toBe(204);
  });

  it("the logout clears both cookies", async () => {
    const { cookie, csrf } = await browserLogin("engineer");
    const out = await t.app.inject({ method: "POST", url: "/api/auth/logout", headers: { cookie, "x-csrf-token": csrf } });
    const cleared = cookiesOf(out);
    expect(cleared.session?.value).toBe("");
    expect(cleared.csrf?.value).toBe("");
    expect(new Date(cleared.csrf!.expires!).getTime()).toBeLessThan(Date.now());
    expectError(await t.app.inject({ method: "GET", url: "/api/auth/me", headers: { cookie } }), 401, "MCS_ERR_UNAUTHENTICATED");
  });
});

describe("the CSRF cookie behind HTTPS", () => {
  it("is Secure like the session cookie when secureCookies is on", async () => {
    const t = await buildTestApp("embedded", { secureCookies: true });
    try {
      const res = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "admin", password: PASSWORD } });
      expect(cookiesOf(res).csrf?.secure).toBe(true);
      expect(cookiesOf(res).session?.secure).toBe(true);
    } finally {
      await t.close();
    }
  });
});
