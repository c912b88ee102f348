import { createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { acknowledge, emptyMemory, evaluateReading, type AlarmEvent, type AlarmType, type DeviceAlarmMemory } from "@mcs/core";
import {
  AlarmStore,
  CHANNEL_SENDERS,
  ChannelStore,
  DeviceStore,
  OutboxStore,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  channelHears,
  type Cache,
  type ChannelInput,
  type ChannelRecord,
  type ChannelSender,
  type DeviceRecord,
  type Ports,
  type WebhookPayload,
} from "@mcs/platform";
import type { DeviceCreate } from "@mcs/protocol";
import { FakeClock } from "../../../test-support/fake-clock.ts";
import { openTestPorts, type Mode } from "../../../test-support/ports.ts";
import { ChannelCache } from "../../src/alarms/channel-cache.ts";
import { alarmSettingsOf } from "../../src/alarms/alarm-engine.ts";
import { NotificationDispatcher, type DispatcherOptions } from "../../src/alarms/notification-dispatcher.ts";
import { prefixedCache } from "../../../test-support/prefixed-cache.ts";

export const HOOK_SECRET = "dispatcher-hook-secret";
const actor = { name: "test" };

/** How the receiver answers a path: a status code, or no answer until `release()`. */
export type Answer = 200 | 400 | 500 | "hang";

export interface Delivery {
  path: string;
  body: WebhookPayload;
  /** X-MCS-Signature was the HMAC-SHA256 of the exact body with the channel's secret. */
  signed: boolean;
  timestamp: string | undefined;
}

/**
 * A plant's webhook receiver on a local port: checks the signature (401 when it is wrong),
 * records what came, and answers each path as the test says (200 unless told otherwise).
 */
export class Receiver {
  readonly deliveries: Delivery[] = [];
  private readonly answers = new Map<string, Answer>();
  private hung: ServerResponse[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(secret = HOOK_SECRET): Promise<Receiver> {
    let self: Receiver | undefined;
    const server = createServer((req, res) => void self!.handle(req, res, secret));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    self = new Receiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return self;
  }

  answer(path: string, answer: Answer): void {
    this.answers.set(path, answer);
  }

  to(path: string): Delivery[] {
    return this.deliveries.filter((delivery) => delivery.path === path);
  }

  /** Answers every request left hanging with 200. */
  release(): void {
    for (const res of this.hung.splice(0)) res.writeHead(200, { "content-type": "application/json" }).end("{}");
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse, secret: string): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const expected = `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`;
    const path = req.url ?? "";
    const signed = req.headers[SIGNATURE_HEADER.toLowerCase()] === expected;
    const timestamp = req.headers[TIMESTAMP_HEADER.toLowerCase()];
    this.deliveries.push({ path, body: JSON.parse(raw.toString("utf8")) as WebhookPayload, signed, timestamp: typeof timestamp === "string" ? timestamp : undefined });
    if (!signed) return void res.writeHead(401).end("bad signature");
    const answer = this.answers.get(path) ?? 200;
    if (answer === "hang") return void this.hung.push(res);
    if (answer === 200) return void res.writeHead(200, { "content-type": "application/json" }).end("{}");
    res.writeHead(answer, { "content-type": "text/plain" }).end(answer === 400 ? "invalid token" : "upstream down");
  }
}

/** The real webhook sender, with a shorter timeout (a hanging receiver must not stall a test for 10 s). */
export function sendersWithTimeout(timeoutMs: number): Record<ChannelRecord["type"], ChannelSender> {
  const webhook: ChannelSender = { send: (config, message, options) => CHANNEL_SENDERS.webhook.send(config, message, { ...options, timeoutMs }) };
  return { ...CHANNEL_SENDERS, webhook };
}


/**
 * One mode's platform for the dispatcher: real stores over the mode's ports, the channel
 * cache, a fake clock, a receiver; alarms are made the real way (evaluator → AlarmStore.apply,
 * routed by `channelHears` over the channel cache, as the alarm engine does).
 */
export class DispatcherHarness {
  readonly clock: FakeClock;
  readonly devices: DeviceStore;
  readonly alarms: AlarmStore;
  readonly outbox: OutboxStore;
  readonly channels: ChannelStore;
  readonly channelCache: ChannelCache;
  readonly cache: Cache;
  private readonly memory = new Map<string, DeviceAlarmMemory>();
  private readonly known = new Map<string, DeviceRecord>();
  private created: number[] = [];
  private readonly tag = randomBytes(3).toString("hex").toUpperCase();

  private constructor(
    readonly mode: Mode,
    readonly ports: Ports,
    readonly receiver: Receiver,
    startMs: number,
  ) {
    this.clock = new FakeClock(startMs);
    this.devices = new DeviceStore(ports.db);
    this.alarms = new AlarmStore(ports.db);
    this.outbox = new OutboxStore(ports.db);
    this.channels = new ChannelStore(ports.db);
    this.channelCache = new ChannelCache(this.channels, ports.bus);
    this.cache = prefixedCache(ports.cache);
  }

  static async open(mode: Mode, startMs: number): Promise<DispatcherHarness> {
    const [ports, receiver] = await Promise.all([openTestPorts(mode), Receiver.start()]);
    const harness = new DispatcherHarness(mode, ports, receiver, startMs);
    await harness.channelCache.start();
    return harness;
  }

  /** A dispatcher as the worker builds it (real senders, short timeout), with any option replaced. */
  dispatcher(patch: Partial<DispatcherOptions> = {}): NotificationDispatcher {
    return new NotificationDispatcher({
      outbox: this.outbox, alarms: this.alarms, channels: this.channelCache, cache: this.cache, clock: this.clock,
      senders: sendersWithTimeout(3_000), link: "https://mcs.example/alarms", ...patch,
    });
  }

  /** A device sn no other test (nor the other mode, sharing Redis) uses. */
  sn(name: string): string {
    return `${name}-${this.tag}`;
  }

  async device(sn: string, fields: Omit<DeviceCreate, "sn"> = {}): Promise<DeviceRecord> {
    const device = await this.devices.create({ sn, gas: "CO", unit: "ppm", high_limit: 17, high_limit_2: 34, deadband: 2, ...fields }, "x", actor);
    this.known.set(sn, device);
    return device;
  }

  /** A webhook channel to the receiver's `path`; no rules but the ones given. */
  async channel(path: string, rules: Partial<ChannelInput> = {}): Promise<ChannelRecord> {
    const channel = await this.channels.create(
      {
        type: "webhook", name: `receiver ${path}`, enabled: true, config: { url: `${this.receiver.url}${path}`, secret: HOOK_SECRET }, locale: "en",
        sns: null, types: null, min_level: 1, schedule: null, level2_always: true, repeat_every_min: 0, escalate_after_min: 0, min_interval_s: 0, ...rules,
      },
      actor, (c) => c.name, this.clock.now(),
    );
    this.created.push(channel.id);
    await this.channelCache.reload();
    return channel;
  }

  /** Deletes the channels made since the last call (their outbox rows go with them). */
  async dropChannels(): Promise<void> {
    for (const id of this.created.splice(0)) await this.channels.delete(id, actor, (c) => c.name);
    await this.channelCache.reload();
  }

  /** One reading of a device, judged and stored; answers the id of the alarm it raised, if any. */
  async reading(sn: string, value: number): Promise<number | undefined> {
    const device = this.known.get(sn);
    if (!device) throw new Error(`no device ${sn}`);
    const before = this.memory.get(sn) ?? emptyMemory();
    const judged = evaluateReading(before, alarmSettingsOf(device), { at: this.clock.now(), value, v_raw: value, err: 0, anomaly: false }, false);
    const [raised] = (await this.commit(sn, before, judged.memory, judged.events)).values();
    return raised;
  }

  /** An operator acknowledges the device's alarm of that type. */
  async ack(sn: string, type: AlarmType): Promise<void> {
    const before = this.memory.get(sn) ?? emptyMemory();
    const judged = acknowledge(before, type, this.clock.now(), "operator", "checked");
    await this.commit(sn, before, judged.memory, judged.events);
  }

  /** A HIGH alarm of the device, raised, acknowledged and closed (its condition gone). */
  async raiseAndClose(sn: string, value: number): Promise<number> {
    const id = await this.reading(sn, value);
    if (id === undefined) throw new Error(`${sn}: ${value} raised nothing`);
    await this.ack(sn, "HIGH");
    await this.reading(sn, 0);
    return id;
  }

  async close(): Promise<void> {
    await this.channelCache.stop();
    await this.receiver.close();
    await this.ports.close();
  }

  private channelsFor = (sn: string, event: Pick<AlarmEvent, "type" | "level" | "at">): number[] =>
    this.channelCache.current().filter((channel) => channelHears(channel, { sn, type: event.type, level: event.level, at: event.at }, "first")).map((channel) => channel.id);

  private async commit(sn: string, before: DeviceAlarmMemory, after: DeviceAlarmMemory, events: AlarmEvent[]): Promise<Map<AlarmType, number>> {
    if (events.length === 0) {
      this.memory.set(sn, after);
      return new Map();
    }
    const raised = await this.alarms.apply([{ sn, before: Object.values(before.alarms), events }], this.channelsFor, "system", this.clock.now());
    const ids = raised.get(sn) ?? new Map<AlarmType, number>();
    const alarms = { ...after.alarms };
    for (const [type, alarm] of Object.entries(alarms)) {
      if (alarm && alarm.id === null) alarms[type as AlarmType] = { ...alarm, id: ids.get(alarm.type) ?? null };
    }
    this.memory.set(sn, { ...after, alarms });
    return ids;
  }
}

/**
 * `target` with some methods replaced (a port that fails), prototype and all: the same as
 * `overriding` of backend/test/helper.ts, kept here so a worker test does not load the backend app.
 */
export function overriding<T extends object>(target: T, patch: Partial<T>): T {
  return Object.assign(Object.create(target) as T, patch);
}
