import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheKeys } from "@mcs/protocol";
import { MODES } from "../../test-support/ports.ts";
import { sha256Hex } from "../src/lib/token.ts";
import { SESSION_TTL_S } from "../src/plugins/app/sessions.ts";
import { LOCKOUT, MAX_FAILED_LOGINS } from "../src/plugins/app/login-throttle.ts";
import { hashPassword } from "@mcs/core";
import { UserStore } from "@mcs/platform";
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
    // 4 failures, then the owner logs in from elsewhere (the account's count starts again), then a 5th from the same address.
    for (let i = 0; i < MAX_FAILED_LOGINS - 1; i++) expect((await login("engineer", "guess", "10.0.0.9")).statusCode).toBe(401);
    expect((await login("engineer", PASSWORD, "10.0.0.10")).statusCode).toBe(200);
    expect((await login("engineer", "guess", "10.0.0.9")).statusCode).toBe(401);
    const blocked = await login("engineer", PASSWORD, "10.0.0.9");
    expectError(blocked, 429, "MCS_ERR_TOO_MANY_ATTEMPTS", /too many failed logins from this address/);
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

describe.each(MODES)("lock-out after repeated failed logins (%s mode)", (mode) => {
  let t: TestApp;
  let users: UserStore;
  let hash: string;
  const login = (username: string, password: string, remoteAddress: string) =>
    t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username, password }, remoteAddress });
  const addUser = async (username: string) => (await users.create(username, hash, "operator", { name: "test" })).id;
  const LOCKED = "account locked after repeated failed logins; try again in 15 min or ask an administrator";

  beforeAll(async () => {
    t = await buildTestApp(mode);
    users = new UserStore(t.ports.db);
    hash = await hashPassword(PASSWORD);
  });
  afterAll(async () => t.close());

  it(`locks the account for 15 min after ${LOCKOUT.maxFailures} failures in a row from any addresses: still locked at 14:59, open at 15:01`, async () => {
    const id = await addUser("lock1");
    for (let i = 1; i < LOCKOUT.maxFailures; i++) expectError(await login("lock1", "wrong", `10.1.0.${i}`), 401, "MCS_ERR_BAD_CREDENTIALS");
    const fifth = await login("lock1", "wrong", "10.1.0.5");
    expectError(fifth, 423, "MCS_ERR_TOO_MANY_ATTEMPTS", LOCKED);
    expect(fifth.headers["retry-after"]).toBe("900");
    // Even the right password, from an address that never failed.
    expectError(await login("lock1", PASSWORD, "10.1.0.6"), 423, "MCS_ERR_TOO_MANY_ATTEMPTS", LOCKED);
    const [row] = await t.ports.db.query<{ locked_until: Date | string }>(`SELECT locked_until FROM users WHERE id = $1`, [id]);
    expect(new Date(row!.locked_until).getTime()).toBe(t.clock.now() + 15 * 60_000);

    t.clock.advance(14 * 60_000 + 59_000);
    const still = await login("lock1", PASSWORD, "10.1.0.7");
    expectError(still, 423, "MCS_ERR_TOO_MANY_ATTEMPTS", /try again in 1 min/);
    expect(still.headers["retry-after"]).toBe("1");
    t.clock.advance(2_000);
    expect((await login("lock1", PASSWORD, "10.1.0.7")).statusCode).toBe(200);
  });

  it("audits the lock as user.locked with the address of the failure that locked it", async () => {
    const rows = await t.ports.db.query<{ actor: string; ip: string; after: { locked_until: string; failed_logins: number } }>(
      `SELECT actor, ip, after FROM audit_log WHERE action = 'user.locked' AND target = 'lock1'`,
    );
    expect(rows).toEqual([{ actor: "anonymous", ip: "10.1.0.5", after: expect.objectContaining({ locked_until: expect.any(String), failed_logins: 5 }) }]);
    expect(JSON.stringify(rows)).not.toContain("wrong");
  });

  it("a successful login starts the count again", async () => {
    await addUser("lock2");
    for (let i = 0; i < LOCKOUT.maxFailures - 1; i++) expect((await login("lock2", "wrong", `10.2.0.${i}`)).statusCode).toBe(401);
    expect((await login("lock2", PASSWORD, "10.2.1.1")).statusCode).toBe(200);
    for (let i = 0; i < LOCKOUT.maxFailures - 1; i++) expect((await login("lock2", "wrong", `10.2.2.${i}`)).statusCode).toBe(401);
    expect((await login("lock2", PASSWORD, "10.2.1.1")).statusCode).toBe(200);
  });

  it("shows the lock in the user list, and an admin unlocks it; the guessing address stays braked for its window", async () => {
    const id = await addUser("lock3");
    for (let i = 0; i < LOCKOUT.maxFailures; i++) await login("lock3", "wrong", "10.3.0.9");
    const list = async () => (await t.app.inject({ method: "GET", url: "/api/users", headers: await t.as("admin") })).json<{ data: { username: string; locked_until: string | null }[] }>().data;
    expect((await list()).find((u) => u.username === "lock3")?.locked_until).toBe(new Date(t.clock.now() + 15 * 60_000).toISOString());

    const unlock = await t.app.inject({ method: "POST", url: `/api/users/${id}/unlock`, headers: await t.as("admin") });
    expect(unlock.statusCode).toBe(200);
    expect(unlock.json()).toMatchObject({ id, username: "lock3", locked_until: null });
    expectError(await login("lock3", PASSWORD, "10.3.0.9"), 429, "MCS_ERR_TOO_MANY_ATTEMPTS");
    expect((await login("lock3", PASSWORD, "10.3.0.1")).statusCode).toBe(200);
    const [audit] = await t.ports.db.query<{ actor: string; before: unknown; after: unknown }>(`SELECT actor, before, after FROM audit_log WHERE action = 'user.unlock' AND target = 'lock3'`);
    expect(audit).toMatchObject({ actor: "admin", before: { locked_until: expect.any(String) }, after: { locked_until: null, failed_logins: 0 } });
  });

  it("answers an unknown username exactly as a real one, lock and all (no way to learn which names exist)", async () => {
    for (let i = 1; i < LOCKOUT.maxFailures; i++) expectError(await login("ghost", "wrong", `10.4.0.${i}`), 401, "MCS_ERR_BAD_CREDENTIALS", "wrong username or password");
    const fifth = await login("ghost", "wrong", "10.4.0.5");
    expectError(fifth, 423, "MCS_ERR_TOO_MANY_ATTEMPTS", LOCKED);
    expect(fifth.headers["retry-after"]).toBe("900");
    expectError(await login("ghost", "anything", "10.4.0.6"), 423, "MCS_ERR_TOO_MANY_ATTEMPTS", LOCKED);
  });

  it("a disabled account: the right password answers 403 (disabled), a wrong one 401 as ever", async () => {
    const id = await addUser("gone1");
    await t.ports.db.query(`UPDATE users SET disabled = true WHERE id = $1`, [id]);
    expectError(await login("gone1", PASSWORD, "10.5.0.1"), 403, "MCS_ERR_FORBIDDEN", "this account is disabled: ask an administrator");
    expectError(await login("gone1", "wrong", "10.5.0.1"), 401, "MCS_ERR_BAD_CREDENTIALS");
  });
});

describe.each(MODES)("POST /api/auth/password: changing one's own password (%s mode)", (mode) => {
  let t: TestApp;
  let users: UserStore;
  const NEW = "Gas-Leak-Drill-77";
  const login = (username: string, password: string, remoteAddress = "127.0.0.1") =>
    t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username, password }, remoteAddress });
  const tokenFor = async (username: string, password = PASSWORD) => {
    const res = await login(username, password);
    expect(res.statusCode).toBe(200);
    return res.json<{ token: string }>().token;
  };
  const change = (token: string | null, payload: object, remoteAddress = "127.0.0.1") =>
    t.app.inject({ method: "POST", url: "/api/auth/password", payload, remoteAddress, ...(token && { headers: { authorization: `Bearer ${token}` } }) });
  const me = (token: string) => t.app.inject({ method: "GET", url: "/api/auth/me", headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    t = await buildTestApp(mode);
    users = new UserStore(t.ports.db);
    const hash = await hashPassword(PASSWORD);
    for (const [name, role] of [["self1", "viewer"], ["self2", "operator"], ["self3", "engineer"]] as const) await users.create(name, hash, role, { name: "test" });
  });
  afterAll(async () => t.close());

  it("without a session: 401", async () => {
    expectError(await change(null, { current_password: PASSWORD, new_password: NEW }), 401, "MCS_ERR_UNAUTHENTICATED", /no session/);
  });

  it("any role (here a viewer): 204; the old password stops working, the new one works; the other sessions end, this one stays", async () => {
    const here = await tokenFor("self1");
    const elsewhere = await tokenFor("self1");
    const res = await change(here, { current_password: PASSWORD, new_password: NEW });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe("");
    expect((await me(here)).json()).toEqual({ id: expect.any(Number), username: "self1", role: "viewer" });
    expectError(await me(elsewhere), 401, "MCS_ERR_UNAUTHENTICATED", /expired or was revoked/);
    expectError(await login("self1", PASSWORD), 401, "MCS_ERR_BAD_CREDENTIALS");
    expect((await login("self1", NEW)).statusCode).toBe(200);
  });

  it("is audited as user.password.change by the user, without either password or the hash", async () => {
    const rows = await t.ports.db.query<{ actor: string; before: unknown; after: unknown }>(
      `SELECT actor, before, after FROM audit_log WHERE action = 'user.password.change' AND target = 'self1'`,
    );
    expect(rows).toEqual([{ actor: "self1", before: expect.any(Object), after: { password_changed_at: expect.any(String), locked_until: null } }]);
    const text = JSON.stringify(await t.ports.db.query(`SELECT actor, ip, action, target, before, after FROM audit_log`));
    for (const secret of [PASSWORD, NEW, "scrypt$"]) expect(text).not.toContain(secret);
  });

  it("refuses a wrong current password: 400 naming body.current_password; nothing changes", async () => {
    const token = await tokenFor("self2");
    expectError(await change(token, { current_password: "not it at all", new_password: NEW }), 400, "MCS_ERR_VALIDATION", "body.current_password: wrong password");
    expect((await login("self2", PASSWORD)).statusCode).toBe(200);
  });

  it("refuses a weak or unchanged new password: 400 naming body.new_password with the policy's reason", async () => {
    const token = await tokenFor("self2");
    expectError(await change(token, { current_password: PASSWORD, new_password: "short" }), 400, "MCS_ERR_VALIDATION", "body.new_password: must be at least 10 characters long");
    expectError(await change(token, { current_password: PASSWORD, new_password: "horsebatterystaple" }), 400, "MCS_ERR_VALIDATION", /^body\.new_password: must mix at least 3 of/);
    expectError(await change(token, { current_password: PASSWORD, new_password: "My-Self2-Pass!" }), 400, "MCS_ERR_VALIDATION", "body.new_password: must not contain the username");
    expectError(await change(token, { current_password: PASSWORD, new_password: "Password1234" }), 400, "MCS_ERR_VALIDATION", /^body\.new_password: is too common/);
    await t.ports.db.query(`UPDATE users SET password_hash = $1 WHERE username = 'self3'`, [await hashPassword(NEW)]);
    const other = await tokenFor("self3", NEW);
    expectError(await change(other, { current_password: NEW, new_password: NEW }), 400, "MCS_ERR_VALIDATION", "body.new_password: must differ from the current password");
  });

  it("refuses bad bodies: 400 naming the field", async () => {
    const token = await tokenFor("self2");
    expectError(await change(token, { current_password: PASSWORD }), 400, "MCS_ERR_VALIDATION", /body\.new_password/);
    expectError(await change(token, { new_password: NEW }), 400, "MCS_ERR_VALIDATION", /body\.current_password/);
    expectError(await change(token, { current_password: PASSWORD, new_password: NEW, username: "admin" }), 400, "MCS_ERR_VALIDATION", /body\.username: unknown field/);
  });

  it(`brakes guessing the current password: after ${MAX_FAILED_LOGINS} wrong ones from one address, 429`, async () => {
    const token = await tokenFor("self2");
    for (let i = 0; i < MAX_FAILED_LOGINS; i++) expect((await change(token, { current_password: "guess", new_password: NEW }, "10.9.9.9")).statusCode).toBe(400);
    expectError(await change(token, { current_password: PASSWORD, new_password: NEW }, "10.9.9.9"), 429, "MCS_ERR_TOO_MANY_ATTEMPTS");
  });
});
