import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ALARM_SETTINGS, evaluateReading, formatZoned, memoryFromOpenAlarms, type AlarmEvent, type AlarmSettings } from "@mcs/core";
import { AlarmStore, OutboxStore } from "@mcs/platform";
import { AlarmDetailSchema, AlarmSchema, type Alarm, type Role } from "@mcs/protocol";
import { MODES } from "../../test-support/ports.ts";
import { buildTestApp, expectError, type TestApp } from "./helper.ts";

type Method = "GET" | "POST" | "PUT";
const ALL: Role[] = ["admin", "engineer", "operator", "viewer"];
const EDITORS: Role[] = ["admin", "engineer"];
const ANSWERERS: Role[] = ["admin", "engineer", "operator"];

/** CH4 in %LEL: level 1 above 25, level 2 above 50 (GB/T 50493-2019). */
const SETTINGS: AlarmSettings = { ...DEFAULT_ALARM_SETTINGS, high1: 25, high2: 50, lowBatteryV: null };

/** RFC 4180, as Excel writes it. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") row.push(cell), (cell = "");
    else if (c === "\n") row.push(cell), rows.push(row), (row = []), (cell = "");
    else if (c !== "\r") cell += c;
  }
  return rows;
}

// Issue: alarm center (DESIGN: `GET /api/alarms?state=open`, `POST /api/alarms/{id}/ack` {"comment"}).
describe.each(MODES)("/api/alarms (%s mode)", (mode) => {
  let t: TestApp;
  let store: AlarmStore;
  let as: Record<Role, { authorization: string }>;
  const call = (method: Method, url: string, role: Role = "admin", payload?: object) =>
    t.app.inject({ method, url, headers: as[role], ...(payload !== undefined && { payload }) });
  const ack = (id: number, comment?: string, role: Role = "operator") => call("POST", `/api/alarms/${id}/ack`, role, comment === undefined ? undefined : { comment });
  const clear = (id: number, comment?: string, role: Role = "engineer") => call("POST", `/api/alarms/${id}/clear`, role, comment === undefined ? undefined : { comment });
  const iso = (ms: number) => new Date(ms).toISOString();

  /**
   * What a worker does: the core evaluator over readings 10 s apart, its events written by
   * `AlarmStore.apply`. Answers the device's newest alarm.
   */
  async function feed(sn: string, values: number[], channels: number[] = []): Promise<Alarm> {
    const before = (await store.open([sn])).get(sn) ?? [];
    let memory = memoryFromOpenAlarms(before);
    const events: AlarmEvent[] = [];
    for (const value of values) {
      t.clock.advance(10_000);
      const evaluation = evaluateReading(memory, SETTINGS, { at: t.clock.now(), value, v_raw: value / 10, err: 0, anomaly: false }, false);
      memory = evaluation.memory;
      events.push(...evaluation.events);
    }
    await store.apply([{ sn, before, events }], () => channels, "worker", t.clock.now());
    const [newest] = await store.list({ sn, limit: 1 });
    return newest as Alarm;
  }

  let active: Alarm;
  let gone: Alarm;

  beforeAll(async () => {
    t = await buildTestApp(mode);
    store = new AlarmStore(t.ports.db);
    as = Object.fromEntries(await Promise.all(ALL.map(async (role) => [role, await t.as(role)] as const))) as Record<Role, { authorization: string }>;
    active = await feed("AUTH1", [30]);
    gone = await feed("AUTH2", [30, 10]);
    await t.app.inject({ method: "POST", url: "/api/devices", headers: as.admin, payload: { sn: "AUTHDEV", gas: "H2S", unit: "ppm" } });
  });
  afterAll(async () => t.close());

  describe("who may call which route", () => {
    const routes = () => [
      { method: "GET" as const, url: "/api/alarms", roles: ALL },
      { method: "GET" as const, url: "/api/alarms/export.csv", roles: ALL },
      { method: "GET" as const, url: `/api/alarms/${active.id}`, roles: ALL },
      { method: "POST" as const, url: `/api/alarms/${active.id}/ack`, roles: ANSWERERS, payload: { comment: "x" } },
      { method: "POST" as const, url: `/api/alarms/${gone.id}/clear`, roles: EDITORS, payload: { comment: "x" } },
      { method: "GET" as const, url: "/api/alarm-presets", roles: ALL },
      { method: "POST" as const, url: "/api/devices/AUTHDEV/alarm-preset", roles: EDITORS, payload: {} },
    ];

    it("every route answers 401 without a session", async () => {
      for (const route of routes()) {
        const res = await t.app.inject({ method: route.method, url: route.url, ...(route.payload && { payload: route.payload }) });
        expectError(res, 401, "MCS_ERR_UNAUTHENTICATED", /no session/);
      }
    });

    it("a role that may not answers 403, and nothing changes (checked before the body)", async () => {
      const audit = async () => (await t.ports.db.query(`SELECT count(*)::int AS n FROM audit_log`))[0];
      const before = await audit();
      let refused = 0;
      for (const route of routes()) {
        for (const role of ALL.filter((r) => !route.roles.includes(r))) {
          // A bad body too: the role is checked first.
          const res = await t.app.inject({ method: route.method, url: route.url, headers: as[role], ...(route.payload && { payload: { colour: "red" } }) });
          expectError(res, 403, "MCS_ERR_FORBIDDEN", new RegExp(`you are ${role}`));
          refused++;
        }
      }
      expect(refused).toBe(5);
      expect(await audit()).toEqual(before);
      expect((await store.get(active.id))?.state).toBe("unacked");
      expect((await store.get(gone.id))?.state).toBe("cleared_unacked");
    });

    it("every role may read", async () => {
      for (const route of routes().filter((r) => r.method === "GET")) {
        for (const role of ALL) expect((await call("GET", route.url, role)).statusCode, `${role} ${route.url}`).toBe(200);
      }
    });
  });

  describe("POST /api/alarms/{id}/ack", () => {
    it("acknowledges an active alarm: state acked, who, when and the comment; announced on the bus for the dashboard and the workers", async () => {
      const alarm = await feed("ACK1", [30]);
      expect(alarm).toMatchObject({ state: "unacked", condition_active: true, type: "HIGH", level: 1, ppm: 30 });
      const seen: unknown[] = [];
      const changed: unknown[] = [];
      const offs = [await t.ports.bus.subscribe("alarm", (m) => seen.push(m)), await t.ports.bus.subscribe("alarm.changed", (m) => changed.push(m))];
      const res = await ack(alarm.id, "  checking the valve  ");
      expect(res.statusCode).toBe(200);
      const body = res.json<Alarm>();
      expect(() => AlarmSchema.strict().parse(body)).not.toThrow();
      expect(body).toMatchObject({ id: alarm.id, sn: "ACK1", state: "acked", condition_active: true, acked_by: "operator", ack_comment: "checking the valve", acked_at: iso(t.clock.now()), closed_at: null });
      await expect.poll(() => seen).toContainEqual({ id: alarm.id, sn: "ACK1", type: "HIGH", level: 1, kind: "acked", state: "acked", ppm: null, at: iso(t.clock.now()) });
      await expect.poll(() => changed).toContainEqual({ sn: "ACK1" });
      for (const off of offs) await off();
    });

    it("writes who acknowledged which alarm in the audit log", async () => {
      const [row] = await t.ports.db.query<{ actor: string; target: string; before: unknown; after: unknown }>(
        `SELECT actor, target, before, after FROM audit_log WHERE action = 'alarm.ack' ORDER BY id DESC LIMIT 1`,
      );
      expect(row).toMatchObject({ actor: "operator", target: expect.stringMatching(/^alarm \d+ \(ACK1 HIGH\)$/), before: { state: "unacked" }, after: { state: "acked", comment: "checking the valve" } });
    });

    it("closes an alarm that cleared before anyone answered (cleared_unacked)", async () => {
      const alarm = await feed("ACK2", [60, 5]);
      expect(alarm).toMatchObject({ state: "cleared_unacked", condition_active: false, level: 2, peak: 60 });
      const res = await ack(alarm.id, "gas was gone", "engineer");
      expect(res.json()).toMatchObject({ state: "closed", acked_by: "engineer", ack_comment: "gas was gone", closed_at: iso(t.clock.now()), acked_at: iso(t.clock.now()) });
    });

    it("takes no body at all: no comment", async () => {
      const alarm = await feed("ACK3", [30]);
      const res = await ack(alarm.id);
      expect(res.json()).toMatchObject({ state: "acked", ack_comment: "" });
    });

    it("answers 409 when already acknowledged or closed, and changes nothing", async () => {
      const alarm = await feed("ACK4", [30]);
      await ack(alarm.id, "first");
      expectError(await ack(alarm.id, "second"), 409, "MCS_ERR_CONFLICT", `alarm ${alarm.id} is already acknowledged by operator`);
      expect(await store.get(alarm.id)).toMatchObject({ ack_comment: "first" });
      const closed = await feed("ACK4", [10]);
      expect(closed).toMatchObject({ id: alarm.id, state: "closed" });
      expectError(await ack(alarm.id, "late"), 409, "MCS_ERR_CONFLICT", `alarm ${alarm.id} is closed: nothing to acknowledge`);
    });

    it("acknowledging again is needed after the alarm rose to level 2", async () => {
      const alarm = await feed("ACK5", [30]);
      await ack(alarm.id, "level 1 seen");
      expect(await feed("ACK5", [55])).toMatchObject({ id: alarm.id, state: "unacked", level: 2 });
      expect((await ack(alarm.id, "level 2 seen")).json()).toMatchObject({ state: "acked", level: 2, ack_comment: "level 2 seen" });
    });

    it("answers 404 for an unknown alarm and 400 for an id that is not one", async () => {
      expectError(await ack(999_999, "x"), 404, "MCS_ERR_NOT_FOUND", "no alarm 999999");
      expectError(await ack(0, "x"), 400, "MCS_ERR_VALIDATION", /^params\.id: id is an alarm id/);
      expectError(await call("POST", "/api/alarms/abc/ack", "operator", {}), 400, "MCS_ERR_VALIDATION", /^params\.id: /);
    });

    it.each([
      ["a comment that is not text", { comment: 5 }, /^body\.comment: expected string, received number/],
      ["a comment over 1000 characters", { comment: "x".repeat(1001) }, /^body\.comment: Too big/],
      ["an unknown field", { comment: "ok", colour: "red" }, /^body\.colour: unknown field/],
    ])("refuses %s with 400 naming the field", async (_, payload, message) => {
      expectError(await call("POST", `/api/alarms/${active.id}/ack`, "operator", payload), 400, "MCS_ERR_VALIDATION", message);
      expect((await store.get(active.id))?.state).toBe("unacked");
    });
  });

  describe("POST /api/alarms/{id}/clear", () => {
    it("answers 409 while the condition is present: the gas is still above the limit", async () => {
      const alarm = await feed("CLR1", [30]);
      expectError(await clear(alarm.id, "done"), 409, "MCS_ERR_CONFLICT", /^the gas is still above the limit: alarm \d+ can be cleared once its condition is gone/);
      await ack(alarm.id, "seen");
      expectError(await clear(alarm.id, "done"), 409, "MCS_ERR_CONFLICT", /^the gas is still above the limit/);
      expect(await store.get(alarm.id)).toMatchObject({ state: "acked", closed_at: null });
    });

    it("closes an alarm whose condition is gone, unanswered or not, audited and announced", async () => {
      const alarm = await feed("CLR2", [30, 10]);
      expect(alarm.state).toBe("cleared_unacked");
      const changed: unknown[] = [];
      const off = await t.ports.bus.subscribe("alarm.changed", (m) => changed.push(m));
      const res = await clear(alarm.id, "sensor replaced");
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: alarm.id, state: "closed", closed_at: iso(t.clock.now()), acked_by: null });
      await expect.poll(() => changed).toContainEqual({ sn: "CLR2" });
      await off();
      const [row] = await t.ports.db.query<{ actor: string; after: unknown }>(`SELECT actor, after FROM audit_log WHERE action = 'alarm.reset' ORDER BY id DESC LIMIT 1`);
      expect(row).toMatchObject({ actor: "engineer", after: { state: "closed", comment: "sensor replaced" } });
      const events = (await call("GET", `/api/alarms/${alarm.id}`)).json<{ events: { kind: string; actor: string; note: string }[] }>().events;
      expect(events.at(-1)).toMatchObject({ kind: "closed", actor: "engineer", note: "reset by engineer: sensor replaced" });
    });

    it("answers 409 for a closed alarm, 404 for an unknown one, 400 for a bad body", async () => {
      const alarm = await feed("CLR3", [30, 10]);
      await clear(alarm.id);
      expectError(await clear(alarm.id), 409, "MCS_ERR_CONFLICT", `alarm ${alarm.id} is closed: nothing to clear`);
      expectError(await clear(999_999), 404, "MCS_ERR_NOT_FOUND", "no alarm 999999");
      expectError(await call("POST", `/api/alarms/${gone.id}/clear`, "engineer", { note: "x" }), 400, "MCS_ERR_VALIDATION", /^body\.note: unknown field/);
    });
  });

  describe("GET /api/alarms", () => {
    let from: number;
    beforeAll(async () => {
      from = t.clock.now();
      await feed("LIST1", [30]); // open, unacked
      await feed("LIST2", [60, 5]); // cleared_unacked, level 2
      const closed = await feed("LIST3", [30]);
      await ack(closed.id, "ok");
      await feed("LIST3", [10]); // acked, then gone: closed
    });

    it("lists newest first, each with the documented fields", async () => {
      const res = await call("GET", "/api/alarms", "viewer");
      const { data } = res.json<{ data: Alarm[] }>();
      expect(data.length).toBeGreaterThan(5);
      for (const alarm of data) expect(() => AlarmSchema.strict().parse(alarm)).not.toThrow();
      const raised = data.map((a) => a.raised_at);
      expect(raised).toEqual([...raised].sort().reverse());
    });

    it("filters by state (open = any but closed), device, type and time; limits the count", async () => {
      const list = async (query: string) => (await call("GET", `/api/alarms?${query}`)).json<{ data: Alarm[] }>().data;
      const since = `from=${Math.floor(from / 1000)}`;
      expect((await list(`${since}`)).map((a) => a.sn)).toEqual(["LIST3", "LIST2", "LIST1"]);
      expect((await list(`${since}&state=open`)).map((a) => [a.sn, a.state])).toEqual([["LIST2", "cleared_unacked"], ["LIST1", "unacked"]]);
      expect((await list(`${since}&state=closed`)).map((a) => a.sn)).toEqual(["LIST3"]);
      expect((await list(`sn=LIST2`)).map((a) => a.level)).toEqual([2]);
      expect(await list(`sn=LIST2&type=LOW`)).toEqual([]);
      expect(await list(`from=${iso(t.clock.now() + 1000)}`)).toEqual([]);
      expect((await list(`from=${iso(from)}&to=${iso(from + 15_000)}`)).map((a) => a.sn)).toEqual(["LIST1"]);
      expect(await list(`${since}&limit=2`)).toHaveLength(2);
    });

    it.each([
      ["state=gone", /^query\.state: /],
      ["type=SMOKE", /^query\.type: /],
      ["sn=bad%20sn", /^query\.sn: sn is 1–32 letters/],
      ["from=yesterday", /^query\.from: expected ISO-8601 or Unix seconds/],
      ["limit=0", /^query\.limit: /],
      ["limit=5001", /^query\.limit: /],
      ["from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z", /^query\.from: .* is after query\.to/],
    ])("refuses ?%s with 400 naming the parameter", async (query, message) => {
      expectError(await call("GET", `/api/alarms?${query}`), 400, "MCS_ERR_VALIDATION", message);
    });
  });

  describe("GET /api/alarms/{id}", () => {
    it("shows the alarm with its events, its notifications per channel, and how long it was active", async () => {
      const channel = await call("POST", "/api/channels", "admin", { type: "webhook", name: "DCS gateway", config: { url: "http://127.0.0.1:9/none", secret: "s3cr3t-value" } });
      const channelId = channel.json<{ id: number }>().id;
      const raisedAt = t.clock.now() + 10_000;
      const alarm = await feed("DET1", [30, 55], [channelId]);
      await new OutboxStore(t.ports.db).finish([Number((await t.ports.db.query<{ id: number }>(`SELECT id::float8 AS id FROM outbox WHERE kind = 'raised' AND alarm_id = $1`, [alarm.id]))[0]!.id)], "sent", "Webhook answered HTTP 200", t.clock.now());
      t.clock.advance(25_000);
      const res = await call("GET", `/api/alarms/${alarm.id}`, "viewer");
      expect(res.statusCode).toBe(200);
      const body = AlarmDetailSchema.strict().parse(res.json());
      expect(body).toMatchObject({ id: alarm.id, sn: "DET1", level: 2, state: "unacked", condition_active: true, peak: 55, active_s: 35 });
      expect(body.events.map((e) => [e.kind, e.level, e.value, e.actor])).toEqual([["raised", 1, 30, "worker"], ["level_up", 2, 55, "worker"]]);
      expect(body.events[0]).toMatchObject({ at: iso(raisedAt), note: "value 30 > level 1 limit 25" });
      expect(body.notifications).toEqual([
        { id: expect.any(Number), channel_id: channelId, channel_name: "DCS gateway", kind: "raised", status: "sent", attempts: 1, created_at: expect.any(String), finished_at: expect.any(String), detail: "Webhook answered HTTP 200" },
        { id: expect.any(Number), channel_id: channelId, channel_name: "DCS gateway", kind: "level_up", status: "pending", attempts: 0, created_at: expect.any(String), finished_at: null, detail: null },
      ]);
      // Once cleared, active_s stops counting.
      await ack(alarm.id, "evacuated");
      const closed = await feed("DET1", [1]);
      t.clock.advance(600_000);
      expect((await call("GET", `/api/alarms/${closed.id}`)).json()).toMatchObject({ state: "closed", active_s: 45 });
    });

    it("answers 404 for an unknown alarm", async () => {
      expectError(await call("GET", "/api/alarms/424242"), 404, "MCS_ERR_NOT_FOUND", "no alarm 424242");
    });
  });

  describe("GET /api/alarms/export.csv", () => {
    it("answers the filtered alarms as CSV for Excel: BOM, header row, one line per alarm, as an attachment", async () => {
      const alarm = await feed("CSV1", [30]);
      await ack(alarm.id, '阀门已关闭, "复查" =SUM(A1)\n第二行');
      await feed("CSV1", [10]);
      await feed("CSV2", [60]);
      const res = await call("GET", "/api/alarms/export.csv?sn=CSV1", "viewer");
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toBe("text/csv; charset=utf-8");
      expect(res.headers["content-disposition"]).toMatch(/^attachment; filename="alarms-\d{8}-\d{6}\.csv"$/);
      expect([...res.rawPayload.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const rows = parseCsv(res.body.replace(/^\uFEFF/, ""));
      expect(rows[0]).toEqual([
        "id", "sn", "type", "level", "state", "ppm", "peak", "reason", "raised_at", "acked_at", "acked_by", "ack_comment", "cleared_at", "closed_at", "active_s",
        "peak_at", "late", "received_at",
      ]);
      expect(rows).toHaveLength(2);
      const stored = (await store.get(alarm.id))!;
      // Times as the plant's wall clock with the offset (Asia/Shanghai until set): "2026-12-04 14:03:05 +08:00".
      const plant = (iso: string | null) => formatZoned(Date.parse(iso!), "Asia/Shanghai", { withOffset: true });
      expect(rows[1]).toEqual([
        String(alarm.id), "CSV1", "HIGH", "1", "closed", "30", "30", "value 30 > level 1 limit 25", plant(stored.raised_at), plant(stored.acked_at), "operator",
        '阀门已关闭, "复查" =SUM(A1)\n第二行', plant(stored.cleared_at), plant(stored.closed_at), "10", plant(stored.peak_at), "false", plant(stored.received_at),
      ]);
      expect(rows[1]![8]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+08:00$/);
      expect(Date.parse(rows[1]![8]!.replace(" ", "T").replace(" ", ""))).toBe(Date.parse(stored.raised_at) - (Date.parse(stored.raised_at) % 1000));
    });

    // Issue 15, item 4: exports are in the plant's zone (read once per export), the offset written.
    it("writes times in the plant's zone once it is set, and names the file by the plant's clock", async () => {
      const alarm = await feed("CSV4", [30]);
      const stored = (await store.get(alarm.id))!;
      expect((await call("PUT", "/api/settings/plant", "admin", { time_zone: "America/New_York" })).statusCode).toBe(200);
      try {
        const res = await call("GET", "/api/alarms/export.csv?sn=CSV4", "viewer");
        const raised = parseCsv(res.body.replace(/^\uFEFF/, ""))[1]![8]!;
        expect(raised).toBe(formatZoned(Date.parse(stored.raised_at), "America/New_York", { withOffset: true }));
        expect(raised).toMatch(/ -0[45]:00$/);
        const stamp = formatZoned(t.clock.now(), "America/New_York").replace(/[-:]/g, "").replace(" ", "-");
        expect(res.headers["content-disposition"]).toBe(`attachment; filename="alarms-${stamp}.csv"`);
      } finally {
        expect((await call("PUT", "/api/settings/plant", "admin", { time_zone: "Asia/Shanghai" })).statusCode).toBe(200);
      }
    });

    it("takes the list's filters, and a cell that starts like a formula is kept as text", async () => {
      const alarm = await feed("CSV3", [30]);
      await ack(alarm.id, "=HYPERLINK(\"http://evil\")");
      const rows = parseCsv((await call("GET", "/api/alarms/export.csv?state=open&type=HIGH&sn=CSV3")).body.replace(/^\uFEFF/, ""));
      expect(rows.slice(1).map((r) => [r[1], r[11]])).toEqual([["CSV3", "'=HYPERLINK(\"http://evil\")"]]);
      expect(parseCsv((await call("GET", "/api/alarms/export.csv?sn=NOBODY")).body.replace(/^\uFEFF/, ""))).toHaveLength(1);
    });

    it("refuses bad filters with 400, in the JSON error shape", async () => {
      expectError(await call("GET", "/api/alarms/export.csv?state=gone"), 400, "MCS_ERR_VALIDATION", /^query\.state: /);
    });
  });

  describe("alarm presets", () => {
    const apply = (sn: string, payload?: object, role: Role = "engineer") => call("POST", `/api/devices/${sn}/alarm-preset`, role, payload);
    beforeAll(async () => {
      for (const payload of [{ sn: "PRE1", gas: "H2S", unit: "ppm", high_limit: 100, high_limit_2: 120 }, { sn: "PRE2", gas: "XYZ", unit: "ppm", high_limit: 5, range_max: 50 }]) {
        expect((await call("POST", "/api/devices", "admin", payload)).statusCode).toBe(201);
      }
    });

    it("GET /api/alarm-presets lists each gas's setpoints, named as the device fields they fill, with their basis", async () => {
      const { data } = (await call("GET", "/api/alarm-presets", "viewer")).json<{ data: { gas: string }[] }>();
      expect(data.map((p) => p.gas)).toEqual(["CH4", "O2", "H2S", "CO", "NH3", "Cl2", "SO2", "NO2", "HCN"]);
      expect(data[0]).toEqual({ gas: "CH4", unit: "%LEL", range_max: 100, high_limit: 25, high_limit_2: 50, low_limit: null, low_limit_2: null, deadband: 2, basis: "GB/T 50493-2019: 25 / 50 %LEL" });
      expect(data[1]).toMatchObject({ gas: "O2", unit: "%VOL", high_limit: 23.5, high_limit_2: null, low_limit: 19.5, low_limit_2: null });
    });

    it("applies the preset of the device's own gas: limits, deadband, range and unit; audited; the worker is told", async () => {
      const seen: unknown[] = [];
      const off = await t.ports.bus.subscribe("device.changed", (m) => seen.push(m));
      const res = await apply("PRE1");
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ sn: "PRE1", gas: "H2S", unit: "ppm", high_limit: 7, high_limit_2: 14, low_limit: null, low_limit_2: null, deadband: 2, range_max: 100, calib_version: 1 });
      await expect.poll(() => seen).toContainEqual({ sn: "PRE1", action: "updated" });
      await off();
      const [row] = await t.ports.db.query<{ actor: string; before: { high_limit: number }; after: { high_limit: number } }>(
        `SELECT actor, before, after FROM audit_log WHERE action = 'device.update' AND target = 'PRE1' ORDER BY id DESC LIMIT 1`,
      );
      expect(row).toMatchObject({ actor: "engineer", before: { high_limit: 100 }, after: { high_limit: 7 } });
    });

    it("applies the preset of the gas named, in any case (an oxygen detector: low and high alarms)", async () => {
      const res = await apply("PRE1", { gas: "o2" }, "admin");
      expect(res.json()).toMatchObject({ gas: "H2S", unit: "%VOL", high_limit: 23.5, high_limit_2: null, low_limit: 19.5, low_limit_2: null, range_max: 25 });
    });

    it("answers 404 for a gas without preset, naming those that exist, and for an unknown device", async () => {
      expectError(await apply("PRE2"), 404, "MCS_ERR_NOT_FOUND", "no preset for gas XYZ; presets exist for CH4, O2, H2S, CO, NH3, Cl2, SO2, NO2, HCN");
      expectError(await apply("PRE1", { gas: "Xe" }), 404, "MCS_ERR_NOT_FOUND", /^no preset for gas Xe; presets exist for CH4, O2/);
      expectError(await apply("NOPE"), 404, "MCS_ERR_NOT_FOUND", "no device NOPE");
    });

    it.each([
      ["a gas that is not a formula", { gas: "methane gas" }, /^body\.gas: gas is a formula/],
      ["an unknown field", { high_limit: 3 }, /^body\.high_limit: unknown field/],
    ])("refuses %s with 400 naming the field", async (_, payload, message) => {
      expectError(await apply("PRE1", payload), 400, "MCS_ERR_VALIDATION", message);
    });
  });
});
