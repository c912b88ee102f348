import mqtt, { type IClientOptions, type MqttClient, type Packet } from "mqtt";
import { topics, type CommandMessage } from "@mcs/protocol";
import { createLogger } from "../log.ts";
import { NoSubscriberError, type CommandPublisher } from "./command-publisher.ts";

const log = createLogger("commands.mqtt");

export interface MqttCommandPublisherOptions {
  /** `mqtt://mcs-backend:<pw>@broker:1883` or `mqtts://…:8883` (user and password URL-encoded). */
  url: string;
  /** PEM of the CA that signed the broker's certificate (mqtts); the system CAs if omitted. */
  ca?: string | Buffer;
  /** Unique per process: the broker drops an older connection with the same id. */
  clientId: string;
  /** A command without PUBACK after this long is reported as not handed over (default 5 s). */
  publishTimeoutMs?: number;
  /** Between reconnection attempts (default 1 s). */
  reconnectMs?: number;
}

/** MQTT 5 PUBACK reason: the broker took the message, but nobody is subscribed to its topic. */
const NO_MATCHING_SUBSCRIBERS = 0x10;

/**
 * Commands through Mosquitto (services mode): one MQTT 5 connection with a clean session.
 * MQTT.js suits this side (few messages, an answer per message) unlike ingest. MQTT 5
 * because its PUBACK says when no device is subscribed to `mcs/{sn}/cmd`: then the device
 * is not there, whatever the presence state says, and the command stays pending.
 *
 * While disconnected, publish fails at once instead of queueing in MQTT.js: the commands
 * table is the queue, and a command queued in memory would go out unnoticed later.
 */
export class MqttCommandPublisher implements CommandPublisher {
  private readonly client: MqttClient;
  private readonly timeoutMs: number;
  /** PUBACK reason codes by packet id, noted as each PUBACK arrives (MQTT.js hides code 0x10). */
  private readonly reasons = new Map<number, number>();

  constructor(options: MqttCommandPublisherOptions) {
    this.timeoutMs = options.publishTimeoutMs ?? 5_000;
    const url = new URL(options.url);
    const tls = url.protocol === "mqtts:";
    const clientOptions: IClientOptions = {
      protocol: tls ? "mqtts" : "mqtt",
      host: url.hostname,
      port: Number(url.port) || (tls ? 8883 : 1883),
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      clientId: options.clientId,
      protocolVersion: 5,
      clean: true,
      keepalive: 30,
      reconnectPeriod: options.reconnectMs ?? 1_000,
      connectTimeout: 10_000,
      queueQoSZero: false,
      ...(tls ? { ca: options.ca, rejectUnauthorized: true, servername: url.hostname } : {}),
    };
    this.client = mqtt.connect(clientOptions);
    this.client.on("packetreceive", (packet: Packet) => {
      if (packet.cmd === "puback" && packet.messageId !== undefined) this.reasons.set(packet.messageId, packet.reasonCode ?? 0);
    });
    this.client.on("connect", () => log.info({ clientId: options.clientId }, "command publisher connected"));
    // Once per outage, not once per reconnection attempt.
    this.client.on("offline", () => log.warn({ clientId: options.clientId }, "command publisher lost the broker; reconnecting"));
    this.client.on("error", (error) => log.debug({ err: error.message }, "command publisher connection error"));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Resolves once connected (tests, start-up checks); rejects after `timeoutMs`. */
  waitConnected(timeoutMs = 10_000): Promise<void> {
    if (this.client.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off("connect", onConnect);
        reject(new Error(`not connected to the broker after ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnect = () => {
        clearTimeout(timer);
        resolve();
      };
      this.client.once("connect", onConnect);
    });
  }

  publish(sn: string, command: CommandMessage): Promise<void> {
    if (!this.client.connected) return Promise.reject(new Error("the command publisher is not connected to the broker"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no PUBACK for command ${command.id} within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.client.publish(topics.cmd(sn), JSON.stringify(command), { qos: 1 }, (error, packet) => {
        clearTimeout(timer);
        const messageId = packet && "messageId" in packet ? packet.messageId : undefined;
        const reason = messageId === undefined ? undefined : this.reasons.get(messageId);
        if (messageId !== undefined) this.reasons.delete(messageId);
        if (error) reject(error);
        else if (reason === NO_MATCHING_SUBSCRIBERS) reject(new NoSubscriberError(sn));
        else resolve();
      });
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
