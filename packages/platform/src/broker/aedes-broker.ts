import type { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { createServer, type TLSSocket } from "node:tls";
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from "aedes";
import { parseTopic, SN_PATTERN } from "@mcs/protocol";
import { createLogger } from "../log.ts";

const log = createLogger("broker");

export interface EmbeddedBrokerOptions {
  /** 0 picks a free port (tests); `EmbeddedBroker.port` tells which. */
  port: number;
  host?: string;
  certs: { cert: string; key: string };
  /** Checks a device's MQTT password (the database). A throw answers "server unavailable". */
  authenticate(username: string, password: string): Promise<boolean>;
  /**
   * Flow control: a device with this many messages (or bytes) handed over but not yet
   * acknowledged is not read further until some are; above `maxUnackedBytes` in all,
   * no device is. The excess waits on the device's side of the TCP connection.
   * Defaults: 1000 messages, 1 MiB, 16 MiB. One device's rate is at most about half its
   * window per commit (measured: ~15 k msg/s with 1000 and 30 ms commits).
   */
  maxUnackedPerDevice?: number;
  maxUnackedBytesPerDevice?: number;
  maxUnackedBytes?: number;
}

/** A device's PUBLISH (or its will), taken from the broker before it is acknowledged. */
export interface DeviceMessage {
  sn: string;
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  /**
   * Sends the device its PUBACK (QoS 1; PUBREC for QoS 2). Call it once the message is
   * committed. Acks reach each device in the order its messages arrived, whatever the
   * order of the calls; a message whose device has gone is never acknowledged (the
   * device sends it again). No-op for QoS 0 and wills.
   */
  ack(): void;
}

export interface EmbeddedBroker {
  readonly aedes: Aedes;
  /** The port actually listened on. */
  readonly port: number;
  connectedClients(): number;
  /** Server → device (commands). Resolves once routed to the subscribers. */
  publish(topic: string, payload: Buffer | string, options: { qos: 0 | 1; retain: boolean }): Promise<void>;
  /**
   * Hands every device PUBLISH (all are on `mcs/{sn}/up|status|ack`) and every will to
   * `consumer`, in arrival order, starting with any that arrived while nobody was
   * taking them. One consumer at a time; the answer detaches it.
   */
  takeDeviceMessages(consumer: (message: DeviceMessage) => void): () => void;
  close(): Promise<void>;
}

type Callback = (error?: Error | null) => void;

/** One message handed over (or waiting to be) and not yet acknowledged. */
interface Unacked {
  /** QoS 1: the PUBACK to write. */
  messageId?: number;
  /** QoS 2: lets Aedes carry on (store, publish, PUBREC). */
  release?: Callback;
  bytes: number;
  acked: boolean;
}

interface DeviceState {
  sn: string;
  client: Client;
  /** Handed over, oldest first, until acknowledged in order. */
  unacked: Unacked[];
  unackedBytes: number;
  /** Arrived while over the flow-control limits: not yet handed over. */
  waiting: { packet: PublishPacket; callback: Callback }[];
  flushScheduled: boolean;
}

/**
 * The embedded MQTT broker (Aedes, MQTT 3.1.1) on a TLS listener, with device
 * authentication, the per-device ACL, and in-process hand-over of device messages whose
 * acknowledgement waits for the consumer (the worker's commit).
 *
 * How the PUBACK is held. Aedes handles an incoming PUBLISH as `authorizePublish` →
 * write PUBACK → `publish` (retain, route, `published`), and reads a client's next
 * socket chunk only once every packet of the current chunk has finished that chain.
 * Holding the `authorizePublish` callback until the commit would therefore let a
 * device through one socket chunk per commit. Instead `authorizePublish` hands the
 * message over and marks it QoS 0 so that Aedes sends no PUBACK and goes on reading; the
 * QoS is restored before Aedes publishes it (retained status, routing), and the PUBACK
 * is written here when the consumer acknowledges. Flow control bounds what is held.
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const maxPerDevice = options.maxUnackedPerDevice ?? 1000;
  const maxBytesPerDevice = options.maxUnackedBytesPerDevice ?? 1024 * 1024;
  const maxBytes = options.maxUnackedBytes ?? 16 * 1024 * 1024;

  const devices = new WeakMap<Client, DeviceState>();
  /** Client id → sn, so one device can neither kick another off nor take its session. */
  const clientIdOwners = new Map<string, string>();
  /** Wire packets whose QoS was lowered to keep Aedes from acknowledging them. */
  const lowered = new WeakSet<object>();
  const blocked = new Set<DeviceState>();
  let unackedBytes = 0;
  let consumer: ((message: DeviceMessage) => void) | null = null;
  let backlog: DeviceMessage[] = [];
  let wakeScheduled = false;

  function handOver(message: DeviceMessage): void {
    if (consumer) {
      try {
        consumer(message);
      } catch (error) {
        log.error({ err: error, topic: message.topic }, "device message consumer threw");
      }
    } else backlog.push(message);
  }

  function overLimits(device: DeviceState): boolean {
    if (device.unacked.length === 0) return false; // always let one through: no deadlock
    return device.unacked.length >= maxPerDevice || device.unackedBytes >= maxBytesPerDevice || unackedBytes >= maxBytes;
  }

  function admit(device: DeviceState, packet: PublishPacket, callback: Callback): void {
    const qos = packet.qos;
    const entry: Unacked = { bytes: packet.payload.length + packet.topic.length, acked: false };
    device.unacked.push(entry);
    device.unackedBytes += entry.bytes;
    unackedBytes += entry.bytes;
    if (qos === 1) {
      entry.messageId = packet.messageId;
      (packet as { qos: number }).qos = 0;
      lowered.add(packet);
    } else if (qos === 2) {
      entry.release = callback;
    }
    handOver({
      sn: device.sn,
      topic: packet.topic,
      payload: toBuffer(packet.payload),
      qos,
      retain: packet.retain,
      ack: () => acknowledge(device, entry),
    });
    if (qos !== 2) callback(null);
  }

  function acknowledge(device: DeviceState, entry: Unacked): void {
    if (entry.acked) return;
    entry.acked = true;
    if (!device.flushScheduled) {
      device.flushScheduled = true;
      // A commit acknowledges a whole batch in one go: write each device's PUBACKs together.
      queueMicrotask(() => flush(device));
    }
  }

  function flush(device: DeviceState): void {
    device.flushScheduled = false;
    const pubacks: number[] = [];
    const releases: Callback[] = [];
    while (device.unacked[0]?.acked) {
      const entry = device.unacked.shift()!;
      device.unackedBytes -= entry.bytes;
      unackedBytes -= entry.bytes;
      if (entry.messageId !== undefined) pubacks.push(entry.messageId);
      if (entry.release) releases.push(entry.release);
    }
    const { client } = device;
    if (pubacks.length > 0 && !client.closed && !client.conn.destroyed) {
      const bytes = Buffer.allocUnsafe(pubacks.length * 4);
      pubacks.forEach((messageId, i) => {
        bytes[i * 4] = 0x40; // PUBACK, remaining length 2, packet identifier
        bytes[i * 4 + 1] = 0x02;
        bytes.writeUInt16BE(messageId, i * 4 + 2);
      });
      client.conn.write(bytes);
      // While flow control holds a device's packets, its PINGREQs sit unread behind them:
      // progress on our side must not count as silence on its side.
      (client as unknown as { _keepaliveTimer?: NodeJS.Timeout | null })._keepaliveTimer?.refresh();
    }
    for (const release of releases) setImmediate(release, null);
    if (blocked.size > 0 && !wakeScheduled) {
      wakeScheduled = true;
      setImmediate(wake);
    }
  }

  function wake(): void {
    wakeScheduled = false;
    for (const device of blocked) {
      if (device.client.closed) {
        // Never handed over nor acknowledged: the device sends them again.
        device.waiting = [];
        blocked.delete(device);
        continue;
      }
      while (device.waiting.length > 0 && !overLimits(device)) {
        const next = device.waiting.shift()!;
        admit(device, next.packet, next.callback);
      }
      if (device.waiting.length === 0) blocked.delete(device);
    }
  }

  const aedes = await Aedes.createBroker({
    // Packets a device sends before its (asynchronous) authentication ends wait here.
    queueLimit: 1000,
    connectTimeout: 10_000,

    authenticate(client, username, password, done) {
      const refuse = (returnCode: 2 | 3 | 4, reason: string) => {
        log.info({ sn: username, clientId: client.id, reason }, "device connection refused");
        const error = new Error(reason) as AuthenticateError;
        error.returnCode = returnCode;
        done(error, false);
      };
      const secret = password?.toString("utf8") ?? "";
      if (typeof username !== "string" || !SN_PATTERN.test(username) || secret.length === 0) {
        return refuse(4, "bad user name or password");
      }
      options.authenticate(username, secret).then(
        (ok) => {
          if (!ok) return refuse(4, "bad user name or password");
          const owner = clientIdOwners.get(client.id);
          const current = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients[client.id];
          const currentSn = current ? devices.get(current)?.sn : undefined;
          if ((owner !== undefined && owner !== username) || (currentSn !== undefined && currentSn !== username)) {
            return refuse(2, "client id belongs to another device");
          }
          if (!client.clean) clientIdOwners.set(client.id, username);
          devices.set(client, { sn: username, client, unacked: [], unackedBytes: 0, waiting: [], flushScheduled: false });
          done(null, true);
        },
        (error: unknown) => {
          log.error({ err: error, sn: username }, "device authentication failed");
          refuse(3, "server unavailable");
        },
      );
    },

    authorizePublish(client, packet, callback) {
      const device = client ? devices.get(client) : undefined;
      // What a device may publish: its own up / status / ack.
      const address = parseTopic(packet.topic);
      if (!device || !address || address.kind === "cmd" || address.sn !== device.sn) {
        log.warn({ sn: device?.sn, clientId: client?.id, topic: packet.topic }, "device publish refused");
        return callback(new Error(`publish to ${packet.topic} not allowed`));
      }
      if (device.client.closed) {
        // The will (or a leftover of a connection already gone): nothing to acknowledge.
        handOver({
          sn: device.sn,
          topic: packet.topic,
          payload: toBuffer(packet.payload),
          qos: packet.qos,
          retain: packet.retain,
          ack: () => {},
        });
        return callback(null);
      }
      if (device.waiting.length > 0 || overLimits(device)) {
        device.waiting.push({ packet, callback });
        blocked.add(device);
        return;
      }
      admit(device, packet, callback);
    },

    authorizeSubscribe(client, subscription, callback) {
      const device = devices.get(client);
      if (device && subscription.topic === `mcs/${device.sn}/cmd`) return callback(null, subscription);
      log.warn({ sn: device?.sn, clientId: client.id, topic: subscription.topic }, "device subscription refused");
      callback(null, null); // SUBACK 0x80 for this topic; the connection stays
    },

    authorizeForward(client, packet) {
      // Also guards what a resumed session's stored queue would send.
      const device = devices.get(client);
      return device && packet.topic === `mcs/${device.sn}/cmd` ? packet : null;
    },
  });

  // Lowered packets get their QoS back before Aedes retains and routes them.
  const publishPacket = aedes.publish.bind(aedes) as unknown as (packet: PublishPacket, client: unknown, done: Callback) => void;
  (aedes as unknown as { publish: typeof publishPacket }).publish = (packet, client, done) => {
    if (lowered.has(packet)) (packet as { qos: number }).qos = 1;
    publishPacket(packet, client, done);
  };

  // Aedes emits "error" (persistence, routing) without typing it; unheard, it would throw.
  (aedes as EventEmitter).on("error", (error: Error) => log.error({ err: error }, "broker error"));
  aedes.on("clientError", (client, error) => log.debug({ clientId: client.id, err: error.message }, "client error"));
  aedes.on("connectionError", (client, error) => log.debug({ err: error.message }, "connection error"));
  aedes.on("clientDisconnect", (client) => {
    const device = devices.get(client);
    if (device && blocked.has(device) && !wakeScheduled) {
      wakeScheduled = true;
      setImmediate(wake);
    }
  });

  const sockets = new Set<Socket>();
  const server = createServer(
    { cert: options.certs.cert, key: options.certs.key, minVersion: "TLSv1.2", handshakeTimeout: 10_000 },
    (socket: TLSSocket) => {
      aedes.handle(socket);
    },
  );
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("tlsClientError", (error) => log.debug({ err: error.message }, "TLS handshake failed"));
  server.on("error", (error) => log.error({ err: error }, "MQTT TLS listener error"));

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await new Promise<void>((resolve) => aedes.close(() => resolve())); // its timers would keep the process up
    throw error;
  }
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  log.info({ port }, "MQTT broker listening (TLS)");

  let closing: Promise<void> | null = null;
  return {
    aedes,
    port,
    connectedClients: () => aedes.connectedClients,
    publish(topic, payload, { qos, retain }) {
      return new Promise((resolve, reject) => {
        aedes.publish(
          { cmd: "publish", topic, payload: typeof payload === "string" ? Buffer.from(payload) : payload, qos, retain, dup: false },
          (error) => (error ? reject(error) : resolve()),
        );
      });
    },
    takeDeviceMessages(next) {
      if (consumer) throw new Error("device messages already have a consumer");
      consumer = next;
      const waiting = backlog;
      backlog = [];
      for (const message of waiting) handOver(message);
      return () => {
        if (consumer === next) consumer = null;
      };
    },
    close() {
      closing ??= (async () => {
        const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        for (const socket of sockets) socket.destroy(); // half-open handshakes, unauthenticated connections
        await listenerClosed;
        blocked.clear();
        backlog = [];
        consumer = null;
        log.info({ port }, "MQTT broker closed");
      })();
      return closing;
    },
  };
}

function toBuffer(payload: Buffer | string): Buffer {
  return typeof payload === "string" ? Buffer.from(payload) : payload;
}
