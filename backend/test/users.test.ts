import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "@mcs/core";
import { LastAdminError, UserStore } from "@mcs/platform";
import { cacheKeys, type Role } from "@mcs/protocol";
import { MODES } from "../../test-support/ports.ts";
import { sha256Hex } from "../src/lib/token.ts";
import { SESSION_TTL_S, userSessionsKey } from "../src/plugins/app/sessions.ts";
import { buildTestApp, expectError, PASSWORD, type TestApp } from "./helper.ts";

type Method = "GET" | "POST" | "PATCH" | "DELETE";
const STRONG = "Tank-Farm-Valve-7";
const OTHERS: Role[] = ["engineer", "operator", "viewer"];

interface Route {
  method: Method;
  /** `:victim` is replaced by a user's id. */
  url: string;
  payload?: object;
}

/** Every /api/users route: admin only. */
const ROUTES: Route[] = [
  { method: "GET", url: "/api/users" },
  { method: "POST", url: "/api/users", payload: { username: "acc1", password: STRONG, role: "viewer" } },
  { method: "PATCH", url: "/api/users/:victim", payload: { role: "engineer" } },
  { method: "POST", url: "/api/users/:victim/password", payload: { password: STRONG } },
  { method: "POST", url: "/api/users/:victim/unlock" },
  { method: "DELETE", url: "/api/users/:victim" },
];

describe.each(MODES)("/api/users (%s mode)", (mode) => {
  let t: TestApp;
  let victim: number;
  const call = async (method: Method, url: string, payload?: object, role: Role | null = "admin") =>
    t.app.inject({ method, url, ...(payload !== undefined && { payload }), ...(role && { headers: await t.as(role) }) });
  const login = (username: string, password: string, remoteAddress = "127.0.0.1") =>
    t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username, password }, remoteAddress });
  const tokenFor = async (username: string, password = STRONG) => {
    const res = await login(username, password);
    expect(res.statusCode).toBe(200);
    return res.json<{ token: string }>().token;
  };
  const me = (token: string) => t.app.inject({ method: "GET", url: "/api/auth/me", headers: { authorization: `Bearer ${token}` } });
  const create = (username: string, role: Role = "operator", password = STRONG) => call("POST", "/api/users", { username, password, role });
  const idOf = async (username: string) => (await t.ports.db.query<{ id: number }>(`SELECT id FROM users WHERE username = $1`, [username]))[0]!.id;
  const auditCount = async () => (await t.ports.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log`))[0]!.n;
  const lastAudit = async (action: string, target: string) =>
    (await t.ports.db.query<{ actor: string; ip: string; before: unknown; after: unknown }>(
      `SELECT actor, ip, before, after FROM audit_log WHERE action = $1 AND target = $2 ORDER BY id DESC LIMIT 1`,
      [action, target],
    ))[0];

  beforeAll(async () => {
    t = await buildTestApp(mode);
    victim = (await new UserStore(t.ports.db).create("victim", await hashPassword(PASSWORD), "viewer", { name: "test" })).id;
  });
  afterAll(async () => t.close());

  describe("who may call", () => {
    const urlOf = (route: Route) => route.url.replace(":victim", String(victim));

    it.each(ROUTES)("$method $url without a session → 401", async (route) => {
      expectError(await call(route.method, urlOf(route), route.payload, null), 401, "MCS_ERR_UNAUTHENTICATED", /no session/);
    });

    const refusals = ROUTES.flatMap((route) => OTHERS.map((role) => ({ ...route, role })));
    it.each(refusals)("$method $url as $role → 403, and nothing changes", async (route) => {
      const before = await auditCount();
      expectError(await call(route.method, urlOf(route), route.payload, route.role), 403, "MCS_ERR_FORBIDDEN", `this needs the role admin; you are ${route.role}`);
      expect(await auditCount()).toBe(before);
    });

    it("checks the role before the body: an operator's bad body is 403, not 400", async () => {
      expectError(await call("POST", "/api/users", { username: "bad name!" }, "operator"), 403, "MCS_ERR_FORBIDDEN");
    });
  });

  describe("GET /api/users", () => {
    it("lists every user with role, disabled, locked_until, created_at and password_changed_at; never a hash", async () => {
      const res = await call("GET", "/api/users");
      expect(res.statusCode).toBe(200);
      const { data } = res.json<{ data: Record<string, unknown>[] }>();
      expect(data.map((u) => u.username)).toEqual(expect.arrayContaining(["admin", "engineer", "operator", "viewer", "victim"]));
      expect(data.find((u) => u.username === "engineer")).toEqual({
        id: expect.any(Number),
        username: "engineer",
        role: "engineer",
        disabled: false,
        locked_until: null,
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        password_changed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
      expect(res.body).not.toMatch(/password_hash|scrypt|failed_logins/);
    });
  });

  describe("POST /api/users", () => {
    it("answers 201 with the account; the user can log in with the role", async () => {
      const res = await create("new.user-1", "engineer");
      expect(res.statusCode).toBe(201);
      expect(res.json()).toEqual({
        id: expect.any(Number),
        username: "new.user-1",
        role: "engineer",
        disabled: false,
        locked_until: null,
        created_at: expect.any(String),
        password_changed_at: new Date(t.clock.now()).toISOString(),
      });
      expect((await login("new.user-1", STRONG)).json()).toMatchObject({ user: { username: "new.user-1", role: "engineer" } });
    });

    it("is audited as user.create by the admin, from the address, without the password or its hash", async () => {
      expect(await lastAudit("user.create", "new.user-1")).toEqual({
        actor: "admin",
        ip: "127.0.0.1",
        before: null,
        after: expect.objectContaining({ username: "new.user-1", role: "engineer", disabled: false }),
      });
      const text = JSON.stringify(await t.ports.db.query(`SELECT actor, action, target, before, after FROM audit_log`));
      expect(text).not.toContain(STRONG);
      expect(text).not.toMatch(/password_hash|scrypt\$/);
    });

    it("answers 409 for a name that exists, whatever its case", async () => {
      expectError(await create("new.user-1"), 409, "MCS_ERR_CONFLICT", "a user named new.user-1 exists already");
      expectError(await create("NEW.User-1"), 409, "MCS_ERR_CONFLICT", "a user named NEW.User-1 exists already");
    });

    it.each([
      ["too_short", "Ab1!", "body.password: must be at least 10 characters long"],
      ["too_few_classes", "horsebatterystaple", /^body\.password: must mix at least 3 of/],
      ["contains_username", "Weak-Pat1-Pass", "body.password: must not contain the username"],
      ["too_common", "Password1234", /^body\.password: is too common/],
      ["too_common", "Admin@123456", /^body\.password: is too common/],
    ] as const)("refuses a weak password (%s): 400 with the policy's reason naming body.password", async (_code, password, message) => {
      const before = await auditCount();
      expectError(await create("pat1", "viewer", password), 400, "MCS_ERR_VALIDATION", message);
      expect(await auditCount()).toBe(before);
    });

    it("refuses bad bodies: 400 naming the field", async () => {
      expectError(await call("POST", "/api/users", { username: "x1", password: STRONG }), 400, "MCS_ERR_VALIDATION", /body\.role/);
      expectError(await call("POST", "/api/users", { username: "x1", password: STRONG, role: "boss" }), 400, "MCS_ERR_VALIDATION", /body\.role/);
      expectError(await call("POST", "/api/users", { username: "bad name!", password: STRONG, role: "viewer" }), 400, "MCS_ERR_VALIDATION", /^body\.username: username is 1–64 letters/);
      expectError(await call("POST", "/api/users", { username: "x1", role: "viewer" }), 400, "MCS_ERR_VALIDATION", /body\.password/);
      expectError(await call("POST", "/api/users", { username: "x1", password: STRONG, role: "viewer", admin: true }), 400, "MCS_ERR_VALIDATION", "body.admin: unknown field");
    });
  });

  describe("PATCH /api/users/{id}", () => {
    it("changes the role: 200 with the account; the user's sessions end at once; audited before → after", async () => {
      expect((await create("pat1")).statusCode).toBe(201);
      const id = await idOf("pat1");
      const [a, b] = [await tokenFor("pat1"), await tokenFor("pat1")];
      const res = await call("PATCH", `/api/users/${id}`, { role: "engineer" });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id, username: "pat1", role: "engineer", disabled: false });
      for (const token of [a, b]) expectError(await me(token), 401, "MCS_ERR_UNAUTHENTICATED", /expired or was revoked/);
      expect((await me(await tokenFor("pat1"))).json()).toMatchObject({ role: "engineer" });
      expect(await lastAudit("user.update", "pat1")).toMatchObject({ actor: "admin", before: { role: "operator", disabled: false }, after: { role: "engineer", disabled: false } });
    });

    it("disables: the user's sessions end, the login answers 403; enabled again, they log in", async () => {
      const id = await idOf("pat1");
      const token = await tokenFor("pat1");
      expect((await call("PATCH", `/api/users/${id}`, { disabled: true })).json()).toMatchObject({ disabled: true });
      expectError(await me(token), 401, "MCS_ERR_UNAUTHENTICATED");
      expectError(await login("pat1", STRONG), 403, "MCS_ERR_FORBIDDEN", /disabled/);
      expect((await call("GET", "/api/users")).json<{ data: { username: string; disabled: boolean }[] }>().data.find((u) => u.username === "pat1")?.disabled).toBe(true);
      expect((await call("PATCH", `/api/users/${id}`, { disabled: false })).json()).toMatchObject({ disabled: false });
      expect((await me(await tokenFor("pat1"))).statusCode).toBe(200);
    });

    it("refuses a disabled user's requests at once (401), even with a session the index missed", async () => {
      const id = await idOf("pat1");
      const token = await tokenFor("pat1");
      await t.ports.db.query(`UPDATE users SET disabled = true WHERE id = $1`, [id]);
      expectError(await me(token), 401, "MCS_ERR_UNAUTHENTICATED", "this account is disabled: ask an administrator");
      await t.ports.db.query(`UPDATE users SET disabled = false WHERE id = $1`, [id]);
    });

    it("changing nothing ends no session and writes no audit row", async () => {
      const id = await idOf("pat1");
      const token = await tokenFor("pat1");
      const before = await auditCount();
      expect((await call("PATCH", `/api/users/${id}`, { role: "engineer", disabled: false })).statusCode).toBe(200);
      expect((await me(token)).statusCode).toBe(200);
      expect(await auditCount()).toBe(before);
    });

    it("refuses to demote or disable the last enabled admin: 409", async () => {
      const admin = await idOf("admin");
      expectError(await call("PATCH", `/api/users/${admin}`, { role: "engineer" }), 409, "MCS_ERR_CONFLICT", "admin is the last enabled admin: make another user admin first");
      expectError(await call("PATCH", `/api/users/${admin}`, { disabled: true }), 409, "MCS_ERR_CONFLICT", /last enabled admin/);
      // With a second admin, one may be demoted; then the first is the last again.
      expect((await create("boss2", "admin")).statusCode).toBe(201);
      const boss = await idOf("boss2");
      expect((await call("PATCH", `/api/users/${boss}`, { role: "viewer" })).json()).toMatchObject({ role: "viewer" });
      expectError(await call("PATCH", `/api/users/${admin}`, { role: "viewer" }), 409, "MCS_ERR_CONFLICT");
      expect((await me(await t.tokenOf("admin"))).json()).toMatchObject({ role: "admin" });
    });

    it("refuses bad bodies and ids: 400 naming the field; an unknown user: 404", async () => {
      const id = await idOf("pat1");
      expectError(await call("PATCH", `/api/users/${id}`, {}), 400, "MCS_ERR_VALIDATION", "body: nothing to change: send role or disabled");
      expectError(await call("PATCH", `/api/users/${id}`, { role: "boss" }), 400, "MCS_ERR_VALIDATION", /^body\.role/);
      expectError(await call("PATCH", `/api/users/${id}`, { disabled: "yes" }), 400, "MCS_ERR_VALIDATION", /^body\.disabled/);
      expectError(await call("PATCH", `/api/users/${id}`, { password: STRONG }), 400, "MCS_ERR_VALIDATION", "body.password: unknown field");
      expectError(await call("PATCH", "/api/users/abc", { role: "viewer" }), 400, "MCS_ERR_VALIDATION", "params.id: id is a user id (a positive whole number)");
      expectError(await call("PATCH", "/api/users/99999999999", { role: "viewer" }), 400, "MCS_ERR_VALIDATION", /^params\.id/);
      expectError(await call("PATCH", "/api/users/999999", { role: "viewer" }), 404, "MCS_ERR_NOT_FOUND", "no user 999999");
    });
  });

  describe("POST /api/users/{id}/password (an admin's reset)", () => {
    it("answers 204; the old password stops working, the new one works; the user's sessions end; a lock is lifted", async () => {
      expect((await create("rst1")).statusCode).toBe(201);
      const id = await idOf("rst1");
      const token = await tokenFor("rst1");
      for (let i = 0; i < 5; i++) await login("rst1", "wrong", `10.7.0.${i}`);
      expectError(await login("rst1", STRONG, "10.7.1.1"), 423, "MCS_ERR_TOO_MANY_ATTEMPTS");
      const res = await call("POST", `/api/users/${id}/password`, { password: "Fresh-Start-2025" });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe("");
      expectError(await me(token), 401, "MCS_ERR_UNAUTHENTICATED", /expired or was revoked/);
      expectError(await login("rst1", STRONG, "10.7.1.1"), 401, "MCS_ERR_BAD_CREDENTIALS");
      expect((await login("rst1", "Fresh-Start-2025", "10.7.1.1")).statusCode).toBe(200);
    });

    it("is audited as user.password.reset by the admin, without the password or its hash", async () => {
      const row = await lastAudit("user.password.reset", "rst1");
      expect(row).toMatchObject({ actor: "admin", after: { password_changed_at: expect.any(String), locked_until: null } });
      expect(JSON.stringify(row)).not.toMatch(/Fresh-Start-2025|scrypt/);
    });

    it("refuses a weak password (naming body.password), a bad body, and an unknown user", async () => {
      const id = await idOf("rst1");
      expectError(await call("POST", `/api/users/${id}/password`, { password: "My-rst1-secret" }), 400, "MCS_ERR_VALIDATION", "body.password: must not contain the username");
      expectError(await call("POST", `/api/users/${id}/password`, { password: "qwerty123456" }), 400, "MCS_ERR_VALIDATION", /^body\.password: is too common/);
      expectError(await call("POST", `/api/users/${id}/password`, { password: "short" }), 400, "MCS_ERR_VALIDATION", "body.password: must be at least 10 characters long");
      expectError(await call("POST", `/api/users/${id}/password`, {}), 400, "MCS_ERR_VALIDATION", /^body\.password/);
      expectError(await call("POST", `/api/users/${id}/password`, { password: STRONG, role: "admin" }), 400, "MCS_ERR_VALIDATION", "body.role: unknown field");
      expectError(await call("POST", "/api/users/999999/password", { password: STRONG }), 404, "MCS_ERR_NOT_FOUND", "no user 999999");
    });
  });

  describe("POST /api/users/{id}/unlock", () => {
    it("answers 200 with the account, unlocked (also when it was not locked); 404 for an unknown user; 400 for a bad id", async () => {
      const res = await call("POST", `/api/users/${victim}/unlock`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: victim, username: "victim", locked_until: null });
      expectError(await call("POST", "/api/users/999999/unlock"), 404, "MCS_ERR_NOT_FOUND", "no user 999999");
      expectError(await call("POST", "/api/users/0/unlock"), 400, "MCS_ERR_VALIDATION", /^params\.id/);
    });
  });

  describe("DELETE /api/users/{id}", () => {
    it("answers 204; the user's sessions end and their index is gone; audited", async () => {
      expect((await create("del1")).statusCode).toBe(201);
      const id = await idOf("del1");
      const token = await tokenFor("del1");
      expect(Object.keys(await t.ports.cache.hgetall(userSessionsKey(id)))).toEqual([sha256Hex(token)]);
      const res = await call("DELETE", `/api/users/${id}`);
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe("");
      expectError(await me(token), 401, "MCS_ERR_UNAUTHENTICATED", /expired or was revoked/);
      expect(await t.ports.cache.get(cacheKeys.session(sha256Hex(token)))).toBeNull();
      expect(await t.ports.cache.hgetall(userSessionsKey(id))).toEqual({});
      expect((await call("GET", "/api/users")).json<{ data: { username: string }[] }>().data.map((u) => u.username)).not.toContain("del1");
      expect(await lastAudit("user.delete", "del1")).toMatchObject({ actor: "admin", before: { username: "del1", role: "operator" }, after: null });
      expectError(await call("DELETE", `/api/users/${id}`), 404, "MCS_ERR_NOT_FOUND", `no user ${id}`);
    });

    it("refuses to delete yourself: 409", async () => {
      expectError(await call("DELETE", `/api/users/${await idOf("admin")}`), 409, "MCS_ERR_CONFLICT", "you cannot delete yourself: another admin can");
    });

    it("never deletes the last enabled admin (the store refuses, whoever asks)", async () => {
      await expect(new UserStore(t.ports.db).delete(await idOf("admin"), { name: "test" }, t.clock.now())).rejects.toThrow(LastAdminError);
      expect((await me(await t.tokenOf("admin"))).statusCode).toBe(200);
    });

    it("refuses a bad id: 400 naming params.id", async () => {
      expectError(await call("DELETE", "/api/users/-1"), 400, "MCS_ERR_VALIDATION", /^params\.id/);
    });
  });

  describe("the per-user session index", () => {
    it("holds one field per session (the token's hash → its expiry), pruned of expired ones at the next login", async () => {
      expect((await create("idx1")).statusCode).toBe(201);
      const id = await idOf("idx1");
      const first = await tokenFor("idx1");
      expect(await t.ports.cache.hgetall(userSessionsKey(id))).toEqual({ [sha256Hex(first)]: String(t.clock.now() + SESSION_TTL_S * 1000) });
      t.clock.advance(SESSION_TTL_S * 1000 + 1000);
      const second = await tokenFor("idx1");
      expect(Object.keys(await t.ports.cache.hgetall(userSessionsKey(id)))).toEqual([sha256Hex(second)]);
    });
  });
});
