import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testS3Storage } from "@mcs/platform";
import { SettingsSchema, type Role } from "@mcs/protocol";
import { freePort } from "../../test-support/free-port.ts";
import { MODES } from "../../test-support/ports.ts";
import { buildTestApp, expectError, type TestApp } from "./helper.ts";

type Method = "GET" | "PUT" | "POST";
const ALL: Role[] = ["admin", "engineer", "operator", "viewer"];
const MASK = "********";
const BUCKET = "mcs-archive";
// s3rver's own keys; the secret is what must never come back.
const KEY_ID = "S3RVER";
const SECRET = "S3RVER";
const OTHER_SECRET = "another-secret-9c1f77e2";

/** s3rver 3.7: a local S3-compatible server (CommonJS, untyped). */
interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)("s3rver") as new (options: {
  port: number; address: string; silent: boolean; directory: string; configureBuckets: { name: string }[];
}) => S3rverInstance;

// Issue 5, item 7: system settings (object storage with a connection test, retention, license).
describe.each(MODES)("/api/settings (%s mode)", (mode) => {
  let t: TestApp;
  let as: Record<Role, { authorization: string }>;
  let s3: S3rverInstance;
  let directory: string;
  let endpoint = "";
  let closedPort = 0;
  const call = (method: Method, url: string, role: Role = "admin", payload?: object) =>
    t.app.inject({ method, url, headers: as[role], ...(payload !== undefined && { payload }) });
  const storage = (change: object = {}) => ({ endpoint, region: "auto", bucket: BUCKET, access_key_id: KEY_ID, secret_access_key: SECRET, force_path_style: true, prefix: "mcs/", ...change });
  const stored = async () => (await t.ports.db.query<{ value: any }>(`SELECT value FROM settings WHERE key = 'storage'`))[0]?.value;
  const count = async (table: string) => (await t.ports.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), "mcs-s3rver-"));
    s3 = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory, configureBuckets: [{ name: BUCKET }] });
    endpoint = `http://127.0.0.1:${(await s3.run()).port}`;
    closedPort = await freePort();
    t = await buildTestApp(mode);
    as = Object.fromEntries(await Promise.all(ALL.map(async (role) => [role, await t.as(role)] as const))) as Record<Role, { authorization: string }>;
  });
  afterAll(async () => {
    await t.close();
    await s3.close();
    rmSync(directory, { recursive: true, force: true });
  });

  describe("who may call which route", () => {
    const routes = () => [
      { method: "GET" as const, url: "/api/settings", roles: ["admin", "engineer"] as Role[] },
      { method: "PUT" as const, url: "/api/settings/storage", roles: ["admin"] as Role[], payload: storage() },
      { method: "PUT" as const, url: "/api/settings/retention", roles: ["admin"] as Role[], payload: { hot_days: 30 } },
      { method: "GET" as const, url: "/api/settings/plant", roles: ALL },
      { method: "PUT" as const, url: "/api/settings/plant", roles: ["admin"] as Role[], payload: { time_zone: "Asia/Shanghai" } },
      { method: "POST" as const, url: "/api/settings/storage/test", roles: ["admin"] as Role[], payload: storage() },
    ];

    it("every route answers 401 without a session", async () => {
      for (const route of routes()) {
        expectError(await t.app.inject({ method: route.method, url: route.url, ...(route.payload && { payload: route.payload }) }), 401, "MCS_ERR_UNAUTHENTICATED", /no session/);
      }
    });

    it("engineers read but do not change or test; operators and viewers do neither: 403, nothing changes", async () => {
      const before = { audit: await count("audit_log"), settings: await count("settings") };
      for (const route of routes()) {
        for (const role of ALL.filter((r) => !route.roles.includes(r))) {
          const res = await call(route.method, route.url, role, route.payload);
          expectError(res, 403, "MCS_ERR_FORBIDDEN", new RegExp(`this needs the role ${route.roles.join(" or ")}; you are ${role}`));
        }
      }
      expect({ audit: await count("audit_log"), settings: await count("settings") }).toEqual(before);
      expect((await call("GET", "/api/settings", "engineer")).statusCode).toBe(200);
    });
  });

  describe("GET /api/settings", () => {
    it("answers the defaults before anything is set: no storage, 3 hot days (MCS_RETENTION_DAYS), the nightly archive on, records kept a year", async () => {
      const res = await call("GET", "/api/settings", "engineer");
      expect(res.statusCode).toBe(200);
      expect(() => SettingsSchema.strict().parse(res.json())).not.toThrow();
      expect(res.json()).toEqual({
        storage: { endpoint: null, region: "auto", bucket: null, access_key_id: null, secret_access_key: null, force_path_style: true, prefix: "" },
        retention: { hot_days: 3, archive: true, records_days: 365 },
      });
    });
  });

  describe("PUT /api/settings/retention", () => {
    it("archives without an object storage too: to the local folder (issue 13)", async () => {
      expect((await call("PUT", "/api/settings/retention", "admin", { hot_days: 30, archive: true })).json()).toEqual({ hot_days: 30, archive: true, records_days: 365 });
    });

    it("sets the hot days; GET shows them", async () => {
      const res = await call("PUT", "/api/settings/retention", "admin", { hot_days: 30, archive: false, records_days: 400 });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ hot_days: 30, archive: false, records_days: 400 });
      expect((await call("GET", "/api/settings", "engineer")).json()).toMatchObject({ retention: { hot_days: 30, archive: false, records_days: 400 } });
    });

    it.each([
      ["0 days", { hot_days: 0 }, /^body\.hot_days: hot_days is 1–3650/],
      ["3651 days", { hot_days: 3651 }, /^body\.hot_days: hot_days is 1–3650/],
      ["half a day", { hot_days: 1.5 }, /^body\.hot_days: hot_days is a whole number/],
      ["days as text", { hot_days: "7" }, /^body\.hot_days: hot_days is a whole number of days/],
      ["no days", { archive: false }, /^body\.hot_days: /],
      ["archive as text", { hot_days: 7, archive: "yes" }, /^body\.archive: /],
      ["an unknown field", { hot_days: 7, cold_days: 90 }, /^body\.cold_days: unknown field/],
      ["records kept 10 days", { hot_days: 7, records_days: 10 }, /^body\.records_days: records_days is 30–3650/],
    ])("refuses %s with 400 naming the field, and changes nothing", async (_, payload, message) => {
      const before = (await call("GET", "/api/settings")).json();
      expectError(await call("PUT", "/api/settings/retention", "admin", payload), 400, "MCS_ERR_VALIDATION", message);
      expect((await call("GET", "/api/settings")).json()).toEqual(before);
    });
  });

  // Issue 15, item 4: one plant time zone for every page, export and notification.
  describe("GET and PUT /api/settings/plant", () => {
    const asKiosk = (token: string) => ({ authorization: `Bearer ${token}` });

    it("answers Asia/Shanghai before anything is set, to every role and to the big screen's kiosk token", async () => {
      for (const role of ALL) expect((await call("GET", "/api/settings/plant", role)).json()).toEqual({ time_zone: "Asia/Shanghai" });
      const { token } = (await call("POST", "/api/kiosk-tokens", "admin", { name: "plant zone screen" })).json<{ token: string }>();
      const res = await t.app.inject({ method: "GET", url: "/api/settings/plant", headers: asKiosk(token) });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ time_zone: "Asia/Shanghai" });
      // A kiosk only looks.
      expectError(await t.app.inject({ method: "PUT", url: "/api/settings/plant", headers: asKiosk(token), payload: { time_zone: "UTC" } }), 403, "MCS_ERR_FORBIDDEN", /kiosk token may only look/);
    });

    it("sets the zone (stored as its canonical name), writes the audit row; every role reads it", async () => {
      const res = await call("PUT", "/api/settings/plant", "admin", { time_zone: "asia/jakarta" });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ time_zone: "Asia/Jakarta" });
      expect((await call("GET", "/api/settings/plant", "viewer")).json()).toEqual({ time_zone: "Asia/Jakarta" });
      const audit = (await call("GET", "/api/audit?action=settings.plant")).json<{ data: { action: string; before: unknown; after: unknown }[] }>();
      expect(audit.data[0]).toMatchObject({ action: "settings.plant", before: null, after: { time_zone: "Asia/Jakarta" } });
      expect((await call("PUT", "/api/settings/plant", "admin", { time_zone: "Asia/Shanghai" })).json()).toEqual({ time_zone: "Asia/Shanghai" });
    });

    it.each([
      ["an unknown zone", { time_zone: "Mars/Olympus" }, /^body\.time_zone: "Mars\/Olympus" is not a known IANA time zone/],
      ["an offset", { time_zone: "+08:00" }, /^body\.time_zone: "\+08:00" is not a known IANA time zone.*not an offset/],
      ["an empty name", { time_zone: "" }, /^body\.time_zone: "" is not a known IANA time zone/],
      ["a number", { time_zone: 8 }, /^body\.time_zone: time_zone is the name of an IANA time zone/],
      ["no zone", {}, /^body\.time_zone: /],
      ["an unknown field", { time_zone: "UTC", dst: true }, /^body\.dst: unknown field/],
    ])("refuses %s with 400 naming the field, and changes nothing", async (_, payload, message) => {
      const before = await count("audit_log");
      expectError(await call("PUT", "/api/settings/plant", "admin", payload), 400, "MCS_ERR_VALIDATION", message);
      expect((await call("GET", "/api/settings/plant")).json()).toEqual({ time_zone: "Asia/Shanghai" });
      expect(await count("audit_log")).toBe(before);
    });

    it("reads an unusable stored zone as Asia/Shanghai rather than failing", async () => {
      await t.ports.db.query(`INSERT INTO settings (key, value, updated_by, updated_at) VALUES ('plant', '{"time_zone":"Nowhere/Gone"}'::jsonb, 'test', now())
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`);
      expect((await call("GET", "/api/settings/plant", "viewer")).json()).toEqual({ time_zone: "Asia/Shanghai" });
      await t.ports.db.query(`DELETE FROM settings WHERE key = 'plant'`);
    });
  });

  describe("PUT /api/settings/storage", () => {
    it("refuses a first setup without the secret", async () => {
      const { secret_access_key: _, ...withoutSecret } = storage();
      expectError(await call("PUT", "/api/settings/storage", "admin", withoutSecret), 400, "MCS_ERR_VALIDATION", /^body\.secret_access_key: required \(no secret is stored yet\)/);
      expectError(await call("PUT", "/api/settings/storage", "admin", storage({ secret_access_key: MASK })), 400, "MCS_ERR_VALIDATION", /^body\.secret_access_key: "\*{8}" stands for the stored secret, but none is stored/);
      expectError(await call("POST", "/api/settings/storage/test"), 400, "MCS_ERR_VALIDATION", /^body: no object storage is set up yet: send the settings to test/);
      expect(await stored()).toBeUndefined();
    });

    it("stores the settings; answers and GET show the secret as ********", async () => {
      const res = await call("PUT", "/api/settings/storage", "admin", storage());
      expect(res.statusCode).toBe(200);
      const view = { endpoint, region: "auto", bucket: BUCKET, access_key_id: KEY_ID, secret_access_key: MASK, force_path_style: true, prefix: "mcs/" };
      expect(res.json()).toEqual(view);
      expect((await call("GET", "/api/settings", "engineer")).json()).toMatchObject({ storage: view });
      expect(await stored()).toEqual(storage());
    });

    it("the secret left out, or sent as ********, keeps the stored one; a new one replaces it", async () => {
      const { secret_access_key: _, ...withoutSecret } = storage();
      expect((await call("PUT", "/api/settings/storage", "admin", { ...withoutSecret, prefix: "plant-a/" })).statusCode).toBe(200);
      expect(await stored()).toEqual(storage({ prefix: "plant-a/" }));
      const echoed = (await call("GET", "/api/settings")).json<{ storage: object }>().storage;
      expect((await call("PUT", "/api/settings/storage", "admin", echoed)).statusCode).toBe(200);
      expect(await stored()).toEqual(storage({ prefix: "plant-a/" }));
      const res = await call("PUT", "/api/settings/storage", "admin", storage({ secret_access_key: OTHER_SECRET, prefix: "mcs/" }));
      expect(res.body).not.toContain(OTHER_SECRET);
      expect((await stored()).secret_access_key).toBe(OTHER_SECRET);
      await call("PUT", "/api/settings/storage", "admin", storage());
    });

    it.each([
      ["an endpoint that is not http(s)", { endpoint: "ftp://storage.plant.cn" }, /^body\.endpoint: endpoint must be an http:\/\/ or https:\/\/ address/],
      ["an endpoint that is not an address", { endpoint: "r2 bucket" }, /^body\.endpoint: endpoint must be an http/],
      ["a bucket with capitals", { bucket: "MCS_Archive" }, /^body\.bucket: bucket is 3–63 lower-case letters/],
      ["no bucket", { bucket: undefined }, /^body\.bucket: /],
      ["an empty access key id", { access_key_id: "" }, /^body\.access_key_id: access_key_id is required/],
      ["an empty secret", { secret_access_key: "" }, /^body\.secret_access_key: secret_access_key is empty/],
      ["a bad region", { region: "EU Central" }, /^body\.region: region is 1–32 lower-case letters/],
      ["a prefix starting with /", { prefix: "/mcs" }, /^body\.prefix: prefix is letters, digits/],
      ["path style as text", { force_path_style: "yes" }, /^body\.force_path_style: /],
      ["an unknown field", { secret: "x" }, /^body\.secret: unknown field/],
    ])("refuses %s with 400 naming the field, and changes nothing", async (_, change, message) => {
      const before = await stored();
      expectError(await call("PUT", "/api/settings/storage", "admin", storage(change)), 400, "MCS_ERR_VALIDATION", message);
      expect(await stored()).toEqual(before);
    });
  });

  describe("POST /api/settings/storage/test (against a real S3-compatible server, s3rver)", () => {
    it("tests the stored settings without a body: HeadBucket, then a probe object written, read back and deleted", async () => {
      const res = await call("POST", "/api/settings/storage/test");
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ ok: true, detail: expect.stringMatching(new RegExp(`^bucket ${BUCKET} at ${endpoint} works: wrote, read back and deleted mcs/\\.mcs-connection-test/[0-9a-f]{12}$`)) });
    });

    it("tests settings before they are saved, with the stored secret when it is left out", async () => {
      const { secret_access_key: _, ...withoutSecret } = storage();
      const res = await call("POST", "/api/settings/storage/test", "admin", { ...withoutSecret, prefix: "" });
      expect(res.json()).toMatchObject({ ok: true, detail: expect.stringContaining("deleted .mcs-connection-test/") });
      expect(await stored()).toEqual(storage());
    });

    it("answers ok false with what failed in plain words", async () => {
      const test = async (change: object) => (await call("POST", "/api/settings/storage/test", "admin", storage(change))).json<{ ok: boolean; detail: string }>();
      expect(await test({ bucket: "no-such-bucket" })).toEqual({ ok: false, detail: `bucket no-such-bucket not found at ${endpoint}` });
      expect(await test({ endpoint: `http://127.0.0.1:${closedPort}` })).toEqual({ ok: false, detail: `cannot reach http://127.0.0.1:${closedPort}: ECONNREFUSED` });
      expect(await test({ access_key_id: "NOT-A-KEY" })).toEqual({ ok: false, detail: `access denied: check the keys and that they may use bucket ${BUCKET}` });
      // Nothing was stored by testing.
      expect(await stored()).toEqual(storage());
    });

    it("gives up on a server that never answers, saying so", async () => {
      const sockets = new Set<Socket>();
      const silent: Server = createServer((socket) => void sockets.add(socket));
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      const port = (silent.address() as { port: number }).port;
      try {
        const started = Date.now();
        const outcome = await testS3Storage(
          { endpoint: `http://127.0.0.1:${port}`, region: "auto", bucket: BUCKET, accessKeyId: KEY_ID, secretAccessKey: SECRET, forcePathStyle: true, prefix: "" },
          { timeoutMs: 400 },
        );
        expect(outcome).toEqual({ ok: false, detail: `cannot reach http://127.0.0.1:${port}: no answer within 400 ms` });
        expect(Date.now() - started).toBeLessThan(3000);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it("refuses a bad body with 400 naming the field", async () => {
      expectError(await call("POST", "/api/settings/storage/test", "admin", storage({ endpoint: "mailto:x@y" })), 400, "MCS_ERR_VALIDATION", /^body\.endpoint: endpoint must be an http/);
    });
  });

  describe("secrets are write-only", () => {
    it("never appear in any answer or in GET /api/audit", async () => {
      expect((await call("PUT", "/api/settings/retention", "admin", { hot_days: 14, archive: true })).json()).toEqual({ hot_days: 14, archive: true, records_days: 365 });
      const answers = [
        await call("GET", "/api/settings"),
        await call("GET", "/api/settings", "engineer"),
        await call("PUT", "/api/settings/storage", "admin", storage({ secret_access_key: OTHER_SECRET })),
        await call("POST", "/api/settings/storage/test"),
        await call("PUT", "/api/settings/storage", "admin", storage()),
        await call("GET", "/api/audit?limit=1000"),
        await call("GET", "/api/docs/json"),
      ];
      for (const res of answers) {
        expect(res.statusCode).toBe(200);
        expect(res.body).not.toContain(OTHER_SECRET);
        expect(res.body).not.toMatch(/"secret_access_key":"(?!\*{8}")/);
      }
      const { data } = answers[5]!.json<{ data: { action: string; actor: string; before: any; after: any }[] }>();
      const changes = data.filter((row) => row.action === "settings.storage");
      expect(changes.length).toBeGreaterThanOrEqual(5);
      for (const row of changes) {
        expect(row.actor).toBe("admin");
        expect(row.after.secret_access_key).toBe(MASK);
        if (row.before) expect(row.before.secret_access_key).toBe(MASK);
      }
      expect(changes[0]).toMatchObject({ after: { endpoint, bucket: BUCKET, secret_access_key_changed: true } });
      expect(changes[1]).toMatchObject({ after: { secret_access_key_changed: true } });
      const retention = data.find((row) => row.action === "settings.retention");
      expect(retention).toMatchObject({ before: { hot_days: 30, archive: false, records_days: 400 }, after: { hot_days: 14, archive: true } });
    });
  });
});
