import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KioskTokenCreatedSchema, KioskTokenListSchema, type Role } from "@mcs/protocol";
import { MODES } from "../../test-support/ports.ts";
import { buildTestApp, expectError, type TestApp } from "./helper.ts";

interface Created {
  id: number;
  name: string;
  token: string;
  created_by: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

// Issue 6: a kiosk token that an admin issues for a wall screen and can revoke.
describe.each(MODES)("/api/kiosk-tokens (%s mode)", (mode) => {
  let t: TestApp;
  const call = async (method: "GET" | "POST" | "DELETE", url: string, role: Role = "admin", payload?: object) =>
    t.app.inject({ method, url, headers: await t.as(role), ...(payload !== undefined && { payload }) });
  const issue = async (name: string) => {
    const res = await call("POST", "/api/kiosk-tokens", "admin", { name });
    expect(res.statusCode).toBe(201);
    return res.json<Created>();
  };
  const asKiosk = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    t = await buildTestApp(mode);
    await call("POST", "/api/devices", "admin", { sn: "KT001" });
  });
  afterAll(async () => t.close());

  it("issues a token shown once, keeps only its sha256, lists it without it, and audits it", async () => {
    const created = await issue("中控室大屏");
    expect(() => KioskTokenCreatedSchema.strict().parse(created)).not.toThrow();
    expect(created).toEqual({
      id: expect.any(Number), name: "中控室大屏", token: expect.stringMatching(/^mcsk_[A-Za-z0-9_-]{43}$/), created_by: "admin",
      created_at: new Date(t.clock.now()).toISOString(), last_used_at: null, revoked_at: null,
    });
    const [row] = await t.ports.db.query<{ token_hash: string }>(`SELECT token_hash FROM kiosk_tokens WHERE id = $1`, [created.id]);
    expect(row?.token_hash).toBe(createHash("sha256").update(created.token).digest("hex"));

    const list = (await call("GET", "/api/kiosk-tokens")).json();
    expect(() => KioskTokenListSchema.strict().parse(list)).not.toThrow();
    const { token: _token, ...listed } = created;
    expect(list.data).toContainEqual(listed);
    expect(JSON.stringify(list)).not.toContain(created.token);

    const audit = (await call("GET", "/api/audit?action=kiosk_token")).json<{ data: { action: string; actor: string; target: string; after: unknown }[] }>();
    expect(audit.data).toContainEqual(expect.objectContaining({ action: "kiosk_token.create", actor: "admin", target: `kiosk token ${created.id} (中控室大屏)`, after: { id: created.id, name: "中控室大屏" } }));
    expect(JSON.stringify(audit)).not.toContain(created.token);
  });

  it("refuses a name that is empty or too long: 400", async () => {
    expectError(await call("POST", "/api/kiosk-tokens", "admin", { name: "  " }), 400, "MCS_ERR_VALIDATION", /name/);
    expectError(await call("POST", "/api/kiosk-tokens", "admin", { name: "x".repeat(65) }), 400, "MCS_ERR_VALIDATION", /name/);
    expectError(await call("POST", "/api/kiosk-tokens", "admin", { name: "a", extra: 1 }), 400, "MCS_ERR_VALIDATION");
  });

  it.each(["engineer", "operator", "viewer"] as Role[])("is the admin's alone: %s gets 403", async (role) => {
    expectError(await call("GET", "/api/kiosk-tokens", role), 403, "MCS_ERR_FORBIDDEN");
    expectError(await call("POST", "/api/kiosk-tokens", role, { name: "x" }), 403, "MCS_ERR_FORBIDDEN");
    expectError(await call("DELETE", "/api/kiosk-tokens/1", role), 403, "MCS_ERR_FORBIDDEN");
    expectError(await t.app.inject({ method: "GET", url: "/api/kiosk-tokens" }), 401, "MCS_ERR_UNAUTHENTICATED");
  });

  it("logs a screen in as the viewer kiosk:<name>, which may look (devices, trend) but never change anything (403)", async () => {
    const { token } = await issue("hall A");
    const me = await t.app.inject({ method: "GET", url: "/api/auth/me", headers: asKiosk(token) });
    expect(me.json()).toEqual({ id: expect.any(Number), username: "kiosk:hall A", role: "viewer" });
    expect((await t.app.inject({ method: "GET", url: "/api/devices", headers: asKiosk(token) })).statusCode).toBe(200);
    expect((await t.app.inject({ method: "GET", url: "/api/devices/KT001/trend", headers: asKiosk(token) })).statusCode).toBe(200);
    expect((await t.app.inject({ method: "GET", url: "/api/alarms?state=open", headers: asKiosk(token) })).statusCode).toBe(200);
    expectError(await t.app.inject({ method: "PATCH", url: "/api/devices/KT001", headers: asKiosk(token), payload: { name: "renamed" } }), 403, "MCS_ERR_FORBIDDEN", /kiosk token may only look/);
    expectError(await t.app.inject({ method: "POST", url: "/api/auth/logout", headers: asKiosk(token) }), 403, "MCS_ERR_FORBIDDEN");
    expectError(await t.app.inject({ method: "GET", url: "/api/kiosk-tokens", headers: asKiosk(token) }), 403, "MCS_ERR_FORBIDDEN");
    expect((await call("GET", "/api/devices/KT001")).json()).toMatchObject({ name: "KT001" }); // unchanged
  });

  it("is a Bearer token only: as the session cookie, or in the query of a REST call, it is refused (401)", async () => {
    const { token } = await issue("hall B");
    expectError(await t.app.inject({ method: "GET", url: "/api/devices", headers: { cookie: `mcs_session=${token}` } }), 401, "MCS_ERR_UNAUTHENTICATED");
    expectError(await t.app.inject({ method: "GET", url: `/api/devices?token=${token}` }), 401, "MCS_ERR_UNAUTHENTICATED");
  });

  it("notes when it was last used, at most once a minute", async () => {
    const { id, token } = await issue("hall C");
    const lastUsed = async () => (await call("GET", "/api/kiosk-tokens")).json<{ data: Created[] }>().data.find((k) => k.id === id)!.last_used_at;
    const use = () => t.app.inject({ method: "GET", url: "/api/devices", headers: asKiosk(token) });
    await use();
    const first = new Date(t.clock.now()).toISOString();
    expect(await lastUsed()).toBe(first);
    t.clock.advance(30_000);
    await use();
    expect(await lastUsed()).toBe(first);
    t.clock.advance(31_000);
    await use();
    expect(await lastUsed()).toBe(new Date(t.clock.now()).toISOString());
  });

  it("revokes: refused from then on (401), listed with revoked_at, audited once; revoking again changes nothing; an unknown id is 404", async () => {
    const { id, token } = await issue("hall D");
    expect((await t.app.inject({ method: "GET", url: "/api/devices", headers: asKiosk(token) })).statusCode).toBe(200);
    t.clock.advance(1000);
    const res = await call("DELETE", `/api/kiosk-tokens/${id}`);
    expect(res.statusCode).toBe(204);
    expectError(await t.app.inject({ method: "GET", url: "/api/devices", headers: asKiosk(token) }), 401, "MCS_ERR_UNAUTHENTICATED", /revoked/);
    const listed = (await call("GET", "/api/kiosk-tokens")).json<{ data: Created[] }>().data.find((k) => k.id === id);
    expect(listed?.revoked_at).toBe(new Date(t.clock.now()).toISOString());

    t.clock.advance(1000);
    expect((await call("DELETE", `/api/kiosk-tokens/${id}`)).statusCode).toBe(204);
    expect((await call("GET", "/api/kiosk-tokens")).json<{ data: Created[] }>().data.find((k) => k.id === id)?.revoked_at).toBe(listed?.revoked_at);
    const audit = (await call("GET", "/api/audit?action=kiosk_token.revoke")).json<{ data: { target: string; before: unknown; after: unknown }[] }>();
    expect(audit.data.filter((row) => row.target === `kiosk token ${id} (hall D)`)).toEqual([
      expect.objectContaining({ before: { revoked_at: null }, after: { revoked_at: listed?.revoked_at } }),
    ]);

    expectError(await call("DELETE", "/api/kiosk-tokens/999999"), 404, "MCS_ERR_NOT_FOUND", "no kiosk token 999999");
    expectError(await call("DELETE", "/api/kiosk-tokens/abc"), 400, "MCS_ERR_VALIDATION");
  });
});
