import { calibrate, valueIsMeaningless } from "@mcs/core";
import { cacheKeys, READING_FLAGS, type LatestReading } from "@mcs/protocol";
import { alarmSettingsOf, createLogger, type Bus, type Cache, type Clock, type Db, type DeadLetter, type TelemetryRow, type TelemetryStore } from "@mcs/platform";
import type { CalibrationCache } from "../calibration-cache.ts";
import type { InboundMessage } from "../ingest/message-source.ts";
import type { PresenceSignal } from "../presence/presence-tracker.ts";
import type { ControlMessages } from "./control-messages.ts";
import { deadLetter, parseMessage, type ParsedMessage } from "./parse-message.ts";

const log = createLogger("worker.processor");

export interface ProcessorOptions {
  db: Db;
  telemetry: TelemetryStore;
  calibrations: CalibrationCache;
  cache: Cache;
  bus: Bus;
  clock: Clock;
  /** Applies status and ack messages in the database (without it, they are only acknowledged). */
  control?: ControlMessages;
  /** Judges the committed readings for alarms before they are acknowledged. */
  alarms?: {
    readings(rows: readonly TelemetryRow[]): Promise<void>;
    /** `alarm` while a gas alarm's condition holds, `fault` while a fault's does, else null. */
    statusOf(sn: string): "alarm" | "fault" | null;
    /** A message of a known device was refused (dead-lettered), with why. */
    refused?(sn: string, at: number, reason: string, count: number): Promise<void>;
  };
  /** Hears, after each commit, which devices the batch heard from or lost (presence). */
  presence?: { observe(signals: readonly PresenceSignal[]): Promise<void> };
  /** A batch is committed when it holds this many messages… */
  maxBatchMessages?: number;
  /** …or this many readings… */
  maxBatchReadings?: number;
  /** …or this long after its first message arrived. */
  lingerMs?: number;
}

export interface ProcessorStats {
  received: number;
  stored: number;
  duplicates: number;
  deadLetters: number;
  batches: number;
  /** Consecutive failed commits (the database is down while this grows). */
  failedCommits: number;
}

/** One message, calibrated: its rows to store and its dead letters. */
interface Prepared {
  rows: TelemetryRow[];
  dead: DeadLetter[];
}

interface Batch {
  messages: InboundMessage[];
  /** Server receive time of each message (Unix ms): "last seen" is when we heard it, not the device's ts. */
  receivedAt: number[];
  readings: number;
}

/**
 * The ingest pipeline: validate → dedupe → calibrate → batch write → acknowledge →
 * latest state → realtime. A batch's messages are acknowledged only after its commit, and
 * in arrival order; one batch commits at a time while the next one fills. If the database
 * is down, the batch waits and retries; the broker keeps what is not yet acknowledged.
 */
export class Processor {
  readonly stats: ProcessorStats = { received: 0, stored: 0, duplicates: 0, deadLetters: 0, batches: 0, failedCommits: 0 };
  private current: Batch = { messages: [], receivedAt: [], readings: 0 };
  /** Each device's newest trustworthy value, shown while its readings' values mean nothing (a sensor fault). */
  private readonly trusted = new Map<string, { ppm: number; ts: number }>();
  private timer: NodeJS.Timeout | undefined;
  private committing: Promise<void> | undefined;
  private stopping = false;
  /** Set while the license is locked: nothing is stored or acknowledged (docs/license.md). */
  private hold: { released: Promise<boolean>; release(store: boolean): void; tap: (message: InboundMessage) => void } | undefined;
  private readonly maxMessages: number;
  private readonly maxReadings: number;
  private readonly lingerMs: number;

  constructor(private readonly options: ProcessorOptions) {
    this.maxMessages = options.maxBatchMessages ?? 5_000;
    this.maxReadings = options.maxBatchReadings ?? 10_000;
    this.lingerMs = options.lingerMs ?? 20;
  }

  /**
   * Holds the stream: messages are taken but neither stored nor acknowledged, so the
   * broker keeps them (and what it has not sent yet) until `release()`; `tap` sees each
   * one as it arrives (the gas alarms are judged from it meanwhile).
   */
  holdStream(tap: (message: InboundMessage) => void): void {
    if (this.hold) return;
    let release!: (store: boolean) => void;
    const released = new Promise<boolean>((resolve) => (release = resolve));
    this.hold = { released, release, tap };
    log.warn({ taken: this.current.messages.length }, "holding the stream: nothing is stored or acknowledged until released");
  }

  /** Takes the held stream again: what waited is stored and acknowledged, in arrival order. */
  releaseStream(): void {
    const hold = this.hold;
    if (!hold) return;
    this.hold = undefined;
    hold.release(true);
    log.warn({ waiting: this.current.messages.length }, "stream released: storing what was held");
    this.kick();
  }

  get holding(): boolean {
    return this.hold !== undefined;
  }

  /** Takes one message; it will be acknowledged once stored (or dead-lettered). */
  accept(message: InboundMessage): void {
    this.stats.received++;
    this.hold?.tap(message);
    this.current.messages.push(message);
    this.current.receivedAt.push(this.options.clock.now());
    // Guess the size cheaply: a backlog array counts by its bytes (~130 per reading).
    this.current.readings += message.payload[0] === 0x5b ? Math.ceil(message.payload.length / 130) : 1;
    if (this.current.messages.length >= this.maxMessages || this.current.readings >= this.maxReadings) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.lingerMs);
  }

  /**
   * Commits everything taken so far (used when stopping). A held stream is not committed:
   * its messages are let go unacknowledged, and the broker sends them again.
   */
  async drain(): Promise<void> {
    if (this.hold) {
      this.hold.release(false);
      this.current = { messages: [], receivedAt: [], readings: 0 };
      await this.committing;
      return;
    }
    while (this.committing || this.current.messages.length > 0) {
      if (!this.committing) this.kick();
      await this.committing;
    }
  }

  async stop(): Promise<void> {
    await this.drain();
    this.stopping = true;
    clearTimeout(this.timer);
  }

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.committing || this.current.messages.length === 0) return;
    if (this.hold) {
      // Wait, holding what was taken: one wait at a time, the batch keeps growing meanwhile.
      const hold = this.hold;
      this.committing = hold.released.then(() => undefined).finally(() => {
        this.committing = undefined;
        if (!this.hold && this.current.messages.length > 0) this.kick();
      });
      return;
    }
    const batch = this.takeBatch();
    this.committing = this.commit(batch).catch((error) => {
      // Not stored and not acknowledged: put it back in front and try again shortly.
      log.error({ err: error }, "batch failed; it will be retried");
      this.current = {
        messages: [...batch.messages, ...this.current.messages],
        receivedAt: [...batch.receivedAt, ...this.current.receivedAt],
        readings: batch.readings + this.current.readings,
      };
      return new Promise<void>((resolve) => setTimeout(resolve, 1_000));
    }).finally(() => {
      this.committing = undefined;
      // What arrived during the commit is the next batch: commit it now if it is full or old enough.
      if (this.current.messages.length >= this.maxMessages || this.current.readings >= this.maxReadings) this.kick();
      else if (this.current.messages.length > 0) this.timer ??= setTimeout(() => this.kick(), this.lingerMs);
    });
  }

  /** What is waiting, up to a batch's size (a released stream is stored a batch at a time). */
  private takeBatch(): Batch {
    const waiting = this.current;
    if (waiting.messages.length <= this.maxMessages) {
      this.current = { messages: [], receivedAt: [], readings: 0 };
      return waiting;
    }
    const messages = waiting.messages.splice(0, this.maxMessages);
    const receivedAt = waiting.receivedAt.splice(0, this.maxMessages);
    const readings = Math.round((waiting.readings * messages.length) / (messages.length + waiting.messages.length));
    waiting.readings -= readings;
    return { messages, receivedAt, readings };
  }

  private async commit(batch: Batch): Promise<void> {
    const now = this.options.clock.now();
    const parsed = batch.messages.map((m) => parseMessage(m.topic, m.payload, now));
    await this.options.calibrations.resolve(parsed.flatMap((p) => (p.kind === "dead" ? [] : [p.sn])));
    const prepared = parsed.map((p, i) => this.prepare(p, batch.messages[i]!));
    await this.applyControl(parsed, prepared, batch.messages);
    const rows = prepared.flatMap((p) => p.rows);
    const dead = prepared.flatMap((p) => p.dead);

    const { stored, refused } = await this.store(rows, dead, prepared, batch.messages);
    await this.judgeAlarms(rows, dead, now);
    for (const message of batch.messages) message.ack();
    this.stats.batches++;
    this.stats.stored += stored;
    this.stats.duplicates += rows.length - stored - refused;
    this.stats.deadLetters += dead.length;
    if (dead.length > 0) log.warn({ count: dead.length, first: dead[0]?.reason }, "dead-lettered readings");
    await this.publishLatest(rows);
    await this.options.presence?.observe(presenceSignals(parsed, prepared, batch.receivedAt));
  }

  /**
   * The calibrated readings of messages, neither stored nor acknowledged: what the gas
   * alarms are judged from while the stream is held.
   */
  async readingsOf(messages: readonly Pick<InboundMessage, "topic" | "payload">[]): Promise<TelemetryRow[]> {
    const now = this.options.clock.now();
    const parsed = messages.map((m) => parseMessage(m.topic, m.payload, now));
    await this.options.calibrations.resolve(parsed.flatMap((p) => (p.kind === "up" ? [p.sn] : [])));
    return parsed.flatMap((p, i) => (p.kind === "up" ? this.prepare(p, messages[i] as InboundMessage).rows : []));
  }

  /** Shows readings live (cache, bus: the pages, the big screen) without storing them: the held stream's. */
  showLive(rows: readonly TelemetryRow[]): Promise<void> {
    return this.publishLatest(rows as TelemetryRow[]);
  }

  /** Calibrates a message's readings; unknown or disabled devices go to dead letters. */
  private prepare(parsed: ParsedMessage, message: InboundMessage): Prepared {
    if (parsed.kind === "dead") return { rows: [], dead: parsed.dead };
    const device = this.options.calibrations.get(parsed.sn);
    if (parsed.kind !== "up") {
      // Status and acks of a known device are applied by applyControl (a disabled one may still answer).
      return device ? { rows: [], dead: [] } : { rows: [], dead: [deadLetter(message.topic, parsed.sn, "unknown device", message.payload)] };
    }
    if (!device || !device.enabled) {
      const reason = device ? "device is disabled" : "unknown device";
      return { rows: [], dead: [...parsed.dead, deadLetter(message.topic, parsed.sn, reason, message.payload)] };
    }
    const rows = parsed.readings.map((r): TelemetryRow => {
      const { ppm, mask } = calibrate(device, r.v_raw, r.temp);
      return {
        sn: parsed.sn, ts: r.ts, seq: r.seq, ppm, v_raw: r.v_raw, temp: r.temp, humi: r.humi, bat: r.bat, rssi: r.rssi,
        err: r.err, flags: r.deviceTs === undefined ? mask : mask | READING_FLAGS.clock, calib_version: device.calib_version,
        ...(r.deviceTs !== undefined && { device_ts: r.deviceTs }),
      };
    });
    return { rows, dead: parsed.dead };
  }

  /**
   * Applies the batch's status and ack messages (firmware, command outcomes) before the
   * readings are committed; a refusal becomes the message's dead letter, stored with the
   * batch. With the database down this throws and the whole batch is retried (all of it is
   * idempotent); a message the database refuses is dead-lettered, never retried forever.
   */
  private async applyControl(parsed: ParsedMessage[], prepared: Prepared[], messages: InboundMessage[]): Promise<void> {
    const control = this.options.control;
    if (!control) return;
    for (const [i, p] of parsed.entries()) {
      if ((p.kind !== "status" && p.kind !== "ack") || prepared[i]!.dead.length > 0) continue;
      const message = messages[i]!;
      try {
        prepared[i]!.dead = p.kind === "status" ? await control.status(p.sn, p.status) : await control.ack(p.sn, message.topic, p.ack, message.payload);
      } catch (error) {
        if (!(await this.databaseAnswers())) throw error;
        const reason = `database refused: ${error instanceof Error ? error.message : String(error)}`;
        prepared[i]!.dead = [deadLetter(message.topic, p.sn, reason, message.payload)];
      }
    }
  }

  /**
   * Commits, retrying while the database is away. If the database is up but refuses the
   * batch, each message is stored on its own so one bad message cannot block the rest:
   * the one the database refuses becomes a dead letter with the database's reason.
   */
  private async store(rows: TelemetryRow[], dead: DeadLetter[], prepared: Prepared[], messages: InboundMessage[]): Promise<{ stored: number; refused: number }> {
    for (let attempt = 0; ; attempt++) {
      try {
        const stored = await this.options.telemetry.insertBatch(rows, dead);
        this.stats.failedCommits = 0;
        return { stored, refused: 0 };
      } catch (error) {
        this.stats.failedCommits++;
        if (await this.databaseAnswers()) return this.storeOneByOne(prepared, messages, error);
        if (this.stopping && attempt > 3) throw error;
        const wait = Math.min(100 * 2 ** attempt, 5_000);
        log.error({ err: error, attempt, wait, readings: rows.length }, "commit failed; the database seems down, retrying");
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  private async storeOneByOne(prepared: Prepared[], messages: InboundMessage[], cause: unknown): Promise<{ stored: number; refused: number }> {
    log.error({ err: cause }, "the database refused a batch; storing its messages one by one");
    let stored = 0;
    let refused = 0;
    for (const [i, { rows, dead }] of prepared.entries()) {
      try {
        stored += await this.options.telemetry.insertBatch(rows, dead);
      } catch (error) {
        const message = messages[i]!;
        const reason = `database refused: ${error instanceof Error ? error.message : String(error)}`;
        await this.options.telemetry.insertBatch([], [...dead, deadLetter(message.topic, rows[0]?.sn ?? null, reason, message.payload)]);
        this.stats.deadLetters++;
        refused += rows.length;
      }
    }
    return { stored, refused };
  }

  /**
   * Alarms are judged before the acknowledgement: with the database down the batch is
   * retried, and the broker keeps the readings until their alarms are written. A failure
   * of the alarm code itself is logged and ingest goes on: it must never stop storing.
   */
  private async judgeAlarms(rows: TelemetryRow[], dead: DeadLetter[], nowMs: number): Promise<void> {
    if (!this.options.alarms) return;
    try {
      if (rows.length > 0) await this.options.alarms.readings(rows);
      // A known device whose messages are refused is not silent: it is unreadable (a FAULT after 3 report intervals).
      const refusals = new Map<string, { count: number; reason: string }>();
      for (const letter of dead) {
        // A disabled device's messages are refused by the engineer's choice, not a fault of the device.
        if (letter.sn === null || !this.options.calibrations.get(letter.sn)?.enabled) continue;
        refusals.set(letter.sn, { count: (refusals.get(letter.sn)?.count ?? 0) + 1, reason: letter.reason });
      }
      for (const [sn, { count, reason }] of refusals) await this.options.alarms.refused?.(sn, nowMs, reason, count);
    } catch (error) {
      if (!(await this.databaseAnswers())) throw error;
      log.error({ err: error, readings: rows.length }, "alarm evaluation failed; the readings are stored");
    }
  }

  private async databaseAnswers(): Promise<boolean> {
    try {
      await this.options.db.query("SELECT 1");
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The newest reading of each device goes to the cache and the bus; both are best effort. A
   * reading whose value means nothing (sensor fault) shows the device's fault with its last
   * trustworthy value, not the meaningless one.
   */
  private async publishLatest(rows: TelemetryRow[]): Promise<void> {
    if (rows.length === 0) return;
    const latest = new Map<string, LatestReading>();
    for (const row of rows) {
      const anomaly = (row.flags & READING_FLAGS.anomaly) !== 0;
      // Only an error bit or an anomaly can make a value meaningless: the settings are looked at only then.
      const device = row.err !== 0 || anomaly ? this.options.calibrations.get(row.sn) : undefined;
      const meaningless = device !== undefined && valueIsMeaningless(alarmSettingsOf(device), { value: row.ppm, v_raw: row.v_raw, err: row.err, anomaly });
      const previous = latest.get(row.sn);
      if (previous && previous.ts > row.ts) continue;
      if (!meaningless && row.ts >= (this.trusted.get(row.sn)?.ts ?? Number.NEGATIVE_INFINITY)) this.trusted.set(row.sn, { ppm: row.ppm, ts: row.ts });
      const fault = row.err !== 0 || anomaly;
      const status = this.options.alarms?.statusOf(row.sn) ?? (fault ? "fault" : "online");
      const trusted = meaningless ? this.trusted.get(row.sn) : undefined;
      latest.set(row.sn, {
        sn: row.sn, ts: row.ts, ppm: trusted?.ppm ?? row.ppm, status, flags: row.flags, bat: row.bat, rssi: row.rssi,
        ...(trusted && { ppm_ts: trusted.ts }),
      });
    }
    const values = [...latest.values()];
    const entries = Object.fromEntries(values.map((v) => [v.sn, JSON.stringify(v)]));
    await Promise.all([
      this.options.cache.hset(cacheKeys.latest, entries).catch((error) => log.warn({ err: error }, "cache unavailable: latest state not updated")),
      this.options.bus.publish("readings", values).catch((error) => log.warn({ err: error }, "bus unavailable: realtime not published")),
    ]);
  }
}

/**
 * What a committed batch says about presence, in arrival order: a device with a stored
 * reading (new or resent) or an online status is online; its will says it is gone.
 */
function presenceSignals(parsed: ParsedMessage[], prepared: Prepared[], receivedAt: number[]): PresenceSignal[] {
  const signals: PresenceSignal[] = [];
  for (const [i, p] of parsed.entries()) {
    const at = receivedAt[i]!;
    if (p.kind === "up" && prepared[i]!.rows.length > 0) signals.push({ sn: p.sn, online: true, at, reason: "reading" });
    else if (p.kind === "status" && prepared[i]!.dead.length === 0) {
      signals.push({ sn: p.sn, online: p.status.online, at, reason: p.status.online ? "status" : "will" });
    }
  }
  return signals;
}
