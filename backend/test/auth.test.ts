import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheKeys } from "@mcs/protocol";
import { MODES } from "../../test-support/ports.ts";
import { sha256Hex } from "../src/lib/token.ts";
import { SESSION_TTL_S } from "../src/plugins/app/sessions.ts";
import { MAX_FAILED_LOGINS } from "../src/plugins/app/login-throttle.ts";
import { buildTestApp, expectError, PASSWORD, type TestApp } from "./helper.ts";

describe.each(MODES)("sessions: POST /api/auth/login and /logout (%s mode)", (mode) => {
  let t: TestApp;
  const login = (username: string, password: string, remoteAddress = "127.0.0.1") =>
    t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username, password }, remoteAddress });
  const me = (headers: Record<string, string>) => t.app.inject({ method: "GET", url: "/api/auth/me", headers });

  beforeAll(async () => {
    t = await buildTestApp(mode);
  });
  afterAll(async () => t.close());

  it("answers a token and the user for the right password, and sets an HttpOnly SameSite=Strict cookie", async () => {
    const res = await login("operator", PASSWORD);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ token: string; user: object }>();
    expect(body).toEqual({ token: expect.any(String), user: { id: expect.any(Number), username: "operator", role: "operator" } });
    const cookie = res.cookies.find((c) => c.name === "mcs_session");
    expect(cookie).toMatchObject({ value: body.token, httpOnly: true, sameSite: "Strict", path: "/" });
    expect(cookie?.secure).toBeFalsy();
  });

  it("stores only the token's hash in the cache, with a TTL", async () => {
    const { token } = (await login("viewer", PASSWORD)).json<{ token: string }>();
    expect(await t.ports.cache.get(cacheKeys.session(token))).toBeNull();
    expect(await t.ports.cache.get(cacheKeys.session(sha256Hex(token)))).toContain('"user_id"');
  });

  it("accepts the token as a Bearer header and as the cookie", async () => {
    const { token } = (await login("viewer", PASSWORD)).json<{ token: string }>();
    expect((await me({ authorization: `Bearer ${token}` })).json()).toMatchObject({ username: "viewer" });
    expect((await me({ cookie: `mcs_session=${token}` })).json()).toMatchObject({ username: "viewer" });
  });

  it("refuses a wrong password and an unknown user alike: 401 with the error shape", async () => {
    expectError(await login("admin", "wrong password"), 401, "MCS_ERR_BAD_CREDENTIALS", "wrong username or password");
    expectError(await login("nobody", PASSWORD), 401, "MCS_ERR_BAD_CREDENTIALS", "wrong username or password");
  });

  it("refuses a login body with unknown fields or a missing password: 400", async () => {
    const res = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "admin", password: PASSWORD, role: "admin" } });
    expectError(res, 400, "MCS_ERR_VALIDATION", /body\.role: unknown field/);
    expectError(await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "admin" } }), 400, "MCS_ERR_VALIDATION", /body\.password/);
  });

  it(`refuses further attempts (429) after ${MAX_FAILED_LOGINS} failures for one username from one address`, async () => {
    for (let i = 0; i < MAX_FAILED_LOGINS; i++) expect((await login("engineer", "guess", "10.0.0.9")).statusCode).toBe(401);
    const blocked = await login("engineer", PASSWORD, "10.0.0.9");
    expectError(blocked, 429, "MCS_ERR_TOO_MANY_ATTEMPTS");
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
    // Another address is not blocked, and the window ends.
    expect((await login("engineer", PASSWORD, "10.0.0.10")).statusCode).toBe(200);
    t.clock.advance(16 * 60_000);
    expect((await login("engineer", PASSWORD, "10.0.0.9")).statusCode).toBe(200);
  });

  it("revokes the session on logout: the token answers 401 afterwards, and the cookie is cleared", async () => {
    const { token } = (await login("viewer", PASSWORD)).json<{ token: string }>();
    const headers = { authorization: `Bearer ${token}` };
    const out = await t.app.inject({ method: "POST", url: "/api/auth/logout", headers });
    expect(out.statusCode).toBe(204);
    expect(out.body).toBe("");
    expect(out.cookies.find((c) => c.name === "mcs_session")?.value).toBe("");
    expectError(await me(headers), 401, "MCS_ERR_UNAUTHENTICATED", /expired or was revoked/);
  });

  it("expires a session left unused for 12 hours, and keeps one that is used", async () => {
    const used = { authorization: `Bearer ${(await login("viewer", PASSWORD)).json<{ token: string }>().token}` };
    const idle = { authorization: `Bearer ${(await login("viewer", PASSWORD)).json<{ token: string }>().token}` };
    for (let hour = 0; hour < 13; hour++) {
      t.clock.advance(3_600_000);
      expect((await me(used)).statusCode).toBe(200);
    }
    expectError(await me(idle), 401, "MCS_ERR_UNAUTHENTICATED", /expired/);
    expect(SESSION_TTL_S).toBe(12 * 3600);
  });

  it("answers 401 for a made-up token and a malformed Authorization header", async () => {
    expectError(await me({ authorization: "Bearer not-a-session" }), 401, "MCS_ERR_UNAUTHENTICATED");
    expectError(await me({ authorization: "Basic YWRtaW46YWRtaW4=" }), 401, "MCS_ERR_UNAUTHENTICATED");
  });

  it("logs a user out whose account is gone", async () => {
    const { token } = (await login("operator", PASSWORD)).json<{ token: string }>();
    await t.ports.db.query(`DELETE FROM users WHERE username = 'operator'`);
    expectError(await me({ authorization: `Bearer ${token}` }), 401, "MCS_ERR_UNAUTHENTICATED", /no longer exists/);
  });
});

describe("the session cookie behind HTTPS", () => {
  it("is Secure when secureCookies is on", async () => {
    const t = await buildTestApp("embedded", { secureCookies: true });
    try {
      const res = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "admin", password: PASSWORD } });
      expect(res.cookies.find((c) => c.name === "mcs_session")?.secure).toBe(true);
    } finally {
      await t.close();
    }
  });
});
