import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CommandViewSchema } from "@mcs/protocol";
import { PresenceStore } from "@mcs/platform";
import { MODES } from "../../test-support/ports.ts";
import { RecordingPublisher } from "../../test-support/recording-publisher.ts";
import { buildTestApp, expectError, type TestApp } from "./helper.ts";

// Issue 3, part 4 (DESIGN: `POST /api/devices/{sn}/commands` {"cmd","params"} → 202
// {"id","status":"pending"}; `GET …/commands/{id}` → its status). Publishing is checked
// here against a recording publisher; the brokers' round trips have their own tests.
describe.each(MODES)("/api/devices/{sn}/commands (%s mode)", (mode) => {
  let t: TestApp;
  let admin: { authorization: string };
  const publisher = new RecordingPublisher();
  const post = (sn: string, payload: object, headers = admin) => t.app.inject({ method: "POST", url: `/api/devices/${sn}/commands`, headers, payload });
  const get = (url: string) => t.app.inject({ method: "GET", url, headers: admin });
  const online = async (sn: string) => {
    const store = new PresenceStore(t.ports.cache);
    await store.change(sn, (await store.current(sn)).text, { online: true, at: t.clock.now(), reason: "status" });
  };

  beforeAll(async () => {
    t = await buildTestApp(mode, { commands: publisher });
    admin = await t.as("admin");
    for (const sn of ["CR-OFF", "CR-ON", "CR-OTHER"]) expect((await t.app.inject({ method: "POST", url: "/api/devices", headers: admin, payload: { sn } })).statusCode).toBe(201);
    await t.app.inject({ method: "POST", url: "/api/devices", headers: admin, payload: { sn: "CR-DISABLED", enabled: false } });
    await online("CR-ON");
  });
  afterAll(async () => t.close());

  it("answers 202 {id, status: pending} and keeps the command of an offline device unsent", async () => {
    const res = await post("CR-OFF", { cmd: "set_debug", params: { interval_s: 1, duration_min: 5 } });
    expect(res.statusCode).toBe(202);
    const body = res.json<{ id: string; status: string }>();
    expect(body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: "pending" });
    const command = (await get(`/api/devices/CR-OFF/commands/${body.id}`)).json();
    expect(CommandViewSchema.strict().parse(command)).toEqual({
      id: body.id, sn: "CR-OFF", cmd: "set_debug", params: { interval_s: 1, duration_min: 5 }, status: "pending", msg: null,
      created_by: "admin", created_at: new Date(t.clock.now()).toISOString(), expires_at: new Date(t.clock.now() + 3_600_000).toISOString(),
      sent_at: null, acked_at: null, finished_at: null,
    });
    expect(publisher.to("CR-OFF")).toEqual([]);
  });

  it("sends the command of an online device at once: {id, cmd, params} on its topic, then shows it sent", async () => {
    const { id } = (await post("CR-ON", { cmd: "reboot" })).json<{ id: string }>();
    await expect.poll(() => publisher.to("CR-ON"), { timeout: 10_000 }).toEqual([{ id, cmd: "reboot", params: {} }]);
    await expect.poll(async () => (await get(`/api/devices/CR-ON/commands/${id}`)).json(), { timeout: 10_000 }).toMatchObject({ status: "sent", sent_at: new Date(t.clock.now()).toISOString() });
  });

  it("takes how long a command may wait for an offline device (expires_in_s)", async () => {
    const { id } = (await post("CR-OFF", { cmd: "set_calib", params: { k: 2 }, expires_in_s: 600 })).json<{ id: string }>();
    expect((await get(`/api/devices/CR-OFF/commands/${id}`)).json()).toMatchObject({ expires_at: new Date(t.clock.now() + 600_000).toISOString() });
  });

  it("writes who sent which command to which device in the audit log", async () => {
    const [row] = await t.ports.db.query<{ actor: string; target: string; after: { cmd: string } }>(
      `SELECT actor, target, after FROM audit_log WHERE action = 'command.create' ORDER BY id DESC LIMIT 1`,
    );
    expect(row).toMatchObject({ actor: "admin", target: "CR-OFF", after: { cmd: "set_calib", params: { k: 2 } } });
  });

  it("lists a device's commands, newest first, as many as asked", async () => {
    const list = (await get("/api/devices/CR-OFF/commands")).json<{ data: { cmd: string }[] }>();
    expect(list.data.map((c) => c.cmd)).toEqual(["set_calib", "set_debug"]);
    expect((await get("/api/devices/CR-OFF/commands?limit=1")).json<{ data: object[] }>().data).toHaveLength(1);
    expect((await get("/api/devices/CR-OTHER/commands")).json()).toEqual({ data: [] });
  });

  it("an engineer may send commands too", async () => {
    expect((await post("CR-OFF", { cmd: "reboot" }, await t.as("engineer"))).statusCode).toBe(202);
  });

  it("answers 404 for an unknown device, and for a command id of another device or none", async () => {
    expectError(await post("NOPE", { cmd: "reboot" }), 404, "MCS_ERR_NOT_FOUND", "no device NOPE");
    expectError(await get("/api/devices/NOPE/commands"), 404, "MCS_ERR_NOT_FOUND", "no device NOPE");
    const { id } = (await post("CR-OFF", { cmd: "reboot" })).json<{ id: string }>();
    expectError(await get(`/api/devices/CR-OTHER/commands/${id}`), 404, "MCS_ERR_NOT_FOUND", `no command ${id} for device CR-OTHER`);
    expectError(await get("/api/devices/CR-OFF/commands/00000000-0000-4000-8000-000000000000"), 404, "MCS_ERR_NOT_FOUND");
  });

  it("answers 409 for a disabled device: it cannot log in to receive the command", async () => {
    expectError(await post("CR-DISABLED", { cmd: "reboot" }), 409, "MCS_ERR_CONFLICT", "device CR-DISABLED is disabled");
  });

  describe("bad input is refused with 400 naming the field, and nothing is stored", () => {
    const count = async () => (await t.ports.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM commands`))[0]!.n;
    it.each([
      ["an unknown command", `{"cmd":"selfdestruct"}`, /^body\.cmd: Invalid option/],
      ["no command", `{"params":{}}`, /^body\.cmd: /],
      ["params that are not an object", `{"cmd":"reboot","params":[1]}`, /^body\.params: expected record, received array/],
      ["params too large for a device", JSON.stringify({ cmd: "ota", params: { url: "x".repeat(3000) } }), /^body\.params: params take at most 2048 bytes/],
      ["an unknown field", `{"cmd":"reboot","colour":"red"}`, /^body\.colour: unknown field/],
      ["an expiry below 10 s", `{"cmd":"reboot","expires_in_s":1}`, /^body\.expires_in_s: Too small/],
      ["an expiry that is not a whole number", `{"cmd":"reboot","expires_in_s":1.5}`, /^body\.expires_in_s: expected int/],
    ])("%s", async (_, body, message) => {
      const before = await count();
      const res = await t.app.inject({ method: "POST", url: "/api/devices/CR-OFF/commands", headers: { ...admin, "content-type": "application/json" }, payload: body });
      expectError(res, 400, "MCS_ERR_VALIDATION", message);
      expect(await count()).toBe(before);
    });

    it("a command id that is not a UUID", async () => {
      expectError(await get("/api/devices/CR-OFF/commands/42"), 400, "MCS_ERR_VALIDATION", /^params\.id: id is a command id/);
    });

    it("a list limit out of range", async () => {
      expectError(await get("/api/devices/CR-OFF/commands?limit=0"), 400, "MCS_ERR_VALIDATION", /^query\.limit/);
    });
  });
});
