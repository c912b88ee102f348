import { EventEmitter } from "node:events";
import { isIP, connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import mqttPacket, { type IConnackPacket, type IPublishPacket, type ISubackPacket, type Packet } from "mqtt-packet";
import { INGEST_TOPICS } from "@mcs/protocol";
import { createLogger } from "@mcs/platform";
import type { InboundMessage, MessageSource } from "./message-source.ts";
import { watchLiveCopy } from "./live-copy.ts";

/**
 * The worker's MQTT consumer for services mode (Mosquitto): a lean MQTT 5 client on a raw
 * socket, because the worker acknowledges a QoS 1 message only after its reading is
 * committed, in batches. MQTT.js cannot do that: it reads the next packet only after the
 * message callback has finished, so holding acks serialises the connection (< 200 msg/s).
 * Here every PUBLISH is handed over at once and its PUBACK is written when `ack()` is
 * called; the broker keeps sending up to `receiveMaximum` unacknowledged messages.
 *
 * - Subscribes `$share/{group}/{topic}` at QoS 1, so several workers split the load.
 * - Clean start = false with a session expiry: while this consumer is away (restart,
 *   crash), the broker queues its share and redelivers unacknowledged messages with DUP.
 * - PUBACKs are written in arrival order: an `ack()` that comes early is held until every
 *   earlier message is acked. Acks for messages of an earlier connection are dropped (the
 *   broker redelivers those; the database ignores duplicates).
 * - PINGREQs flow on a timer of their own, however long acks are held.
 * - Holds at most about `receiveMaximum` unacknowledged messages: the broker is told that
 *   number (MQTT 5 receive maximum), but Mosquitto 2.0.11 honours it only until the first
 *   PUBACK; after that every PUBACK releases another full window (measured: receive maximum
 *   100, one ack → 200 unacknowledged, three acks → 400). Left alone, a worker starting
 *   against a backlog of millions would take them all into memory. So the consumer stops
 *   reading its socket while `receiveMaximum` messages are unacknowledged and resumes as
 *   acks are written; TCP then holds the broker back, and the excess waits in the broker.
 * - Reconnects with exponential backoff and jitter after any failure, including a refused
 *   CONNACK (bad credentials) or a refused subscription.
 */
export interface MqttIngestOptions {
  /** `mqtt://user:pass@host:1883` or `mqtts://user:pass@host:8883` (user and pass URL-encoded). */
  url: string;
  /** PEM of the CA that signed the broker's certificate (mqtts); the system CAs if omitted. */
  ca?: string | Buffer;
  /** Stable per worker instance: the broker keeps this id's session (and queued share) while it is away. */
  clientId: string;
  /**
   * Shared-subscription group (default `workers`), so several workers split the load; null
   * for a plain persistent subscription. Mosquitto 2.0.x restores a persistent session's
   * plain subscriptions after a restart but not its `$share` ones: with a share group,
   * readings that arrive between a broker restart and the worker's resubscription are
   * acknowledged to the device and go to nobody. A single worker should use null.
   */
  group?: string | null;
  /** Topic filters (default the device-to-server topics). */
  topics?: string[];
  /**
   * Most unacknowledged QoS 1 messages held at once (default 10,000; at most 65,535): sent to
   * the broker as the MQTT 5 receive maximum and enforced here by pausing the socket.
   */
  receiveMaximum?: number;
  /** Keepalive in seconds (default 30); the broker may lower it (server keepalive). */
  keepalive?: number;
  /** Session expiry in seconds (default 7 days; Mosquitto caps it at persistent_client_expiration). */
  sessionExpiry?: number;
  /** Reconnect backoff: first delay (default 500 ms) doubling up to the maximum (default 30 s), with jitter. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Give up on a connection attempt that has no CONNACK after this long (default 10 s). */
  connectTimeoutMs?: number;
}

/** An InboundMessage with the MQTT details a caller may want for metrics. */
export interface MqttInboundMessage extends InboundMessage {
  readonly qos: 0 | 1;
  /** The broker's DUP flag: sent before, on an earlier connection, and not acknowledged then. */
  readonly dup: boolean;
}

export interface MqttIngestCounters {
  /** PUBLISH packets received. */
  received: number;
  /** PUBACKs written to the broker. */
  acked: number;
  /** ack() calls for messages of a connection that has since closed (the broker redelivers them). */
  ackDropped: number;
  /** Messages delivered and not yet acknowledged on the current connection. */
  held: number;
  /** Times reading paused because `receiveMaximum` messages were unacknowledged. */
  pauses: number;
  /** Connections the broker accepted (CONNACK success). */
  connects: number;
  /** CONNACKs with a failure reason code (for example bad credentials). */
  refused: number;
}

export interface MqttIngestEvents {
  connected: [info: { sessionPresent: boolean }];
  disconnected: [info: { reason: string }];
}

export const DEFAULT_TOPICS: string[] = [...INGEST_TOPICS];

const PINGREQ = Buffer.from([0xc0, 0x00]);
/** DISCONNECT, MQTT 5, reason 0 (normal): the session stays for its expiry interval. */
const DISCONNECT = Buffer.from([0xe0, 0x00]);
const SUBSCRIBE_ID = 1;

const log = createLogger("worker.ingest");

interface PendingAck {
  id: number;
  acked: boolean;
}

/** One socket's life: its parser, timers and the PUBACKs it still owes, in arrival order. */
interface Connection {
  socket: Socket;
  /**
   * connecting: until the CONNACK. connected: CONNACK accepted (with a session present,
   * messages flow before the SUBACK). closing: stop() sent DISCONNECT; nothing more is
   * delivered. closed: the socket is gone.
   */
  state: "connecting" | "connected" | "closing" | "closed";
  subscribed: boolean;
  pending: PendingAck[];
  head: number;
  flushScheduled: boolean;
  lastRead: number;
  paused: boolean;
  sessionPresent: boolean;
  pingTimer?: NodeJS.Timeout;
  connectTimer?: NodeJS.Timeout;
  closeReason?: string;
  /** The close was already logged as an error (refused CONNACK or SUBACK). */
  logged?: boolean;
}

export class MqttIngest extends EventEmitter<MqttIngestEvents> implements MessageSource {
  private readonly options: Required<Omit<MqttIngestOptions, "ca">> & Pick<MqttIngestOptions, "ca">;
  private readonly target: { tls: boolean; host: string; port: number; username?: string; password?: string };
  private deliver: ((message: MqttInboundMessage) => void) | undefined;
  private conn: Connection | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = true;
  private hadSession = false;
  private startWaiter: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private readonly stats: Omit<MqttIngestCounters, "held"> = { received: 0, acked: 0, ackDropped: 0, pauses: 0, connects: 0, refused: 0 };

  constructor(options: MqttIngestOptions) {
    super();
    this.options = {
      group: "workers",
      topics: DEFAULT_TOPICS,
      receiveMaximum: 10_000,
      keepalive: 30,
      sessionExpiry: 7 * 24 * 3600,
      reconnectMinMs: 500,
      reconnectMaxMs: 30_000,
      connectTimeoutMs: 10_000,
      ...definedOnly(options),
      url: options.url,
      clientId: options.clientId,
    };
    const { receiveMaximum, keepalive, group } = this.options;
    if (!Number.isInteger(receiveMaximum) || receiveMaximum < 1 || receiveMaximum > 65_535) throw new Error(`receiveMaximum must be 1…65535, not ${receiveMaximum}`);
    if (!Number.isInteger(keepalive) || keepalive < 1 || keepalive > 65_535) throw new Error(`keepalive must be 1…65535 s, not ${keepalive}`);
    if (group !== null && !/^[^/+#]+$/.test(group)) throw new Error(`shared-subscription group ${JSON.stringify(group)} must not contain / + #`);
    this.target = parseUrl(options.url);
  }

  /** True from an accepted CONNACK to the connection's end. */
  get connected(): boolean {
    return this.conn?.state === "connected";
  }

  get counters(): Readonly<MqttIngestCounters> {
    const conn = this.conn;
    return { ...this.stats, held: conn ? conn.pending.length - conn.head : 0 };
  }

  /**
   * Connects and subscribes; resolves once subscribed: at the CONNACK when the broker kept
   * this client's session (its subscriptions are part of it, and Mosquitto sends the queued
   * messages before it answers a new SUBSCRIBE), else at the SUBACK. Connection failures
   * are logged and retried, never thrown; stop() rejects a pending start().
   */
  start(deliver: (message: MqttInboundMessage) => void): Promise<void> {
    if (!this.stopped) return Promise.reject(new Error("MqttIngest is already started"));
    this.stopped = false;
    this.deliver = deliver;
    this.attempt = 0;
    return new Promise<void>((resolve, reject) => {
      this.startWaiter = { resolve, reject };
      this.open();
    });
  }

  /** A live copy of the device messages for the held stream's alarms (`MessageSource.watch`). */
  watch(deliver: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>> {
    return watchLiveCopy({ url: this.options.url, ca: this.options.ca, clientId: `${this.options.clientId}-watch`, topics: this.options.topics }, deliver);
  }

  /**
   * Ends the connection with a normal DISCONNECT: the session, with its queued and
   * unacknowledged messages, stays on the broker for `sessionExpiry`. PUBACKs that are
   * ready (acked, in order) are written first; the rest are redelivered on the next start.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const waiter = this.startWaiter;
    this.startWaiter = undefined;
    waiter?.reject(new Error("MqttIngest stopped before it was subscribed"));
    const conn = this.conn;
    if (!conn || conn.state === "closed") return;
    const closed = new Promise<void>((resolve) => conn.socket.once("close", () => resolve()));
    conn.closeReason = "stopped";
    if (conn.state === "connected") {
      this.flush(conn);
      conn.socket.write(DISCONNECT);
      conn.state = "closing";
      conn.socket.resume(); // read (and ignore) what is still coming, so that the close completes
      conn.socket.end();
    } else {
      conn.socket.destroy();
    }
    const timer = setTimeout(() => conn.socket.destroy(), 2_000);
    await closed;
    clearTimeout(timer);
  }

  /**
   * Drops the current connection without a DISCONNECT, as a network failure would; the
   * ingest reconnects with backoff. For tests and for forcing a reconnect.
   */
  dropConnection(): void {
    const conn = this.conn;
    if (!conn || conn.state === "closed") return;
    conn.closeReason = "dropped on request";
    conn.socket.destroy();
  }

  private open(): void {
    const { host, port, tls } = this.target;
    const socket = tls
      ? tlsConnect({ host, port, ca: this.options.ca, servername: isIP(host) ? undefined : host })
      : netConnect({ host, port });
    const conn: Connection = { socket, state: "connecting", subscribed: false, pending: [], head: 0, flushScheduled: false, lastRead: Date.now(), paused: false, sessionPresent: false };
    this.conn = conn;
    socket.setNoDelay(true);

    conn.connectTimer = setTimeout(() => {
      conn.closeReason = `no CONNACK within ${this.options.connectTimeoutMs} ms`;
      socket.destroy();
    }, this.options.connectTimeoutMs);

    const parser = mqttPacket.parser({ protocolVersion: 5 });
    parser.on("packet", (packet: Packet) => this.onPacket(conn, packet));
    parser.on("error", (error: Error) => {
      conn.closeReason = `malformed packet from the broker: ${error.message}`;
      socket.destroy();
    });

    socket.once(tls ? "secureConnect" : "connect", () => {
      socket.write(
        mqttPacket.generate(
          {
            cmd: "connect",
            protocolId: "MQTT",
            protocolVersion: 5,
            clean: false,
            clientId: this.options.clientId,
            keepalive: this.options.keepalive,
            username: this.target.username,
            password: this.target.password === undefined ? undefined : Buffer.from(this.target.password, "utf8"),
            properties: { sessionExpiryInterval: this.options.sessionExpiry, receiveMaximum: this.options.receiveMaximum },
          },
          { protocolVersion: 5 },
        ),
      );
    });
    socket.on("data", (chunk: Buffer) => {
      conn.lastRead = Date.now();
      parser.parse(chunk);
    });
    socket.on("error", (error) => {
      conn.closeReason ??= error.message;
    });
    socket.once("close", () => this.onClose(conn));
  }

  private onPacket(conn: Connection, packet: Packet): void {
    // After destroy() the rest of the chunk being parsed still arrives here: ignore it.
    if (conn.socket.destroyed || (conn.state !== "connecting" && conn.state !== "connected")) return;
    switch (packet.cmd) {
      case "publish":
        this.onPublish(conn, packet);
        return;
      case "pingresp":
        return;
      case "connack":
        this.onConnack(conn, packet);
        return;
      case "suback":
        this.onSuback(conn, packet);
        return;
      case "disconnect":
        conn.closeReason = `broker sent DISCONNECT (reason ${packet.reasonCode ?? 0}${packet.properties?.reasonString ? `: ${packet.properties.reasonString}` : ""})`;
        return; // the broker closes the socket next
      default:
        log.debug({ cmd: packet.cmd }, "ignoring an unexpected packet");
    }
  }

  private onConnack(conn: Connection, packet: IConnackPacket): void {
    const code = packet.reasonCode ?? packet.returnCode ?? 0;
    if (code !== 0) {
      this.stats.refused++;
      conn.closeReason = `broker refused the connection: ${connackReason(code)} (reason code ${code})`;
      log.error({ broker: this.brokerName(), clientId: this.options.clientId, reasonCode: code }, conn.closeReason);
      conn.logged = true;
      conn.socket.destroy();
      return;
    }
    clearTimeout(conn.connectTimer);
    conn.state = "connected";
    conn.sessionPresent = packet.sessionPresent;
    this.stats.connects++;
    log.info({ broker: this.brokerName(), clientId: this.options.clientId, group: this.options.group, sessionPresent: packet.sessionPresent }, "connected to the broker");
    this.emit("connected", { sessionPresent: packet.sessionPresent });
    const serverKeepalive = packet.properties?.serverKeepAlive;
    const keepalive = serverKeepalive && serverKeepalive > 0 ? serverKeepalive : this.options.keepalive;
    // A packet at least every keepalive/2, and the broker silent for 1.5 × keepalive means it is gone.
    conn.pingTimer = setInterval(() => {
      // While paused we do not read, so the broker's PINGRESPs wait in the socket: no verdict then.
      if (!conn.paused && Date.now() - conn.lastRead > keepalive * 1500) {
        conn.closeReason = `no packet from the broker for ${keepalive * 1.5} s`;
        conn.socket.destroy();
        return;
      }
      conn.socket.write(PINGREQ);
    }, (keepalive * 1000) / 2);
    if (!packet.sessionPresent && this.hadSession) {
      log.warn({ clientId: this.options.clientId }, "the broker had no session for this consumer: messages queued for it while away (if any) are gone");
    }
    this.hadSession = true;
    // With a session present, the broker starts sending queued messages right away and its
    // SUBACK may come only after them, so the subscriptions of the session count as done.
    if (packet.sessionPresent) this.resolveStart();
    conn.socket.write(
      mqttPacket.generate(
        {
          cmd: "subscribe",
          messageId: SUBSCRIBE_ID,
          subscriptions: this.options.topics.map((topic) => ({ topic: this.filter(topic), qos: 1 as const, nl: false, rap: false, rh: 0 })),
        },
        { protocolVersion: 5 },
      ),
    );
  }

  private onSuback(conn: Connection, packet: ISubackPacket): void {
    if (packet.messageId !== SUBSCRIBE_ID || conn.subscribed) return;
    const codes = (packet.granted as Array<number | { qos: number }>).map((g) => (typeof g === "number" ? g : g.qos));
    const refused = this.options.topics.filter((_, i) => (codes[i] ?? 0x80) >= 0x80);
    if (refused.length > 0) {
      conn.closeReason = `broker refused the subscription to ${refused.join(", ")} (reason codes ${codes.join(", ")})`;
      log.error({ broker: this.brokerName(), clientId: this.options.clientId, group: this.options.group }, conn.closeReason);
      conn.logged = true;
      conn.socket.destroy();
      return;
    }
    conn.subscribed = true;
    this.attempt = 0;
    log.info({ clientId: this.options.clientId, group: this.options.group, topics: this.options.topics }, "subscribed");
    this.resolveStart();
  }

  private resolveStart(): void {
    const waiter = this.startWaiter;
    this.startWaiter = undefined;
    waiter?.resolve();
  }

  private onPublish(conn: Connection, packet: IPublishPacket): void {
    this.stats.received++;
    const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
    if (packet.qos === 2) {
      // Cannot happen: the subscriptions are QoS 1, so the broker downgrades. Fail loudly rather than leave it half-handled.
      conn.closeReason = "received a QoS 2 PUBLISH on a QoS 1 subscription";
      log.error({ topic: packet.topic }, conn.closeReason);
      conn.socket.destroy();
      return;
    }
    if (packet.qos === 0) {
      this.hand(conn, { topic: packet.topic, payload, qos: 0, dup: false, ack: noop });
      return;
    }
    const entry: PendingAck = { id: packet.messageId ?? 0, acked: false };
    conn.pending.push(entry);
    if (!conn.paused && conn.pending.length - conn.head >= this.options.receiveMaximum) {
      // The rest of the current chunk is still parsed and delivered: the overshoot is one socket read.
      conn.paused = true;
      this.stats.pauses++;
      conn.socket.pause();
    }
    this.hand(conn, {
      topic: packet.topic,
      payload,
      qos: 1,
      dup: packet.dup,
      ack: () => {
        if (entry.acked) return;
        entry.acked = true;
        if (!isLive(conn)) {
          this.stats.ackDropped++;
          return;
        }
        // Many acks usually come in one synchronous loop after a commit: write them as one packet train.
        if (!conn.flushScheduled) {
          conn.flushScheduled = true;
          queueMicrotask(() => this.flush(conn));
        }
      },
    });
  }

  /**
   * Hands a message to the processor. The processor must not throw (bad input goes to the
   * dead-letter table); if it does, the message would never be acked and would hold back
   * every later PUBACK, so the connection is dropped and the broker redelivers.
   */
  private hand(conn: Connection, message: MqttInboundMessage): void {
    try {
      this.deliver?.(message);
    } catch (error) {
      conn.closeReason = `the message handler threw on ${message.topic}: ${(error as Error).message}`;
      log.error({ err: error, topic: message.topic }, "the message handler threw; dropping the connection so that the broker redelivers");
      conn.logged = true;
      conn.socket.destroy();
    }
  }

  /** Writes the PUBACKs of the acked messages at the head of the queue, stopping at the first unacked one. */
  private flush(conn: Connection): void {
    conn.flushScheduled = false;
    if (!isLive(conn)) return;
    const { pending } = conn;
    let end = conn.head;
    while (end < pending.length && pending[end]!.acked) end++;
    const count = end - conn.head;
    if (count === 0) return;
    const out = Buffer.allocUnsafe(count * 4);
    for (let i = 0; i < count; i++) {
      const id = pending[conn.head + i]!.id;
      // PUBACK with remaining length 2: packet id only, which MQTT 5 reads as reason code 0 (success).
      out[i * 4] = 0x40;
      out[i * 4 + 1] = 0x02;
      out[i * 4 + 2] = id >> 8;
      out[i * 4 + 3] = id & 0xff;
    }
    conn.socket.write(out);
    this.stats.acked += count;
    conn.head = end;
    if (conn.paused && conn.pending.length - conn.head < this.options.receiveMaximum) {
      conn.paused = false;
      conn.lastRead = Date.now();
      conn.socket.resume();
    }
    if (conn.head === pending.length) {
      pending.length = 0;
      conn.head = 0;
    } else if (conn.head > 4096 && conn.head * 2 > pending.length) {
      conn.pending = pending.slice(conn.head);
      conn.head = 0;
    }
  }

  private onClose(conn: Connection): void {
    const wasConnected = conn.state === "connected" || conn.state === "closing";
    conn.state = "closed";
    clearTimeout(conn.connectTimer);
    clearInterval(conn.pingTimer);
    // Acks owed on this connection can no longer be sent: count the ones that come later as dropped.
    for (let i = conn.head; i < conn.pending.length; i++) if (conn.pending[i]!.acked) this.stats.ackDropped++;
    conn.pending = [];
    conn.head = 0;
    const reason = conn.closeReason ?? "connection closed";
    if (wasConnected) {
      (this.stopped ? log.info.bind(log) : log.warn.bind(log))({ broker: this.brokerName(), clientId: this.options.clientId, reason }, "disconnected from the broker");
      this.emit("disconnected", { reason });
    } else if (!this.stopped && !conn.logged) {
      log.warn({ broker: this.brokerName(), clientId: this.options.clientId, reason }, "could not connect to the broker");
    }
    if (this.conn === conn) this.conn = undefined;
    if (!this.stopped) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const { reconnectMinMs, reconnectMaxMs } = this.options;
    const ceiling = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** Math.min(this.attempt, 30));
    // "Equal jitter": between half and all of the ceiling, so that several workers do not retry in step.
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.attempt++;
    log.info({ delayMs: delay, attempt: this.attempt }, "reconnecting to the broker");
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopped) this.open();
    }, delay);
  }

  private filter(topic: string): string {
    return this.options.group === null ? topic : `$share/${this.options.group}/${topic}`;
  }

  private brokerName(): string {
    return `${this.target.tls ? "mqtts" : "mqtt"}://${this.target.host}:${this.target.port}`;
  }
}

function noop(): void {}

/** Acks can still be written on this connection. */
function isLive(conn: Connection): boolean {
  return conn.state === "connected" && !conn.socket.destroyed;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function parseUrl(url: string): { tls: boolean; host: string; port: number; username?: string; password?: string } {
  const parsed = new URL(url);
  const tls = parsed.protocol === "mqtts:";
  if (!tls && parsed.protocol !== "mqtt:") throw new Error(`MQTT URL must start with mqtt:// or mqtts://, not ${parsed.protocol}//`);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) throw new Error("MQTT URL has no host");
  return {
    tls,
    host,
    port: parsed.port ? Number(parsed.port) : tls ? 8883 : 1883,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
  };
}

/** MQTT 5 CONNACK reason codes (and the 3.1.1 return codes 1–5) in words. */
function connackReason(code: number): string {
  const reasons: Record<number, string> = {
    1: "unacceptable protocol version",
    2: "client identifier rejected",
    3: "server unavailable",
    4: "bad username or password",
    5: "not authorized",
    0x80: "unspecified error",
    0x81: "malformed packet",
    0x82: "protocol error",
    0x83: "implementation specific error",
    0x84: "unsupported protocol version",
    0x85: "client identifier not valid",
    0x86: "bad username or password",
    0x87: "not authorized (Mosquitto 2.0.11 also answers a wrong password so)",
    0x88: "server unavailable",
    0x89: "server busy",
    0x8a: "banned",
    0x8c: "bad authentication method",
    0x95: "packet too large",
    0x97: "quota exceeded",
    0x9f: "connection rate exceeded",
  };
  return reasons[code] ?? "unknown reason";
}
