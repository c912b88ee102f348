import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import mqttPacket from "mqtt-packet";
import { Histogram } from "./histogram.ts";
import { serveIpc } from "./ipc.ts";

/**
 * A fleet of simulated detectors in one process: one MQTT 3.1.1 connection per device
 * (username = sn, over TLS like a real detector), QoS 1 single readings on `mcs/{sn}/up`.
 * Lean on purpose (hand-built PUBLISH packets, no MQTT.js): the publishers share the 2
 * cores with what they measure, so every microsecond they spend is taken from the broker
 * and the worker.
 *
 * Each reading is `{"ts","seq","v_raw","temp","humi","bat","rssi","err","pt"}` (~120 bytes),
 * `pt` being the publish time in epoch ms (the worker's schema ignores it). Within a run, a
 * device's seq counts up from the run's `seqBase`, so (sn, ts, seq) is unique and the
 * database can be checked for gaps and duplicates. Every connection keeps at most `window`
 * messages unacknowledged; PUBACKs come back in order (both brokers ack a connection in
 * order), which gives the publish→PUBACK time of every message: the broker's own ack with
 * Mosquitto, publish→commit with the embedded broker (which holds the PUBACK until commit).
 */

interface Device {
  sn: string;
  password: string;
}

export interface ConnectParams {
  host: string;
  port: number;
  tls: boolean;
  ca?: string;
  servername?: string;
  devices: Device[];
  /** Unacknowledged messages per connection. */
  window: number;
}

export interface RunParams {
  /** `max`: every connection keeps its window full; `rate`: `rate` readings/s for this process in all. */
  mode: "max" | "rate";
  rate?: number;
  durationMs: number;
  seqBase: number;
  /** Epoch ms at which to start (publishers in several processes start together). */
  startAt: number;
  /** After the run, how long to wait for the last PUBACKs. */
  drainTimeoutMs: number;
}

export interface RunResult {
  sent: number;
  acked: number;
  /** Sent but never acknowledged within the drain timeout (may or may not be stored). */
  unacked: number;
  /** PUBACKs whose packet id was not the oldest outstanding one. */
  outOfOrder: number;
  /** Connections lost during the run. */
  closed: number;
  /** Per device: readings acknowledged, with seq seqBase … seqBase + acked − 1. */
  perDevice: Record<string, number>;
  firstSendAt: number;
  lastSendAt: number;
  lastAckAt: number;
  ackLatency: ReturnType<Histogram["toJSON"]>;
}

interface Conn {
  sn: string;
  socket: Socket;
  topic: Buffer;
  window: number;
  /** Send times and packet ids of the unacknowledged messages, oldest first (a ring). */
  sentAt: Float64Array;
  ids: Uint16Array;
  head: number;
  inflight: number;
  nextId: number;
  seq: number;
  acked: number;
  leftover: Buffer | undefined;
  open: boolean;
  onConnack?: (code: number) => void;
}

const PINGREQ = Buffer.from([0xc0, 0x00]);
/** Readings per write in fixed-rate mode. */
const BURST = 5;
const DISCONNECT = Buffer.from([0xe0, 0x00]);

let conns: Conn[] = [];
let pinger: NodeJS.Timeout | undefined;
let run: ActiveRun | undefined;

interface ActiveRun {
  params: RunParams;
  running: boolean;
  sent: number;
  outOfOrder: number;
  closed: number;
  firstSendAt: number;
  lastSendAt: number;
  lastAckAt: number;
  histogram: Histogram;
  onIdle?: () => void;
}

function connectOne(params: ConnectParams, device: Device): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = params.tls
      ? tlsConnect({ host: params.host, port: params.port, ca: params.ca, servername: params.servername })
      : netConnect({ host: params.host, port: params.port });
    socket.setNoDelay(true);
    const conn: Conn = {
      sn: device.sn,
      socket,
      topic: Buffer.from(`mcs/${device.sn}/up`),
      window: params.window,
      sentAt: new Float64Array(params.window),
      ids: new Uint16Array(params.window),
      head: 0,
      inflight: 0,
      nextId: 1,
      seq: 0,
      acked: 0,
      leftover: undefined,
      open: true,
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${device.sn}: no CONNACK within 15 s`));
    }, 15_000);
    conn.onConnack = (code) => {
      clearTimeout(timer);
      conn.onConnack = undefined;
      if (code === 0) resolve(conn);
      else {
        socket.destroy();
        reject(new Error(`${device.sn}: CONNACK refused with code ${code}`));
      }
    };
    socket.once(params.tls ? "secureConnect" : "connect", () => {
      socket.write(
        mqttPacket.generate({
          cmd: "connect",
          protocolId: "MQTT",
          protocolVersion: 4,
          clean: true,
          clientId: `bench-${device.sn}`,
          keepalive: 60,
          username: device.sn,
          password: Buffer.from(device.password),
        }),
      );
    });
    socket.on("data", (chunk: Buffer) => onData(conn, chunk));
    socket.on("error", (error) => {
      clearTimeout(timer);
      if (conn.onConnack) reject(new Error(`${device.sn}: ${error.message}`));
    });
    socket.once("close", () => {
      conn.open = false;
      if (run?.running) run.closed++;
      if (conn.onConnack) {
        clearTimeout(timer);
        reject(new Error(`${device.sn}: connection closed before CONNACK`));
      }
    });
  });
}

/** Reads CONNACK, PUBACK and PINGRESP packets (all a publisher gets) from the stream. */
function onData(conn: Conn, chunk: Buffer): void {
  let buf = conn.leftover ? Buffer.concat([conn.leftover, chunk]) : chunk;
  conn.leftover = undefined;
  let offset = 0;
  const now = Date.now();
  let acks = 0;
  while (offset + 2 <= buf.length) {
    // Fixed header: type byte, remaining length (variable-length integer).
    let length = 0;
    let multiplier = 1;
    let i = offset + 1;
    let complete = false;
    for (; i < buf.length && i < offset + 5; i++) {
      const byte = buf[i]!;
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      if ((byte & 0x80) === 0) {
        complete = true;
        i++;
        break;
      }
    }
    if (!complete || i + length > buf.length) break;
    const type = buf[offset]! >> 4;
    if (type === 4 && length >= 2) {
      const id = buf.readUInt16BE(i);
      if (conn.inflight > 0) {
        if (conn.ids[conn.head] !== id && run) run.outOfOrder++;
        run?.histogram.record(now - conn.sentAt[conn.head]!);
        conn.head = (conn.head + 1) % conn.window;
        conn.inflight--;
        conn.acked++;
        acks++;
      }
    } else if (type === 2) {
      conn.onConnack?.(buf[i + 1] ?? 0x80);
    }
    offset = i + length;
  }
  if (offset < buf.length) conn.leftover = buf.subarray(offset);
  if (acks > 0 && run) {
    run.lastAckAt = now;
    // Refill once half the window is free: fewer, larger writes (each write is a TLS record
    // and a syscall, most of a publisher's cost), like a real device sending a backlog.
    if (run.running && run.params.mode === "max") {
      if (conn.inflight <= conn.window >> 1) send(conn, conn.window - conn.inflight, now);
    }
    else if (!run.running) checkIdle();
  }
}

/** Writes `count` readings on one connection as one socket write. */
function send(conn: Conn, count: number, now: number): void {
  if (count <= 0 || !conn.open || !run) return;
  const r = run;
  const topic = conn.topic;
  const out = Buffer.allocUnsafe(count * (topic.length + 200));
  let at = 0;
  const ts = Math.floor(now / 1000);
  for (let n = 0; n < count; n++) {
    const seq = r.params.seqBase + conn.seq++;
    const v = 0.5 + (seq % 997) / 1000;
    const payload = `{"ts":${ts},"seq":${seq},"v_raw":${v.toFixed(3)},"temp":${20 + (seq % 10)}.5,"humi":45.2,"bat":3.92,"rssi":-67,"err":0,"pt":${now}}`;
    const id = conn.nextId;
    conn.nextId = id === 65_535 ? 1 : id + 1;
    const remaining = 2 + topic.length + 2 + payload.length;
    out[at++] = 0x32; // PUBLISH, QoS 1
    // Remaining length: always < 16384 here, so one or two bytes.
    if (remaining < 128) out[at++] = remaining;
    else {
      out[at++] = (remaining & 0x7f) | 0x80;
      out[at++] = remaining >> 7;
    }
    out[at++] = topic.length >> 8;
    out[at++] = topic.length & 0xff;
    at += topic.copy(out, at);
    out[at++] = id >> 8;
    out[at++] = id & 0xff;
    at += out.write(payload, at, "latin1");
    const slot = (conn.head + conn.inflight) % conn.window;
    conn.sentAt[slot] = now;
    conn.ids[slot] = id;
    conn.inflight++;
  }
  conn.socket.write(out.subarray(0, at));
  r.sent += count;
  if (r.firstSendAt === 0) r.firstSendAt = now;
  r.lastSendAt = now;
}

function checkIdle(): void {
  if (!run || run.running) return;
  if (conns.every((c) => c.inflight === 0 || !c.open)) run.onIdle?.();
}

async function runFleet(params: RunParams): Promise<RunResult> {
  if (conns.length === 0) throw new Error("not connected");
  for (const conn of conns) {
    conn.seq = 0;
    conn.acked = 0;
  }
  const active: ActiveRun = { params, running: false, sent: 0, outOfOrder: 0, closed: 0, firstSendAt: 0, lastSendAt: 0, lastAckAt: 0, histogram: new Histogram() };
  run = active;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, params.startAt - Date.now())));
  active.running = true;
  const startedAt = Date.now();
  const endAt = startedAt + params.durationMs;

  await new Promise<void>((resolve) => {
    if (params.mode === "max") {
      const now = Date.now();
      for (const conn of conns) send(conn, conn.window - conn.inflight, now);
      setTimeout(resolve, params.durationMs);
      return;
    }
    // Fixed rate: a credit of readings due since the start, spread over the connections.
    const rate = params.rate ?? 1000;
    let rr = 0;
    const timer = setInterval(() => {
      const now = Date.now();
      if (now >= endAt) {
        clearInterval(timer);
        resolve();
        return;
      }
      let due = Math.floor((rate * (now - startedAt)) / 1000) - active.sent;
      if (due <= 0) return;
      // A few readings per write rather than one: the cost of a publisher is per write.
      const per = Math.max(BURST, Math.ceil(due / conns.length));
      for (let k = 0; k < conns.length && due > 0; k++) {
        const conn = conns[(rr + k) % conns.length]!;
        const count = Math.min(per, conn.window - conn.inflight, due);
        if (count > 0) {
          send(conn, count, now);
          due -= count;
        }
      }
      rr = (rr + 1) % conns.length;
    }, 2);
  });

  active.running = false;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, params.drainTimeoutMs);
    active.onIdle = () => {
      clearTimeout(timer);
      resolve();
    };
    checkIdle();
  });
  run = undefined;
  const perDevice: Record<string, number> = {};
  let acked = 0;
  for (const conn of conns) {
    perDevice[conn.sn] = conn.acked;
    acked += conn.acked;
  }
  return {
    sent: active.sent,
    acked,
    unacked: active.sent - acked,
    outOfOrder: active.outOfOrder,
    closed: active.closed,
    perDevice,
    firstSendAt: active.firstSendAt,
    lastSendAt: active.lastSendAt,
    lastAckAt: active.lastAckAt,
    ackLatency: active.histogram.toJSON(),
  };
}

serveIpc({
  async connect(params: ConnectParams) {
    conns = [];
    for (let i = 0; i < params.devices.length; i += 20) {
      conns.push(...(await Promise.all(params.devices.slice(i, i + 20).map((device) => connectOne(params, device)))));
    }
    clearInterval(pinger);
    pinger = setInterval(() => {
      for (const conn of conns) if (conn.open) conn.socket.write(PINGREQ);
    }, 20_000);
    return { connected: conns.length };
  },
  run: (params: RunParams) => runFleet(params),
  async disconnect() {
    clearInterval(pinger);
    await Promise.all(
      conns.map(
        (conn) =>
          new Promise<void>((resolve) => {
            if (!conn.open) return resolve();
            conn.socket.once("close", () => resolve());
            conn.socket.end(DISCONNECT);
            setTimeout(() => conn.socket.destroy(), 2_000).unref();
          }),
      ),
    );
    conns = [];
    return { ok: true };
  },
});
