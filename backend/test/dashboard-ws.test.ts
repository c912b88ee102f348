import type { Socket } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from "vitest";
import { WebSocket } from "ws";
import { RedisBus } from "@mcs/platform";
import { cacheKeys, DashboardFrameSchema, type AlarmBusEvent, type DashboardFrame, type LatestReading, type RealtimeItem } from "@mcs/protocol";
import { MODES, type Mode } from "../../test-support/ports.ts";
import { buildApp } from "../src/app.ts";
import { buildTestApp, type TestApp } from "./helper.ts";

interface Received {
  at: number;
  frame: DashboardFrame;
}

/** A client of `/ws/dashboard`. */
interface Conn {
  ws: WebSocket;
  frames: Received[];
  closed: Promise<{ code: number; reason: string }>;
  realtime(): Extract<DashboardFrame, { type: "realtime" }>[];
  alarms(): Extract<DashboardFrame, { type: "alarm" }>[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `probe` answers something (not undefined/false), or fails after `timeoutMs`. */
async function until<T>(probe: () => T | undefined | false, what: string, timeoutMs = 3000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** `open(url)`: a client that records every frame (checked against the protocol's schema) and how it closed; kept in `conns` to be ended after each test. */
function opener(conns: Conn[]) {
  return function open(url: string, options: { headers?: Record<string, string>; autoPong?: boolean } = {}): Conn {
    const ws = new WebSocket(url, { headers: options.headers ?? {}, autoPong: options.autoPong ?? true });
    const frames: Received[] = [];
    ws.on("message", (data) => frames.push({ at: Date.now(), frame: DashboardFrameSchema.parse(JSON.parse(String(data))) }));
    ws.on("error", () => {});
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    const conn: Conn = {
      ws, frames, closed,
      realtime: () => frames.flatMap(({ frame }) => (frame.type === "realtime" ? [frame] : [])),
      alarms: () => frames.flatMap(({ frame }) => (frame.type === "alarm" ? [frame] : [])),
    };
    conns.push(conn);
    return conn;
  };
}

async function snapshotOf(conn: Conn): Promise<Map<string, RealtimeItem>> {
  const first = await until(() => conn.frames[0], "the snapshot");
  expect(first.frame.type).toBe("realtime");
  return new Map((first.frame.type === "realtime" ? first.frame.data : []).map((item) => [item.sn, item]));
}

const SNS = ["WSA01", "WSA02", "WSA03", "WSA04", "WSA05"];

// The two modes run side by side (each waits on real one-second batching); within a mode, in order.
describe.concurrent.each(MODES)("WebSocket /ws/dashboard (%s mode)", (mode: Mode) => {
  const it = test.sequential;
  const conns: Conn[] = [];
  const open = opener(conns);
  let t: TestApp;
  let url: string;
  let viewerToken: string;
  let nowS: number;
  const readings = (items: Partial<LatestReading>[]) =>
    t.ports.bus.publish("readings", items.map((item) => ({ ts: nowS, ppm: 0, status: "online", flags: 0, ...item })));
  const alarm = (event: Partial<AlarmBusEvent> & { sn: string }) =>
    t.ports.bus.publish("alarm", { id: 9001, type: "HIGH", level: 1, kind: "raised", state: "unacked", ppm: 30, at: new Date(t.clock.now()).toISOString(), ...event });
  const admin = async () => t.as("admin");

  beforeAll(async () => {
    t = await buildTestApp(mode, { dashboard: { skipBufferedBytes: 16 * 1024, closeBufferedBytes: 256 * 1024, pingIntervalMs: 600_000 } });
    nowS = Math.floor(t.clock.now() / 1000);
    t.clock.ms = nowS * 1000;
    for (const sn of SNS) {
      const res = await t.app.inject({ method: "POST", url: "/api/devices", headers: await admin(), payload: { sn, high_limit: 25, high_limit_2: 50 } });
      expect(res.statusCode).toBe(201);
    }
    const latest = (sn: string, ppm: number, status: LatestReading["status"]) => JSON.stringify({ sn, ts: nowS - 5, ppm, status, flags: 0 });
    await t.ports.cache.hset(cacheKeys.latest, { WSA01: latest("WSA01", 62.5, "alarm"), WSA02: latest("WSA02", 3, "online"), WSA04: latest("WSA04", 1, "online"), WSA05: latest("WSA05", 7, "fault") });
    const presence = (online: boolean) => JSON.stringify({ online, at: t.clock.now(), reason: online ? "reading" : "will" });
    await t.ports.cache.hset(cacheKeys.presence, { WSA01: presence(true), WSA02: presence(false), WSA04: presence(true), WSA05: presence(true) });
    const raise = (sn: string, type: string, level: number, state: string, active: boolean) =>
      t.ports.db.query(
        `INSERT INTO alarms (sn, type, level, state, condition_active, value, peak, reason, raised_at) VALUES ($1, $2, $3, $4, $5, 60, 60, 'test', now())`,
        [sn, type, level, state, active],
      );
    await raise("WSA01", "HIGH", 2, "acked", true); // holds: level 2
    await raise("WSA01", "LOW_BATTERY", 1, "unacked", true); // not a gas alarm
    await raise("WSA02", "HIGH", 1, "cleared_unacked", false); // condition gone: level 0
    expect((await t.app.inject({ method: "POST", url: "/api/devices/WSA04/inhibit", headers: await admin(), payload: { minutes: 30, reason: "calibration" } })).statusCode).toBe(200);
    viewerToken = await t.tokenOf("viewer");
    const address = await t.app.listen({ port: 0, host: "127.0.0.1" });
    url = `${address.replace(/^http/, "ws")}/ws/dashboard`;
  });
  afterEach(() => {
    for (const conn of conns.splice(0)) conn.ws.terminate();
  });
  afterAll(async () => t.close());

  it("refuses a connection without a credential: closed with 4401 and the reason", async () => {
    const conn = open(url);
    expect(await conn.closed).toEqual({ code: 4401, reason: expect.stringMatching(/no credential/) });
    expect(conn.frames).toEqual([]);
  });

  it("refuses an unknown token, whether in the query, as Bearer or as the cookie: 4401", async () => {
    const tries: [string, Record<string, string>][] = [["?token=nope", {}], ["", { authorization: "Bearer nope" }], ["", { cookie: "mcs_session=nope" }], ["?token=mcsk_nope", {}]];
    for (const [query, headers] of tries) {
      const conn = open(`${url}${query}`, { headers });
      expect((await conn.closed).code).toBe(4401);
      expect(conn.frames).toEqual([]);
    }
  });

  it.each([
    ["the session cookie", () => ({ headers: { cookie: `mcs_session=${viewerToken}` } }), ""],
    ["Authorization: Bearer", () => ({ headers: { authorization: `Bearer ${viewerToken}` } }), ""],
    ["?token= with a session token", () => ({}), "session"],
  ])("lets in %s: the snapshot comes first", async (_, options, query) => {
    const conn = open(query ? `${url}?token=${viewerToken}` : url, options());
    expect((await snapshotOf(conn)).size).toBe(SNS.length);
  });

  it("lets in a kiosk token (?token= or Bearer, not as the cookie); revoking it closes its open screen at once with 4001 and refuses it from then on", async () => {
    const created = await t.app.inject({ method: "POST", url: "/api/kiosk-tokens", headers: await admin(), payload: { name: "control room" } });
    const { id, token } = created.json<{ id: number; token: string }>();
    const screen = open(`${url}?token=${token}`);
    const script = open(url, { headers: { authorization: `Bearer ${token}` } });
    await snapshotOf(screen);
    await snapshotOf(script);
    expect((await open(url, { headers: { cookie: `mcs_session=${token}` } }).closed).code).toBe(4401);

    const revokedAt = Date.now();
    expect((await t.app.inject({ method: "DELETE", url: `/api/kiosk-tokens/${id}`, headers: await admin() })).statusCode).toBe(204);
    expect(await screen.closed).toEqual({ code: 4001, reason: "kiosk token revoked" });
    expect(await script.closed).toEqual({ code: 4001, reason: "kiosk token revoked" });
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    const again = open(`${url}?token=${token}`);
    expect(await again.closed).toEqual({ code: 4401, reason: expect.stringMatching(/revoked/) });
    expect(again.frames).toEqual([]);
  });

  it("closes a screen whose session ended (logout) at the next ping round with 4001", async () => {
    const login = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "operator", password: "correct horse battery" } });
    const token = login.json<{ token: string }>().token;
    const conn = open(`${url}?token=${token}`);
    await snapshotOf(conn);
    expect((await t.app.inject({ method: "POST", url: "/api/auth/logout", headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(204);
    t.app.dashboardHub.sweep();
    expect((await conn.closed).code).toBe(4001);
  });

  it("sends a snapshot of every device: last ppm, status as GET /api/devices has it, level of the gas alarms that hold, maintenance, time", async () => {
    const snapshot = await snapshotOf(open(url, { headers: { authorization: `Bearer ${viewerToken}` } }));
    expect(Object.fromEntries(snapshot)).toEqual({
      WSA01: { sn: "WSA01", ppm: 62.5, status: "alarm", level: 2, inhibited: false, ts: nowS - 5 },
      WSA02: { sn: "WSA02", ppm: 3, status: "offline", level: 0, inhibited: false, ts: nowS - 5 },
      WSA03: { sn: "WSA03", ppm: 0, status: "offline", level: 0, inhibited: false },
      WSA04: { sn: "WSA04", ppm: 1, status: "online", level: 0, inhibited: true, ts: nowS - 5 },
      WSA05: { sn: "WSA05", ppm: 7, status: "fault", level: 0, inhibited: false, ts: nowS - 5 },
    });
    const listed = (await t.app.inject({ method: "GET", url: "/api/devices", headers: { authorization: `Bearer ${viewerToken}` } })).json<{ data: { sn: string; status: string }[] }>();
    for (const device of listed.data) expect(snapshot.get(device.sn)?.status).toBe(device.status);
  });

  it("batches readings: 20 bus messages within a second reach the client as at most 2 realtime frames, the newest values last", async () => {
    const conn = open(url, { headers: { authorization: `Bearer ${viewerToken}` } });
    await snapshotOf(conn);
    for (let i = 1; i <= 20; i++) {
      await readings([{ sn: "WSA04", ts: nowS + i, ppm: i }, { sn: "WSA05", ts: nowS + i, ppm: 100 + i, status: "fault" }]);
      await sleep(45);
    }
    await until(() => conn.realtime().some((frame) => frame.data.some((item) => item.sn === "WSA04" && item.ppm === 20)), "the newest reading");
    await sleep(1100); // nothing more is coming
    const deltas = conn.frames.slice(1).filter(({ frame }) => frame.type === "realtime");
    expect(deltas.length).toBeGreaterThanOrEqual(1);
    expect(deltas.length).toBeLessThanOrEqual(2);
    if (deltas.length === 2) expect(deltas[1]!.at - deltas[0]!.at).toBeGreaterThanOrEqual(900);
    const last = deltas.at(-1)!.frame;
    expect(last.type === "realtime" && Object.fromEntries(last.data.map((item) => [item.sn, item]))).toEqual({
      WSA04: { sn: "WSA04", ppm: 20, status: "online", level: 0, inhibited: true, ts: nowS + 20 },
      WSA05: { sn: "WSA05", ppm: 120, status: "fault", level: 0, inhibited: false, ts: nowS + 20 },
    });
  });

  it("sends an alarm at once, before the realtime frame that carries the device's new level and status", async () => {
    const conn = open(url, { headers: { authorization: `Bearer ${viewerToken}` } });
    await snapshotOf(conn);
    await sleep(50);
    const at = new Date(t.clock.now()).toISOString();
    const published = Date.now();
    await readings([{ sn: "WSA05", ts: nowS + 30, ppm: 31, status: "online" }]);
    await alarm({ id: 9001, sn: "WSA05", ppm: 31, type: "HIGH", level: 1, kind: "raised", state: "unacked", at });
    const alarmFrame = await until(() => conn.frames.find(({ frame }) => frame.type === "alarm"), "the alarm frame");
    expect(alarmFrame.frame).toEqual({ type: "alarm", data: { sn: "WSA05", ppm: 31, type: "HIGH", id: 9001, level: 1, kind: "raised", state: "unacked", at } });
    expect(alarmFrame.at - published).toBeLessThan(500);
    const delta = await until(() => conn.frames.find(({ frame }) => frame.type === "realtime" && frame.data.some((item) => item.sn === "WSA05" && item.level === 1)), "the realtime frame with the level");
    expect(conn.frames.indexOf(alarmFrame)).toBeLessThan(conn.frames.indexOf(delta));
    expect(delta.frame.type === "realtime" && delta.frame.data.find((item) => item.sn === "WSA05")).toEqual({ sn: "WSA05", ppm: 31, status: "alarm", level: 1, inhibited: false, ts: nowS + 30 });

    // Level 2, the condition gone, closed: level 0 and online again in the next frame; an OFFLINE alarm (no value) says ppm 0.
    await alarm({ id: 9001, sn: "WSA05", ppm: 55, level: 2, kind: "level_up" });
    await alarm({ id: 9001, sn: "WSA05", ppm: 10, level: 2, kind: "condition_cleared", state: "cleared_unacked" });
    await alarm({ id: 9001, sn: "WSA05", ppm: null, level: 2, kind: "closed", state: "closed" });
    await alarm({ id: 9002, sn: "WSA05", ppm: null, type: "OFFLINE", level: 1, kind: "raised" });
    await until(() => conn.realtime().some((frame) => frame.data.some((item) => item.sn === "WSA05" && item.level === 0 && item.status === "online")), "level 0");
    expect(conn.alarms().map((frame) => [frame.data.type, frame.data.kind, frame.data.ppm])).toEqual([
      ["HIGH", "raised", 31], ["HIGH", "level_up", 55], ["HIGH", "condition_cleared", 10], ["HIGH", "closed", 0], ["OFFLINE", "raised", 0],
    ]);
  });

  it("follows presence (offline in the next frame, online again with a reading); ignores other devices, older readings and junk", async () => {
    const conn = open(url, { headers: { authorization: `Bearer ${viewerToken}` } });
    await snapshotOf(conn);
    await readings([{ sn: "NOT-MINE", ts: nowS + 50, ppm: 9 }, { sn: "WSA04", ts: nowS - 100, ppm: 999 }]);
    await alarm({ sn: "NOT-MINE" });
    await t.ports.bus.publish("readings", [{ sn: 42 }, null, "junk"]);
    await t.ports.bus.publish("alarm", { sn: "WSA04", type: "NOPE" });
    await t.ports.bus.publish("device.status", { sn: "WSA04", online: false, at: new Date().toISOString(), reason: "silence" });
    const offline = await until(() => conn.frames[1], "the next frame");
    expect(offline.frame).toEqual({ type: "realtime", data: [{ sn: "WSA04", ppm: 20, status: "offline", level: 0, inhibited: true, ts: nowS + 20 }] });
    await readings([{ sn: "WSA04", ts: nowS + 40, ppm: 4 }]);
    const online = await until(() => conn.frames[2], "the frame after");
    expect(online.frame).toEqual({ type: "realtime", data: [{ sn: "WSA04", ppm: 4, status: "online", level: 0, inhibited: true, ts: nowS + 40 }] });
    expect(online.at - offline.at).toBeGreaterThanOrEqual(900);
  });

  it("drops a client that does not answer pings", async () => {
    const deaf = open(url, { headers: { authorization: `Bearer ${viewerToken}` }, autoPong: false });
    const live = open(url, { headers: { authorization: `Bearer ${viewerToken}` } });
    await snapshotOf(deaf);
    await snapshotOf(live);
    t.app.dashboardHub.sweep();
    await sleep(200);
    t.app.dashboardHub.sweep();
    expect((await deaf.closed).code).toBe(1006);
    await sleep(100);
    expect(live.ws.readyState).toBe(WebSocket.OPEN);
    expect(t.app.dashboardHub.stats().clients).toBe(1);
  });

  if (mode === "embedded") {
    it("keeps a client that does not read to one pending item per device, then closes it (1013) once its buffer passes the limit", async () => {
      const conn = open(url, { headers: { authorization: `Bearer ${viewerToken}` } });
      await snapshotOf(conn);
      const server = [...t.app.websocketServer.clients][0]!;
      (conn.ws as unknown as { _socket: Socket })._socket.pause();
      // Alarms always go out: they fill the kernel's buffers, then the socket's own, past the skip limit.
      let n = 0;
      const flood = async (stop: () => boolean) => {
        while (!stop() && n < 200_000) {
          for (let i = 0; i < 1000; i++) await alarm({ id: 7000, sn: "WSA03", type: "LOW_BATTERY", ppm: 3.1, kind: "acked", state: "acked" });
          n += 1000;
          await sleep(0);
        }
      };
      await flood(() => server.bufferedAmount > 32 * 1024);
      expect(t.app.dashboardHub.stats().clients).toBe(1);
      // Now realtime flushes are skipped: whatever the devices send, the client holds one item per device.
      const buffered = server.bufferedAmount;
      for (let round = 1; round <= 12; round++) {
        await readings(SNS.map((sn) => ({ sn, ts: nowS + 100 + round, ppm: round })));
        await sleep(100);
        expect(t.app.dashboardHub.stats().maxPending).toBeLessThanOrEqual(SNS.length);
      }
      expect(t.app.dashboardHub.stats().maxPending).toBe(SNS.length);
      expect(server.bufferedAmount).toBe(buffered);
      await flood(() => t.app.dashboardHub.stats().clients === 0);
      expect(server.bufferedAmount).toBeLessThan(256 * 1024 + 1024);
      (conn.ws as unknown as { _socket: Socket })._socket.resume();
      expect(await conn.closed).toEqual({ code: 1013, reason: expect.stringMatching(/too slow/) });
      // Resynchronising: a new connection starts from a snapshot with the newest values.
      const again = await snapshotOf(open(url, { headers: { authorization: `Bearer ${viewerToken}` } }));
      expect(again.get("WSA01")?.ppm).toBe(12);
    });
  }

  if (mode === "services") {
    it("fans out across backend processes: a client of a second backend on the same Redis gets what is published once on the bus", async () => {
      const busB = await RedisBus.connect(inject("redisUrl"));
      const appB = await buildApp({ db: t.ports.db, cache: t.ports.cache, bus: busB, clock: t.clock, health: { broker: () => "ok" } });
      try {
        const addressB = await appB.listen({ port: 0, host: "127.0.0.1" });
        const onB = open(`${addressB.replace(/^http/, "ws")}/ws/dashboard?token=${viewerToken}`);
        const onA = open(`${url}?token=${viewerToken}`);
        await snapshotOf(onB);
        await snapshotOf(onA);
        await readings([{ sn: "WSA02", ts: nowS + 60, ppm: 77, status: "alarm" }]);
        await alarm({ id: 9100, sn: "WSA02", ppm: 77, type: "HIGH", level: 2, kind: "raised" });
        for (const conn of [onA, onB]) {
          await until(() => conn.alarms().find((frame) => frame.data.id === 9100), "the alarm on both backends");
          await until(
            () => conn.realtime().slice(1).find((frame) => frame.data.some((item) => item.sn === "WSA02" && item.ppm === 77 && item.level === 2 && item.status === "alarm")),
            "the reading on both backends",
          );
        }
        // A revocation on backend A closes the screen on backend B as well.
        const { id, token } = (await t.app.inject({ method: "POST", url: "/api/kiosk-tokens", headers: await admin(), payload: { name: "hall B" } })).json<{ id: number; token: string }>();
        const screen = open(`${addressB.replace(/^http/, "ws")}/ws/dashboard?token=${token}`);
        await snapshotOf(screen);
        await t.app.inject({ method: "DELETE", url: `/api/kiosk-tokens/${id}`, headers: await admin() });
        expect((await screen.closed).code).toBe(4001);
      } finally {
        for (const conn of conns.splice(0)) conn.ws.terminate();
        await appB.close();
        await busB.close();
      }
    });
  }

  it("closes its sockets with 1001 when the app closes", async () => {
    const conn = open(url, { headers: { authorization: `Bearer ${viewerToken}` } });
    await snapshotOf(conn);
    await t.app.close();
    expect(await conn.closed).toEqual({ code: 1001, reason: "server shutting down" });
  });
});
