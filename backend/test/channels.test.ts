import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SIGNATURE_HEADER } from "@mcs/platform";
import { ChannelViewSchema, type ChannelView, type Role } from "@mcs/protocol";
import { MODES } from "../../test-support/ports.ts";
import { buildTestApp, expectError, type TestApp } from "./helper.ts";

type Method = "GET" | "POST" | "PATCH" | "DELETE";
const ALL: Role[] = ["admin", "engineer", "operator", "viewer"];
const EDITORS: Role[] = ["admin", "engineer"];
const MASK = "********";
const FIRST_SECRET = "first-webhook-secret-7f3a";
const SECOND_SECRET = "second-webhook-secret-c91e";
const ROBOT_TOKEN = "robot-token-5d2b8e";
const ROBOT_SECRET = "SECrobot-signing-secret-aa41";

interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  signed: boolean;
}

/**
 * The plant's own system: it checks the webhook's signature (`X-MCS-Signature: sha256=<hex
 * HMAC-SHA256 of the raw body>`) with the secret it was given. `/fail` is a server in trouble;
 * `/robot` is a chat robot that quotes the token it was sent in its error.
 */
class PlantReceiver {
  readonly received: Received[] = [];
  secret = FIRST_SECRET;
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (body += chunk));
      req.on("end", () => {
        const expected = `sha256=${createHmac("sha256", this.secret).update(body, "utf8").digest("hex")}`;
        const signed = req.headers["x-mcs-signature"] === expected;
        const url = req.url ?? "";
        this.received.push({ url, headers: req.headers, body, signed });
        if (url.startsWith("/fail")) return void res.writeHead(503).end("busy");
        if (url.startsWith("/robot")) {
          const token = new URL(url, "http://localhost").searchParams.get("access_token");
          return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ errcode: 310000, errmsg: `keywords not in content, token ${token}` }));
        }
        res.writeHead(signed ? 200 : 401).end(signed ? "ok" : "bad signature");
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  url(path = "/mcs"): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

// Issue: alarm center, notification channels (DESIGN: `GET|POST /api/channels`,
// `POST /api/channels/{id}/test`; a webhook channel's config is {"url","secret"}).
describe.each(MODES)("/api/channels (%s mode)", (mode) => {
  let t: TestApp;
  let as: Record<Role, { authorization: string }>;
  const plant = new PlantReceiver();
  const call = (method: Method, url: string, role: Role = "admin", payload?: object) =>
    t.app.inject({ method, url, headers: as[role], ...(payload !== undefined && { payload }) });
  const create = (payload: object, role: Role = "engineer") => call("POST", "/api/channels", role, payload);
  const patch = (id: number, payload: object, role: Role = "engineer") => call("PATCH", `/api/channels/${id}`, role, payload);
  const test = (id: number, role: Role = "engineer") => call("POST", `/api/channels/${id}/test`, role);
  const storedConfig = async (id: number) => (await t.ports.db.query<{ config: unknown }>(`SELECT config FROM channels WHERE id = $1`, [id]))[0]?.config;
  const count = async (table: string) => (await t.ports.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;
  let webhook: ChannelView;

  beforeAll(async () => {
    await plant.start();
    t = await buildTestApp(mode);
    as = Object.fromEntries(await Promise.all(ALL.map(async (role) => [role, await t.as(role)] as const))) as Record<Role, { authorization: string }>;
    const res = await create({ type: "webhook", name: "DCS gateway", config: { url: plant.url(), secret: FIRST_SECRET } });
    expect(res.statusCode).toBe(201);
    webhook = res.json<ChannelView>();
  });
  afterAll(async () => {
    await t.close();
    await plant.stop();
  });

  describe("who may call which route", () => {
    const routes = () => [
      { method: "GET" as const, url: "/api/channels", roles: ALL },
      { method: "POST" as const, url: "/api/channels", roles: EDITORS, payload: { type: "webhook", name: "x", config: { url: plant.url(), secret: "s" } } },
      { method: "GET" as const, url: `/api/channels/${webhook.id}`, roles: ALL },
      { method: "PATCH" as const, url: `/api/channels/${webhook.id}`, roles: EDITORS, payload: { name: "renamed" } },
      { method: "POST" as const, url: `/api/channels/${webhook.id}/test`, roles: EDITORS },
      { method: "DELETE" as const, url: `/api/channels/${webhook.id}`, roles: EDITORS },
    ];

    it("every route answers 401 without a session", async () => {
      for (const route of routes()) {
        const res = await t.app.inject({ method: route.method, url: route.url, ...(route.payload && { payload: route.payload }) });
        expectError(res, 401, "MCS_ERR_UNAUTHENTICATED", /no session/);
      }
    });

    it("operators and viewers may read but not change, test or delete: 403, nothing changes, nothing is sent", async () => {
      const before = { audit: await count("audit_log"), channels: await count("channels"), sent: plant.received.length };
      for (const route of routes()) {
        for (const role of ALL.filter((r) => !route.roles.includes(r))) {
          const res = await t.app.inject({ method: route.method, url: route.url, headers: as[role], ...(route.payload && { payload: route.payload }) });
          expectError(res, 403, "MCS_ERR_FORBIDDEN", new RegExp(`this needs the role admin or engineer; you are ${role}`));
        }
      }
      expect({ audit: await count("audit_log"), channels: await count("channels"), sent: plant.received.length }).toEqual(before);
      expect((await call("GET", `/api/channels/${webhook.id}`, "viewer")).json()).toMatchObject({ name: "DCS gateway" });
      expect((await call("GET", "/api/channels", "operator")).statusCode).toBe(200);
    });
  });

  describe("POST /api/channels", () => {
    it("answers 201 with the channel: the rules' defaults filled, the secret shown as ********", async () => {
      expect(() => ChannelViewSchema.strict().parse(webhook)).not.toThrow();
      expect(webhook).toEqual({
        id: expect.any(Number), type: "webhook", name: "DCS gateway", enabled: true, config: { url: plant.url(), secret: MASK }, locale: "zh-CN",
        sns: null, types: null, min_level: 1, schedule: null, level2_always: true, repeat_every_min: 0, escalate_after_min: 0, min_interval_s: 0,
        created_at: new Date(t.clock.now()).toISOString(), updated_at: new Date(t.clock.now()).toISOString(),
      });
      expect(await storedConfig(webhook.id)).toEqual({ url: plant.url(), secret: FIRST_SECRET });
    });

    it("takes every rule: devices, types, level, schedule, repeats, escalation, interval, locale", async () => {
      const schedule = { timezone: "Asia/Shanghai", windows: [{ days: [1, 2, 3, 4, 5], start: "08:00", end: "18:00" }, { days: [5], start: "22:00", end: "06:00" }], holidays: ["2026-10-01"], workdays: ["2026-10-11"] };
      const res = await create({
        type: "email", name: "Shift leaders", enabled: false, locale: "en",
        config: { host: "smtp.plant.cn", user: "alarm@plant.cn", password: "mail-password-91", from: "燃气报警 <alarm@plant.cn>", to: ["lead@plant.cn"] },
        sns: ["A001", "A002"], types: ["HIGH", "LOW"], min_level: 2, schedule, level2_always: false, repeat_every_min: 30, escalate_after_min: 15, min_interval_s: 60,
      });
      expect(res.statusCode).toBe(201);
      expect(res.body).not.toContain("mail-password-91");
      expect(res.json()).toMatchObject({
        type: "email", name: "Shift leaders", enabled: false, locale: "en", sns: ["A001", "A002"], types: ["HIGH", "LOW"], min_level: 2, schedule,
        level2_always: false, repeat_every_min: 30, escalate_after_min: 15, min_interval_s: 60,
        config: { host: "smtp.plant.cn", port: 465, secure: true, user: "alarm@plant.cn", password: MASK, from: "燃气报警 <alarm@plant.cn>", to: ["lead@plant.cn"], tls_reject_unauthorized: true },
      });
      // A schedule's missing lists are filled.
      const short = await create({ type: "webhook", name: "office hours", config: { url: plant.url(), secret: "x" }, schedule: { windows: [{ days: [1], start: "00:00", end: "24:00" }] } });
      expect(short.json()).toMatchObject({ schedule: { timezone: "Asia/Shanghai", windows: [{ days: [1], start: "00:00", end: "24:00" }], holidays: [], workdays: [] } });
    });

    it("announces each change on channels.changed so that workers reload", async () => {
      const seen: unknown[] = [];
      const off = await t.ports.bus.subscribe("channels.changed", (m) => seen.push(m));
      const { id } = (await create({ type: "webhook", name: "announced", config: { url: plant.url(), secret: "x" } })).json<{ id: number }>();
      await expect.poll(() => seen).toContainEqual({ id });
      await patch(id, { name: "announced again" });
      await expect.poll(() => seen).toHaveLength(2);
      await call("DELETE", `/api/channels/${id}`);
      await expect.poll(() => seen).toHaveLength(3);
      expect(seen).toEqual([{ id }, { id }, { id }]);
      await off();
    });

    describe("bad input is refused with 400 naming the field, and nothing is stored", () => {
      const good = () => ({ type: "webhook", name: "x", config: { url: plant.url(), secret: "s" } });
      it.each([
        ["a webhook without its secret", { config: { url: "http://127.0.0.1/x" } }, /^body\.config\.secret: .*\(channel type webhook\)$/],
        ["a webhook address that is not http(s)", { config: { url: "ftp://plant/x", secret: "s" } }, /^body\.config\.url: must be an http:\/\/ or https:\/\/ address/],
        ["an e-mail channel without recipients", { type: "email", config: { host: "smtp.plant.cn", from: "a@plant.cn", to: [] } }, /^body\.config\.to: must name at least one recipient/],
        ["a DingTalk address over plain http to another host", { type: "dingtalk", config: { url: "http://oapi.dingtalk.com/robot/send?access_token=abc" } }, /^body\.config\.url: must start with https:\/\//],
        ["\"********\" for a secret never given", { config: { url: plant.url(), secret: MASK } }, /^body\.config\.secret: "\*{8}" stands for the stored secret, but a new channel has none/],
        ["an unknown type", { type: "pager" }, /^body\.type: /],
        ["no name", { name: undefined }, /^body\.name: /],
        ["config that is not an object", { config: "url=x" }, /^body\.config: expected record/],
        ["a schedule with a bad time", { schedule: { windows: [{ days: [1], start: "8:00", end: "18:00" }] } }, /^body\.schedule\.windows\[0\]\.start: "8:00" is not a time/],
        ["a schedule with a bad weekday", { schedule: { windows: [{ days: [0], start: "08:00", end: "18:00" }] } }, /^body\.schedule\.windows\[0\]\.days\[0\]: 0 is not a weekday/],
        ["a schedule in an unknown time zone", { schedule: { timezone: "Mars/Base", windows: [] } }, /^body\.schedule\.timezone: "Mars\/Base" is not an IANA time zone/],
        ["a schedule window with an unknown field", { schedule: { windows: [{ days: [1], start: "08:00", end: "18:00", colour: "red" }] } }, /^body\.schedule\.windows\.0\.colour: unknown field/],
        ["a schedule without windows", { schedule: { holidays: [] } }, /^body\.schedule\.windows: /],
        ["repeats beyond a day", { repeat_every_min: 2000 }, /^body\.repeat_every_min: repeat_every_min: at most 1440/],
        ["a negative escalation", { escalate_after_min: -1 }, /^body\.escalate_after_min: /],
        ["an interval beyond an hour", { min_interval_s: 3601 }, /^body\.min_interval_s: Too big/],
        ["a level 3", { min_level: 3 }, /^body\.min_level: /],
        ["an empty device list (null is all)", { sns: [] }, /^body\.sns: name at least one device, or null for all/],
        ["an unknown alarm type", { types: ["SMOKE"] }, /^body\.types\.0: /],
        ["an unknown locale", { locale: "fr" }, /^body\.locale: /],
        ["an unknown field", { colour: "red" }, /^body\.colour: unknown field/],
      ])("%s", async (_, change, message) => {
        const before = await count("channels");
        expectError(await create({ ...good(), ...change }), 400, "MCS_ERR_VALIDATION", message);
        expect(await count("channels")).toBe(before);
      });
    });
  });

  describe("secrets are write-only", () => {
    it("never appear in GET answers", async () => {
      for (const url of ["/api/channels", `/api/channels/${webhook.id}`]) {
        const res = await call("GET", url, "viewer");
        expect(res.statusCode).toBe(200);
        expect(res.body).not.toContain(FIRST_SECRET);
        expect(res.body).toContain(`"secret":"${MASK}"`);
      }
    });

    it("a robot's address is a secret too (it carries the token): masked, and blotted out of a test's answer", async () => {
      const res = await create({ type: "dingtalk", name: "Shift group", config: { url: `${plant.url("/robot/send")}?access_token=${ROBOT_TOKEN}`, secret: ROBOT_SECRET } });
      expect(res.statusCode).toBe(201);
      expect(res.json<ChannelView>().config).toEqual({ url: MASK, secret: MASK, at_mobiles: [], at_all: false });
      const tested = await test(res.json<ChannelView>().id);
      // The robot refused, quoting the token: the answer says why without it.
      expect(tested.json()).toEqual({ ok: false, detail: `DingTalk answered errcode 310000: keywords not in content, token ${MASK}` });
      expect(plant.received.at(-1)?.url).toContain(ROBOT_TOKEN);
      for (const body of [res.body, tested.body, (await call("GET", "/api/channels")).body]) {
        expect(body).not.toContain(ROBOT_TOKEN);
        expect(body).not.toContain(ROBOT_SECRET);
      }
    });
  });

  describe("POST /api/channels/{id}/test", () => {
    it("sends a signed test message with the stored config and answers what the far end said", async () => {
      expect(SIGNATURE_HEADER).toBe("X-MCS-Signature");
      const before = plant.received.length;
      const res = await test(webhook.id);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ ok: true, detail: "Webhook answered HTTP 200: ok" });
      expect(plant.received).toHaveLength(before + 1);
      const delivery = plant.received.at(-1)!;
      expect(delivery.signed).toBe(true);
      expect(delivery.headers["x-mcs-signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(JSON.parse(delivery.body)).toMatchObject({ event: "alarm.test", sn: "TEST", type: "HIGH", level: 1, ppm: null, alarms: [{ kind: "test", reason: expect.stringContaining("engineer") }] });
    });

    it("a disabled channel still sends: it is a test", async () => {
      expect((await patch(webhook.id, { enabled: false })).json()).toMatchObject({ enabled: false });
      const before = plant.received.length;
      expect((await test(webhook.id, "admin")).json()).toEqual({ ok: true, detail: "Webhook answered HTTP 200: ok" });
      expect(plant.received).toHaveLength(before + 1);
      await patch(webhook.id, { enabled: true });
    });

    it("answers 200 with ok false when the far end refuses or fails", async () => {
      const { id } = (await create({ type: "webhook", name: "broken", config: { url: plant.url("/fail"), secret: "x" } })).json<{ id: number }>();
      const res = await test(id);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ ok: false, detail: "Webhook answered HTTP 503: busy" });
      const { id: wrong } = (await create({ type: "webhook", name: "wrong secret", config: { url: plant.url(), secret: "not-the-plants" } })).json<{ id: number }>();
      expect((await test(wrong)).json()).toEqual({ ok: false, detail: "Webhook answered HTTP 401: bad signature" });
    });

    it("answers 404 for an unknown channel and 400 for an id that is not one", async () => {
      expectError(await test(99_999), 404, "MCS_ERR_NOT_FOUND", "no channel 99999");
      expectError(await call("POST", "/api/channels/abc/test"), 400, "MCS_ERR_VALIDATION", /^params\.id: id is a channel id/);
    });
  });

  describe("PATCH /api/channels/{id}", () => {
    it("changes what is given; the secret stays (checked by the receiver's HMAC)", async () => {
      const res = await patch(webhook.id, { name: "DCS gateway 2", min_level: 2, types: ["HIGH"] });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ name: "DCS gateway 2", min_level: 2, types: ["HIGH"], config: { url: plant.url(), secret: MASK } });
      expect((await test(webhook.id)).json()).toMatchObject({ ok: true });
    });

    it("a config without the secret, or with \"********\", keeps the stored secret", async () => {
      const moved = plant.url("/mcs/v2");
      const res = await patch(webhook.id, { config: { url: moved } });
      expect(res.json()).toMatchObject({ config: { url: moved, secret: MASK } });
      expect(await storedConfig(webhook.id)).toEqual({ url: moved, secret: FIRST_SECRET });
      expect((await test(webhook.id)).json()).toMatchObject({ ok: true });
      expect(plant.received.at(-1)).toMatchObject({ url: "/mcs/v2", signed: true });
      const echoed = await patch(webhook.id, { config: (await call("GET", `/api/channels/${webhook.id}`)).json<ChannelView>().config });
      expect(echoed.statusCode).toBe(200);
      expect(await storedConfig(webhook.id)).toEqual({ url: moved, secret: FIRST_SECRET });
      expect((await test(webhook.id)).json()).toMatchObject({ ok: true });
    });

    it("a new secret replaces the old one, and is never answered", async () => {
      const res = await patch(webhook.id, { config: { url: plant.url(), secret: SECOND_SECRET } });
      expect(res.body).not.toContain(SECOND_SECRET);
      expect((await test(webhook.id)).json()).toEqual({ ok: false, detail: "Webhook answered HTTP 401: bad signature" });
      plant.secret = SECOND_SECRET;
      expect((await test(webhook.id)).json()).toEqual({ ok: true, detail: "Webhook answered HTTP 200: ok" });
    });

    it("clears rules with null", async () => {
      const res = await patch(webhook.id, { types: null, schedule: null, sns: null });
      expect(res.json()).toMatchObject({ types: null, schedule: null, sns: null });
    });

    it.each([
      ["nothing", {}, /^body: nothing to change$/],
      ["a new type without its config", { type: "email" }, /^body\.config: a channel that becomes email needs a config for email/],
      ["a new type whose config lacks a secret (the old type's is not carried over)", { type: "feishu", config: {} }, /^body\.config\.url: /],
      ["a config that does not fit the type", { config: { url: "not a url" } }, /^body\.config\.url: must be an http/],
      ["a bad schedule", { schedule: { windows: [{ days: [1], start: "09:00", end: "09:00" }] } }, /^body\.schedule\.windows\[0\]\.end: equals start/],
      ["an unknown field", { secret: "x" }, /^body\.secret: unknown field/],
      ["an empty name", { name: " " }, /^body\.name: /],
    ])("refuses %s with 400 naming the field, and changes nothing", async (_, payload, message) => {
      const before = (await call("GET", `/api/channels/${webhook.id}`)).json();
      const stored = await storedConfig(webhook.id);
      expectError(await patch(webhook.id, payload), 400, "MCS_ERR_VALIDATION", message);
      expect((await call("GET", `/api/channels/${webhook.id}`)).json()).toEqual(before);
      expect(await storedConfig(webhook.id)).toEqual(stored);
    });

    it("answers 404 for an unknown channel", async () => {
      expectError(await patch(99_999, { name: "x" }), 404, "MCS_ERR_NOT_FOUND", "no channel 99999");
    });
  });

  describe("GET /api/audit", () => {
    it("records every channel change with the secrets' values left out", async () => {
      const res = await call("GET", "/api/audit?limit=1000");
      const { data } = res.json<{ data: { action: string; target: string; before: { config?: Record<string, unknown> } | null; after: { config?: Record<string, unknown> } | null }[] }>();
      const actions = data.filter((row) => row.action.startsWith("channel.")).map((row) => row.action);
      expect(actions).toEqual(expect.arrayContaining(["channel.create", "channel.update", "channel.delete"]));
      for (const secret of [FIRST_SECRET, SECOND_SECRET, ROBOT_TOKEN, ROBOT_SECRET, "mail-password-91"]) expect(res.body).not.toContain(secret);
      const update = data.find((row) => row.action === "channel.update" && row.target.startsWith(`channel ${webhook.id} `));
      expect(update?.after?.config).toMatchObject({ secret: MASK });
    });
  });

  describe("DELETE /api/channels/{id}", () => {
    it("answers 204; the channel is gone", async () => {
      const { id } = (await create({ type: "webhook", name: "temporary", config: { url: plant.url(), secret: "x" } })).json<{ id: number }>();
      const res = await call("DELETE", `/api/channels/${id}`, "engineer");
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe("");
      expectError(await call("GET", `/api/channels/${id}`), 404, "MCS_ERR_NOT_FOUND", `no channel ${id}`);
      expectError(await call("DELETE", `/api/channels/${id}`), 404, "MCS_ERR_NOT_FOUND", `no channel ${id}`);
      expectError(await test(id), 404, "MCS_ERR_NOT_FOUND");
    });
  });
});
