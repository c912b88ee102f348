import { EventEmitter } from "node:events";
import mqtt, { type MqttClient } from "mqtt";
import { AckSchema, CommandSchema, topics, type AckMessage, type CommandMessage, type DeviceStatusMessage, type Reading } from "@mcs/protocol";
import { Backlog, BACKLOG_CAPACITY } from "./backlog.ts";
import { systemClock, type SimClock, type TimerHandle } from "./clock.ts";
import { parseCalibParams, parseDebugParams } from "./command-params.ts";
import { FACTORY_CALIBRATION, FileFlash, MemoryFlash, type Flash, type LocalCalibration, type Nvs } from "./flash.ts";
import type { GasName, GasUnit } from "./gases.ts";
import { downloadFirmware, parseOtaParams } from "./ota.ts";
import { Random, hashString } from "./random.ts";
import { Signal, type SignalOptions } from "./signal.ts";

/**
 * The firmware's states (the plan's 上电 → 初始化 → 4G连接 → 正常运行 → 断网模式, and back):
 *
 *     off ──start()──▶ power_on ──▶ init ──▶ network_connect ──connected──▶ running
 *                          ▲                       │ failed                  │ lost
 *                          │ reboot                ▼                         ▼
 *                          └──────────────── (any) offline ◀──failed── reconnect
 *                                                  └──backoff / link back──▶ ┘
 *
 * - power_on: the boot counter goes up (NVS), `seq` restarts at 1, RAM is empty.
 * - init: settings and the unsent backlog are read back from flash; sensor warm-up.
 * - network_connect / reconnect: MQTT 3.1.1 over TLS, username = sn.
 * - running: status published (retained), commands subscribed, the backlog drained, live data.
 * - offline: measuring goes on into the backlog; reconnects with backoff.
 * Measuring runs from the end of init in every state: every reading goes through the backlog.
 */
export type FirmwareState = "off" | "power_on" | "init" | "network_connect" | "running" | "offline" | "reconnect";

export interface Transition {
  from: FirmwareState;
  to: FirmwareState;
  /** Clock time, ms. */
  at: number;
  reason: string;
}

export interface DetectorOptions {
  sn: string;
  password: string;
  /** `mqtts://host:8883` */
  url: string;
  /** PEM of the CA the broker's certificate chains to. */
  ca?: string | Buffer | undefined;
  /** The CA trusted for OTA downloads (default: `ca`). */
  otaCa?: string | Buffer | undefined;
  /** MQTT client id (default: the sn). The session is persistent, so queued commands reach the device when it returns. */
  clientId?: string;
  gas?: GasName;
  /** Report period, ms (default 10 000). */
  intervalMs?: number;
  /** Seed of the signal (default: derived from the sn). */
  seed?: number;
  /** The signal's other options (leak and fault rates, battery, sensor transfer). */
  signal?: Omit<SignalOptions, "seed" | "gas">;
  /** The version in a factory-new device's flash (default "1.0.0"); afterwards the flash says. */
  fw?: string;
  /** Flash: a folder (files, survives the process) or a Flash; default in memory (survives reboots of this object). */
  flash?: string | Flash;
  /** Unsent readings kept (default 1000). */
  backlogCapacity?: number;
  /** Most readings in one backlog message (default 1000, the protocol's limit). */
  batchSize?: number;
  clock?: SimClock;
  /** Sensor warm-up in init, ms (default 0). */
  warmupMs?: number;
  /** Reconnect backoff: first wait, doubling up to the maximum (defaults 1 s and 60 s), ±20 % jitter. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** MQTT keepalive, s (default 60). */
  keepaliveS?: number;
  /** Give up on an OTA download after this long, ms (default 120 000). */
  otaTimeoutMs?: number;
}

export interface DetectorStats {
  /** Readings measured since this object was made. */
  measured: number;
  /** Readings the broker acknowledged (PUBACK). */
  sent: number;
  /** `mcs/{sn}/up` messages acknowledged (a backlog array counts once). */
  messages: number;
  /** Commands received (redeliveries included). */
  commands: number;
  /** Command acknowledgements the broker acknowledged. */
  acks: number;
  /** Successful MQTT connections. */
  connects: number;
}

export interface LogEntry {
  level: "info" | "warn";
  msg: string;
}

export interface DetectorEvents {
  state: [Transition];
  reading: [Reading];
  /** One `up` message acknowledged by the broker. */
  published: [{ readings: Reading[]; array: boolean }];
  /** The backlog was full: `count` oldest readings dropped, `total` since the flash was new. */
  dropped: [{ count: number; total: number }];
  status: [DeviceStatusMessage];
  command: [CommandMessage];
  /** An acknowledgement the broker acknowledged. */
  ack: [AckMessage];
  log: [LogEntry];
}

/** The value on the device's own display: its local calibration applied to the last reading. */
export interface LocalDisplay {
  value: number;
  unit: GasUnit;
}

interface Connection {
  client: MqttClient;
  generation: number;
  up: boolean;
  lastError: string | undefined;
  /** Publishes waiting for their PUBACK; answered `false` if the connection goes. */
  waiting: Set<(ok: boolean) => void>;
}

const RECENT_COMMANDS = 20;
const TRANSITIONS_KEPT = 200;

/**
 * One emulated gas detector: the firmware state machine, its sensors ({@link Signal}),
 * its flash (backlog and settings) and its MQTT link. See {@link FirmwareState}.
 */
export class Detector extends EventEmitter<DetectorEvents> {
  readonly sn: string;
  readonly signal: Signal;
  readonly clock: SimClock;
  readonly flash: Flash;
  readonly stats: DetectorStats = { measured: 0, sent: 0, messages: 0, commands: 0, acks: 0, connects: 0 };
  /** The last state changes, oldest first. */
  readonly transitions: Transition[] = [];

  private readonly options: DetectorOptions;
  private readonly network: Random;
  private currentState: FirmwareState = "off";
  private generation = 0;
  private nvs: Nvs | undefined;
  private ring: Backlog | undefined;
  private seqCounter = 0;
  private linkUp = true;
  private conn: Connection | undefined;
  private reportTimer: TimerHandle | undefined;
  private nextReportAt = 0;
  private reconnectTimer: TimerHandle | undefined;
  private reconnectAttempts = 0;
  private warmupTimer: TimerHandle | undefined;
  private debug: { intervalMs: number; until: number; timer: TimerHandle } | undefined;
  private drainer: Promise<void> | undefined;
  private acksInFlight = new Set<string>();
  private answers = new Map<string, AckMessage>();
  private ota: AbortController | undefined;
  private last: Reading | undefined;
  private lastMeasuredAt = 0;

  constructor(options: DetectorOptions) {
    super();
    this.options = options;
    this.sn = options.sn;
    this.clock = options.clock ?? systemClock;
    this.flash = typeof options.flash === "string" ? new FileFlash(options.flash) : (options.flash ?? new MemoryFlash());
    const seed = options.seed ?? hashString(options.sn);
    this.signal = new Signal({ ...options.signal, seed, ...(options.gas ? { gas: options.gas } : {}) });
    this.network = new Random(seed).fork("network");
  }

  get state(): FirmwareState {
    return this.currentState;
  }

  /** Connected and reporting live. */
  get connected(): boolean {
    return this.currentState === "running";
  }

  get boot(): number {
    return this.nvs?.boot ?? 0;
  }

  get fw(): string {
    return this.nvs?.fw ?? this.options.fw ?? "1.0.0";
  }

  /** The last `seq` used in this boot (0 before the first reading). */
  get seq(): number {
    return this.seqCounter;
  }

  /** The report period now in force (the debug period while debug mode lasts). */
  get intervalMs(): number {
    return this.debug?.intervalMs ?? this.options.intervalMs ?? 10_000;
  }

  /** Until when debug mode lasts (clock ms), if it is on. */
  get debugUntil(): number | undefined {
    return this.debug?.until;
  }

  get calibration(): LocalCalibration {
    return { ...(this.nvs?.calib ?? FACTORY_CALIBRATION) };
  }

  get display(): LocalDisplay | undefined {
    const r = this.last;
    if (!r) return undefined;
    const c = this.calibration;
    const value = c.k * r.v_raw + c.b + c.t_comp * ((r.temp ?? c.t_ref) - c.t_ref);
    return { value: Math.round(value * 1000) / 1000, unit: this.signal.profile.unit };
  }

  /** Unsent readings (in flash), including a batch waiting for its PUBACK. */
  get backlog(): number {
    return this.ring?.size ?? 0;
  }

  /** Readings dropped because the backlog was full, since the flash was new. */
  get dropped(): number {
    return this.ring?.dropped ?? this.flash.readBacklog(this.backlogCapacity).dropped;
  }

  get lastReading(): Reading | undefined {
    return this.last;
  }

  /** Whether the emulated modem has coverage (see {@link cutLink}). */
  get link(): boolean {
    return this.linkUp;
  }

  /** Powers the device on; resolves when its first connection attempt has ended (running or offline). */
  async start(): Promise<void> {
    if (this.currentState !== "off") throw new Error(`${this.sn} is already on (${this.currentState})`);
    this.powerOn("power switched on");
    await this.until("running", "offline", "off");
  }

  /**
   * Powers the device off, as a power cut: the connection drops without DISCONNECT, so the
   * broker publishes the will. Flash (backlog, boot counter, settings) stays.
   */
  async stop(): Promise<void> {
    if (this.currentState === "off") return;
    this.shutDown();
    this.transition("off", "power switched off");
  }

  /** Restarts the firmware: a new boot (counter +1, `seq` from 1), RAM lost, flash kept. */
  async reboot(reason = "reboot"): Promise<void> {
    if (this.currentState === "off") throw new Error(`${this.sn} is off`);
    this.shutDown();
    this.powerOn(`reboot: ${reason}`);
    await this.until("running", "offline", "off");
  }

  /** The modem loses coverage: the connection drops at once and reconnecting fails until {@link restoreLink}. */
  cutLink(): void {
    this.linkUp = false;
    this.ota?.abort(); // a download in progress breaks off too
    if (this.conn) this.dropConnection(this.conn, "network lost", "destroy");
  }

  /** Coverage is back: an offline device tries to reconnect at once. */
  restoreLink(): void {
    this.linkUp = true;
    this.retryNow("network back");
  }

  /**
   * Skips the rest of the backoff wait: an offline device tries to connect at once (what
   * the firmware does when the modem reports the network usable again).
   */
  retryNow(reason = "retry now"): void {
    if (this.currentState !== "offline") return;
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.connect("reconnect", reason);
  }

  /** Resolves when the device is in one of `states` (at once if it is). */
  until(...states: FirmwareState[]): Promise<void> {
    if (states.includes(this.currentState)) return Promise.resolve();
    return new Promise((resolve) => {
      const listener = (t: Transition) => {
        if (!states.includes(t.to)) return;
        this.off("state", listener);
        resolve();
      };
      this.on("state", listener);
    });
  }

  private get backlogCapacity(): number {
    return this.options.backlogCapacity ?? BACKLOG_CAPACITY;
  }

  // --- Boot -------------------------------------------------------------------------------

  private powerOn(reason: string): void {
    this.generation++;
    this.transition("power_on", reason);
    const factory: Nvs = { boot: 0, fw: this.options.fw ?? "1.0.0", calib: { ...FACTORY_CALIBRATION }, pendingAcks: [], recentCommands: [] };
    const nvs: Nvs = { ...factory, ...this.flash.readNvs() };
    nvs.boot++;
    if (nvs.otaInProgress) {
      nvs.pendingAcks.push({ id: nvs.otaInProgress.id, ok: false, msg: `update to ${nvs.otaInProgress.version} interrupted by a reboot; still running ${nvs.fw}` });
      nvs.otaInProgress = undefined;
    }
    this.nvs = nvs;
    this.flash.writeNvs(nvs);
    this.seqCounter = 0;
    this.debug = undefined;
    this.answers.clear();
    this.acksInFlight.clear();
    this.drainer = undefined;
    this.ring = new Backlog(this.flash, this.backlogCapacity);
    this.transition("init", `boot ${nvs.boot}, fw ${nvs.fw}, ${this.ring.size} unsent readings in flash`);
    const generation = this.generation;
    const afterWarmup = () => {
      if (generation !== this.generation) return;
      this.warmupTimer = undefined;
      this.startMeasuring();
      this.connect("network_connect", "init done");
    };
    const warmup = this.options.warmupMs ?? 0;
    if (warmup > 0) this.warmupTimer = this.clock.setTimeout(afterWarmup, warmup);
    else afterWarmup();
  }

  /** Stops everything RAM-based: timers, the connection, a download. */
  private shutDown(): void {
    this.generation++;
    for (const timer of [this.reportTimer, this.reconnectTimer, this.warmupTimer, this.debug?.timer]) this.clock.clearTimeout(timer);
    this.reportTimer = this.reconnectTimer = this.warmupTimer = undefined;
    this.debug = undefined;
    this.ota?.abort();
    this.ota = undefined;
    if (this.conn) this.dropConnection(this.conn, "shut down", "end");
  }

  private transition(to: FirmwareState, reason: string): void {
    const t: Transition = { from: this.currentState, to, at: this.clock.now(), reason };
    this.currentState = to;
    this.transitions.push(t);
    if (this.transitions.length > TRANSITIONS_KEPT) this.transitions.shift();
    this.emit("state", t);
  }

  private log(level: LogEntry["level"], msg: string): void {
    this.emit("log", { level, msg });
  }

  // --- Measuring --------------------------------------------------------------------------

  private startMeasuring(): void {
    this.nextReportAt = this.clock.now();
    this.measure();
  }

  private measure(): void {
    const generation = this.generation;
    const now = this.clock.now();
    const ts = Math.floor(now / 1000);
    const sample = this.signal.sample(ts);
    const reading: Reading = { ts, seq: ++this.seqCounter, v_raw: sample.v_raw, temp: sample.temp, humi: sample.humi, bat: sample.bat, rssi: sample.rssi, err: sample.err };
    this.last = reading;
    this.lastMeasuredAt = now;
    this.stats.measured++;
    this.emit("reading", reading);
    const dropped = this.ring!.push(reading);
    if (dropped > 0) {
      this.emit("dropped", { count: dropped, total: this.ring!.dropped });
      if (this.ring!.dropped % 100 === 1) this.log("warn", `backlog full (${this.ring!.capacity}): oldest reading dropped, ${this.ring!.dropped} so far`);
    }
    this.kickDrain();
    if (generation !== this.generation) return;
    this.scheduleReport();
  }

  private scheduleReport(): void {
    this.clock.clearTimeout(this.reportTimer);
    this.nextReportAt += this.intervalMs;
    this.reportTimer = this.clock.setTimeout(() => {
      this.reportTimer = undefined;
      this.measure();
    }, this.nextReportAt - this.clock.now());
  }

  /**
   * The report period changed: the next report is one new period after `from` (now when
   * debug mode starts; the last report when it ends, so the normal rhythm resumes).
   */
  private rescheduleReport(from: number): void {
    if (this.reportTimer === undefined) return;
    this.nextReportAt = Math.max(from, this.clock.now() - this.intervalMs);
    this.scheduleReport();
  }

  // --- Network ----------------------------------------------------------------------------

  private connect(state: "network_connect" | "reconnect", reason: string): void {
    this.transition(state, reason);
    if (!this.linkUp) return this.connectFailed("no network coverage");
    let client: MqttClient;
    try {
      client = this.openClient();
    } catch (error) {
      return this.connectFailed(`connect failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const conn: Connection = { client, generation: this.generation, up: false, lastError: undefined, waiting: new Set() };
    this.conn = conn;
    client.on("connect", () => this.onConnected(conn));
    client.on("message", (topic, payload) => this.onMessage(conn, topic, payload));
    client.on("error", (error) => (conn.lastError = error.message));
    client.on("close", () => {
      if (this.conn === conn) this.dropConnection(conn, conn.up ? `connection lost${conn.lastError ? `: ${conn.lastError}` : ""}` : `connect failed: ${conn.lastError ?? "connection closed"}`, "none");
    });
  }

  /** MQTT 3.1.1 over TLS as the sn, persistent session, the will set; no automatic reconnect (the state machine does that). */
  private openClient(): MqttClient {
    const { sn, password, url, ca } = this.options;
    return mqtt.connect(url, {
      username: sn,
      password,
      clientId: this.options.clientId ?? sn,
      protocolVersion: 4,
      clean: false,
      ca,
      rejectUnauthorized: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: this.options.keepaliveS ?? 60,
      will: { topic: topics.status(sn), payload: Buffer.from(JSON.stringify({ online: false })), qos: 1, retain: true },
    });
  }

  private onConnected(conn: Connection): void {
    if (this.conn !== conn) return;
    conn.up = true;
    this.reconnectAttempts = 0;
    this.stats.connects++;
    this.transition("running", `connected; ${this.backlog} unsent readings`);
    const status: DeviceStatusMessage = { online: true, fw: this.fw, boot: this.boot };
    void this.publish(conn, topics.status(this.sn), JSON.stringify(status), { qos: 1, retain: true }).then((ok) => ok && this.emit("status", status));
    conn.client.subscribe(topics.cmd(this.sn), { qos: 1 }, (error) => {
      if (error && this.conn === conn) this.log("warn", `subscribe to commands failed: ${error.message}`);
    });
    this.flushAcks();
    this.kickDrain();
  }

  /**
   * Ends a connection: `destroy` drops the socket at once (coverage lost), `end` lets what
   * is written leave first but sends no DISCONNECT (a reboot: the will is published).
   */
  private dropConnection(conn: Connection, reason: string, socket: "destroy" | "end" | "none"): void {
    if (this.conn === conn) this.conn = undefined;
    const wasUp = conn.up;
    conn.up = false;
    for (const answer of conn.waiting) answer(false);
    conn.waiting.clear();
    this.acksInFlight.clear();
    conn.client.removeAllListeners("connect");
    conn.client.removeAllListeners("message");
    conn.client.on("error", () => {});
    if (socket === "destroy") conn.client.stream?.destroy();
    else if (socket === "end") conn.client.stream?.end();
    conn.client.end(true);
    if (conn.generation !== this.generation) return; // shut down: the caller moves on
    if (wasUp) this.log("warn", reason);
    this.connectFailed(reason);
  }

  private connectFailed(reason: string): void {
    this.transition("offline", reason);
    const min = this.options.reconnectMinMs ?? 1_000;
    const max = this.options.reconnectMaxMs ?? 60_000;
    const base = Math.min(max, min * 2 ** Math.min(this.reconnectAttempts, 30));
    this.reconnectAttempts++;
    const delay = Math.round(base * this.network.uniform(0.8, 1.2));
    const generation = this.generation;
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (generation === this.generation && this.currentState === "offline") this.connect("reconnect", `retry after ${delay} ms`);
    }, delay);
  }

  /** QoS 1 publish; `true` once the broker has PUBACKed it, `false` if the connection went first. */
  private publish(conn: Connection, topic: string, payload: string, options: { qos: 1; retain?: boolean }): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.conn !== conn || !conn.up) return resolve(false);
      let done = false;
      const answer = (ok: boolean) => {
        if (done) return;
        done = true;
        conn.waiting.delete(answer);
        resolve(ok);
      };
      conn.waiting.add(answer);
      conn.client.publish(topic, payload, options, (error) => answer(!error && this.conn === conn));
    });
  }

  // --- Backlog ----------------------------------------------------------------------------

  private kickDrain(): void {
    if (this.drainer || !this.conn?.up) return;
    const drainer = this.drain().finally(() => {
      if (this.drainer === drainer) this.drainer = undefined;
    });
    this.drainer = drainer;
  }

  /**
   * Sends what the backlog holds, oldest first, in messages of up to `batchSize` readings
   * (a JSON array; a lone reading as an object), each only after the previous one's PUBACK.
   */
  private async drain(): Promise<void> {
    const batchSize = this.options.batchSize ?? 1000;
    for (;;) {
      const conn = this.conn;
      const ring = this.ring;
      if (!conn?.up || !ring || conn.generation !== this.generation) return;
      const batch = ring.peek(batchSize);
      if (batch.length === 0) return;
      const readings = batch.map((entry) => entry.reading);
      const array = readings.length > 1;
      const ok = await this.publish(conn, topics.up(this.sn), JSON.stringify(array ? readings : readings[0]), { qos: 1 });
      if (!ok || conn.generation !== this.generation || this.ring !== ring) return;
      ring.ackThrough(batch[batch.length - 1]!.index);
      this.stats.sent += readings.length;
      this.stats.messages++;
      this.emit("published", { readings, array });
    }
  }

  // --- Commands ---------------------------------------------------------------------------

  private onMessage(conn: Connection, topic: string, payload: Buffer): void {
    if (this.conn !== conn || topic !== topics.cmd(this.sn)) return;
    this.stats.commands++;
    let json: unknown;
    try {
      json = JSON.parse(payload.toString("utf8"));
    } catch {
      this.log("warn", "command is not JSON; ignored");
      return;
    }
    const parsed = CommandSchema.safeParse(json);
    if (!parsed.success) {
      const id = (json as { id?: unknown } | null)?.id;
      const reason = `invalid command: ${parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ")}`;
      if (AckSchema.shape.id.safeParse(id).success) this.answer({ id: id as string, ok: false, msg: reason.slice(0, 512) });
      else this.log("warn", `${reason}; no id to answer`);
      return;
    }
    const command = parsed.data;
    this.emit("command", command);
    if (this.nvs!.recentCommands.includes(command.id)) {
      const earlier = this.answers.get(command.id);
      this.log("info", `command ${command.id} delivered again; ${earlier ? "answered again" : "already handled"}`);
      if (earlier) this.answer(earlier);
      return;
    }
    this.nvs!.recentCommands = [...this.nvs!.recentCommands, command.id].slice(-RECENT_COMMANDS);
    this.flash.writeNvs(this.nvs!);
    // After the PUBACK of the command has been written (MQTT.js writes it when this handler returns).
    const generation = this.generation;
    setImmediate(() => {
      if (generation === this.generation) void this.execute(command);
    });
  }

  private async execute(command: CommandMessage): Promise<void> {
    const { id, cmd, params } = command;
    const reply = (ok: boolean, msg: string) => this.answer({ id, ok, msg: msg.slice(0, 512) });
    switch (cmd) {
      case "set_debug": {
        const debug = parseDebugParams(params);
        if (typeof debug === "string") return reply(false, debug);
        this.clock.clearTimeout(this.debug?.timer);
        if (!debug.enabled) {
          this.debug = undefined;
          this.rescheduleReport(this.lastMeasuredAt);
          return reply(true, `debug mode off; reporting every ${this.intervalMs / 1000} s`);
        }
        const generation = this.generation;
        const timer = this.clock.setTimeout(() => {
          if (generation !== this.generation) return;
          this.debug = undefined;
          this.rescheduleReport(this.lastMeasuredAt);
          this.log("info", `debug mode over; reporting every ${this.intervalMs / 1000} s`);
        }, debug.durationMs);
        this.debug = { intervalMs: debug.intervalMs, until: this.clock.now() + debug.durationMs, timer };
        this.rescheduleReport(this.clock.now());
        return reply(true, `reporting every ${debug.intervalMs / 1000} s for ${debug.durationMs / 60_000} min`);
      }
      case "set_calib": {
        const calib = parseCalibParams(params, this.calibration);
        if (typeof calib === "string") return reply(false, calib);
        this.nvs!.calib = calib;
        this.flash.writeNvs(this.nvs!);
        return reply(true, `calibration k=${calib.k} b=${calib.b} t_comp=${calib.t_comp} t_ref=${calib.t_ref}`);
      }
      case "reboot": {
        // Answered once the new boot is connected: the ack waits in NVS across the reboot.
        this.nvs!.pendingAcks.push({ id, ok: true, msg: `rebooted (boot ${this.boot + 1})` });
        this.flash.writeNvs(this.nvs!);
        await this.reboot("command");
        return;
      }
      case "ota":
        return this.runOta(id, params);
    }
  }

  private async runOta(id: string, raw: Record<string, unknown>): Promise<void> {
    const params = parseOtaParams(raw);
    if (typeof params === "string") return this.answer({ id, ok: false, msg: params });
    if (this.ota) return this.answer({ id, ok: false, msg: "an update is already in progress" });
    if (params.version === this.fw) return this.answer({ id, ok: true, msg: `already running ${params.version}` });
    const generation = this.generation;
    const nvs = this.nvs!;
    nvs.otaInProgress = { id, version: params.version };
    this.flash.writeNvs(nvs);
    const abort = new AbortController();
    this.ota = abort;
    this.log("info", `downloading firmware ${params.version} (${params.size} bytes)`);
    const result = await downloadFirmware(params, { ca: this.options.otaCa ?? this.options.ca, timeoutMs: this.options.otaTimeoutMs ?? 120_000, signal: abort.signal });
    if (generation !== this.generation) return; // rebooted or powered off meanwhile: the next boot reports it
    this.ota = undefined;
    nvs.otaInProgress = undefined;
    if (!result.ok) {
      this.flash.writeNvs(nvs);
      this.log("warn", `update to ${params.version} refused: ${result.reason}`);
      return this.answer({ id, ok: false, msg: `${result.reason}; still running ${nvs.fw}` });
    }
    const previous = nvs.fw;
    nvs.fw = params.version;
    nvs.pendingAcks.push({ id, ok: true, msg: `updated from ${previous} to ${params.version}` });
    this.flash.writeNvs(nvs);
    await this.reboot(`update to ${params.version}`);
  }

  /** Queues an acknowledgement in NVS and sends it when connected; it stays until PUBACKed. */
  private answer(ack: AckMessage): void {
    this.answers.set(ack.id, ack);
    if (this.answers.size > RECENT_COMMANDS) this.answers.delete(this.answers.keys().next().value!);
    const nvs = this.nvs!;
    if (!nvs.pendingAcks.some((a) => a.id === ack.id)) nvs.pendingAcks.push(ack);
    this.flash.writeNvs(nvs);
    this.log(ack.ok ? "info" : "warn", `command ${ack.id}: ${ack.ok ? "ok" : "refused"}${ack.msg ? `, ${ack.msg}` : ""}`);
    this.flushAcks();
  }

  private flushAcks(): void {
    const conn = this.conn;
    if (!conn?.up) return;
    for (const ack of this.nvs!.pendingAcks) {
      if (this.acksInFlight.has(ack.id)) continue;
      this.acksInFlight.add(ack.id);
      void this.publish(conn, topics.ack(this.sn), JSON.stringify(ack), { qos: 1 }).then((ok) => {
        this.acksInFlight.delete(ack.id);
        if (!ok) return;
        const nvs = this.nvs!;
        nvs.pendingAcks = nvs.pendingAcks.filter((a) => a.id !== ack.id);
        this.flash.writeNvs(nvs);
        this.stats.acks++;
        this.emit("ack", ack);
      });
    }
  }
}
