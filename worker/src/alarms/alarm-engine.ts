import {
  evaluatePresence,
  evaluateReading,
  memoryFromOpenAlarms,
  type AlarmEvent,
  type AlarmSettings,
  type DeviceAlarmMemory,
  type OpenAlarm,
} from "@mcs/core";
import { READING_FLAGS, type AlarmBusEvent } from "@mcs/protocol";
import {
  AlarmStaleError,
  channelHears,
  createLogger,
  type AlarmStore,
  type Bus,
  type ChannelStore,
  type Clock,
  type DeviceAlarmChange,
  type DeviceCalibration,
  type TelemetryRow,
} from "@mcs/platform";
import { ChannelCache } from "./channel-cache.ts";

const log = createLogger("worker.alarms");
/** An ack racing with an evaluation makes it stale; a few fresh tries settle it. */
const MAX_ATTEMPTS = 3;

export interface AlarmEngineOptions {
  alarms: AlarmStore;
  channels: ChannelStore;
  bus: Bus;
  clock: Clock;
  /** The worker's view of a device (limits, delays, maintenance), or undefined if unknown. */
  deviceOf(sn: string): DeviceCalibration | undefined;
}

/** The newest (ts, seq) evaluated per device: a resent reading is stored once and judged once. */
interface Mark {
  ts: number;
  seq: number;
}

/**
 * Evaluates every stored reading and every presence change against the device's alarm
 * settings (the pure engine of @mcs/core), and writes what happened: alarm rows, their
 * events and the notifications for the channels that hear them, in one transaction. The
 * open alarms live in memory, restored from the database at start (a restart neither
 * forgets nor re-raises); an ack from the backend (`alarm.changed`) reloads the device.
 */
export class AlarmEngine {
  private readonly memory = new Map<string, DeviceAlarmMemory>();
  private readonly marks = new Map<string, Mark>();
  readonly channelCache: ChannelCache;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(private readonly options: AlarmEngineOptions) {
    this.channelCache = new ChannelCache(options.channels, options.bus);
  }

  async start(): Promise<void> {
    for (const [sn, alarms] of await this.options.alarms.open()) this.memory.set(sn, memoryFromOpenAlarms(alarms));
    await this.channelCache.start();
    this.unsubscribe = await this.options.bus.subscribe("alarm.changed", (message) => {
      const sn = (message as { sn?: unknown }).sn;
      if (typeof sn === "string") void this.reload(sn).catch((error: unknown) => log.warn({ err: error, sn }, "could not reload the device's alarms"));
    });
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
    await this.channelCache.stop();
  }

  /** The open alarms this worker holds for a device (for tests and the dashboard's snapshot). */
  openAlarms(sn: string): OpenAlarm[] {
    return Object.values(this.memory.get(sn)?.alarms ?? {});
  }

  /** What the device's live status shows: a gas alarm outranks a fault. */
  statusOf(sn: string): "alarm" | "fault" | null {
    const alarms = this.memory.get(sn)?.alarms;
    if (!alarms) return null;
    if (alarms.HIGH?.conditionActive || alarms.LOW?.conditionActive) return "alarm";
    if (alarms.FAULT?.conditionActive) return "fault";
    return null;
  }

  /** Judges a committed batch's readings, in order per device. Throws if the database refuses (the batch is retried). */
  async readings(rows: readonly TelemetryRow[]): Promise<void> {
    const bySn = new Map<string, TelemetryRow[]>();
    for (const row of rows) {
      const mark = this.marks.get(row.sn);
      if (mark && (row.ts < mark.ts || (row.ts === mark.ts && row.seq <= mark.seq))) continue;
      bySn.set(row.sn, [...(bySn.get(row.sn) ?? []), row]);
    }
    if (bySn.size === 0) return;
    await this.commit([...bySn.keys()], (sn, memory) => {
      const device = this.options.deviceOf(sn);
      if (!device) return { memory, events: [] };
      const settings = alarmSettingsOf(device);
      const inhibited = (device.inhibit_until_ms ?? 0) > this.options.clock.now();
      let current = memory;
      const events: AlarmEvent[] = [];
      for (const row of bySn.get(sn)!) {
        const judged = evaluateReading(current, settings, {
          at: row.ts * 1000, value: row.ppm, v_raw: row.v_raw, err: row.err, bat: row.bat, anomaly: (row.flags & READING_FLAGS.anomaly) !== 0,
        }, inhibited);
        current = judged.memory;
        events.push(...judged.events);
      }
      return { memory: current, events };
    });
    for (const [sn, list] of bySn) {
      const last = list.reduce((a, b) => (b.ts > a.ts || (b.ts === a.ts && b.seq > a.seq) ? b : a));
      this.marks.set(sn, { ts: last.ts, seq: last.seq });
    }
  }

  /** A device went offline (its will, its silence) or came back: the OFFLINE alarm. */
  async presence(sn: string, online: boolean, at: number, reason: string): Promise<void> {
    if (!this.options.deviceOf(sn)) return;
    const inhibited = (this.options.deviceOf(sn)?.inhibit_until_ms ?? 0) > this.options.clock.now();
    await this.commit([sn], (_sn, memory) => {
      // Maintenance often means a detector switched off: no OFFLINE alarm for it then.
      if (inhibited && !online) return { memory, events: [] };
      return evaluatePresence(memory, online, at, reason === "will" ? "offline (its will: the connection was lost)" : `offline (${reason})`);
    });
  }

  /** Evaluates, writes, and only then keeps the new memory; a stale device is reloaded and judged again. */
  private async commit(sns: string[], evaluate: (sn: string, memory: DeviceAlarmMemory) => { memory: DeviceAlarmMemory; events: AlarmEvent[] }): Promise<void> {
    let pending = sns;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const results = pending.map((sn) => {
        const before = this.memory.get(sn) ?? memoryFromOpenAlarms([]);
        return { sn, before, ...evaluate(sn, before) };
      });
      const changes: DeviceAlarmChange[] = results
        .filter((result) => result.events.length > 0)
        .map((result) => ({ sn: result.sn, before: Object.values(result.before.alarms), events: result.events }));
      try {
        const raised = await this.options.alarms.apply(changes, (sn, event) => this.channelsFor(sn, event), "system", this.options.clock.now());
        for (const result of results) {
          const ids = raised.get(result.sn);
          const alarms = { ...result.memory.alarms };
          for (const [type, alarm] of Object.entries(alarms)) {
            if (alarm && alarm.id === null) alarms[type as keyof typeof alarms] = { ...alarm, id: ids?.get(alarm.type) ?? null };
          }
          this.memory.set(result.sn, { ...result.memory, alarms });
        }
        await this.announce(changes, raised);
        return;
      } catch (error) {
        if (!(error instanceof AlarmStaleError) || attempt >= MAX_ATTEMPTS) throw error;
        log.info({ sn: error.sn }, "open alarms changed meanwhile (an ack?): reloading and judging again");
        await this.reload(error.sn);
        pending = sns;
      }
    }
  }

  private async reload(sn: string): Promise<void> {
    const open = await this.options.alarms.open([sn]);
    const fresh = memoryFromOpenAlarms(open.get(sn) ?? []);
    const known = this.memory.get(sn);
    // The counters (delays, stuck run) are this worker's own: keep them, take the alarms.
    this.memory.set(sn, known ? { ...known, alarms: fresh.alarms } : fresh);
  }

  private channelsFor(sn: string, event: AlarmEvent): number[] {
    return this.channelCache.current().filter((channel) => channelHears(channel, { sn, type: event.type, level: event.level, at: event.at }, "first")).map((c) => c.id);
  }

  /** Best effort: the dashboard hears what happened; the database already has it. */
  private async announce(changes: DeviceAlarmChange[], raised: Map<string, Map<string, number>>): Promise<void> {
    for (const change of changes) {
      const ids = new Map<string, number>();
      for (const alarm of change.before) if (alarm.id !== null) ids.set(alarm.type, alarm.id);
      for (const [type, id] of raised.get(change.sn) ?? []) ids.set(type, id);
      for (const event of change.events) {
        const id = event.alarm.id ?? ids.get(event.type);
        if (id === undefined) continue;
        const message: AlarmBusEvent = {
          id, sn: change.sn, type: event.type, level: event.level, kind: event.kind, state: event.alarm.state, ppm: event.value, at: new Date(event.at).toISOString(),
        };
        await this.options.bus.publish("alarm", message).catch((error: unknown) => log.warn({ err: error }, "bus unavailable: alarm not announced"));
      }
    }
  }
}

/** A device's alarm settings as the engine reads them (the columns of the devices table). */
export function alarmSettingsOf(device: Pick<DeviceCalibration, "high_limit" | "high_limit_2" | "low_limit" | "low_limit_2" | "deadband" | "on_delay_samples" | "off_delay_samples" | "latching" | "low_battery_v" | "stuck_samples" | "range_max">): AlarmSettings {
  return {
    high1: device.high_limit, high2: device.high_limit_2, low1: device.low_limit, low2: device.low_limit_2,
    deadband: device.deadband, onDelaySamples: device.on_delay_samples, offDelaySamples: device.off_delay_samples,
    latching: device.latching, lowBatteryV: device.low_battery_v, stuckSamples: device.stuck_samples, rangeMax: device.range_max,
  };
}
