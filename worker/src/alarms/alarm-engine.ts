import {
  compareKeys,
  evaluatePresence,
  evaluateReading,
  evaluateRefusal,
  freshTrack,
  memoryFromOpenAlarms,
  reconcile,
  replay,
  type AlarmEvent,
  type AlarmSettings,
  type ConditionTrack,
  type DeviceAlarmMemory,
  type Episode,
  type KeyedReading,
  type OpenAlarm,
  type StoredEpisode,
  type TrackCheckpoint,
} from "@mcs/core";
import { READING_FLAGS, type AlarmBusEvent } from "@mcs/protocol";
import {
  AlarmStaleError,
  alarmSettingsOf,
  channelHears,
  createLogger,
  type AlarmStore,
  type Bus,
  type ChannelStore,
  type Clock,
  type DeviceAlarmChange,
  type DeviceAlarmHistory,
  type DeviceCalibration,
  type EpisodeWrite,
  type TelemetryRow,
} from "@mcs/platform";
import { ChannelCache } from "./channel-cache.ts";

export { alarmSettingsOf } from "@mcs/platform";

const log = createLogger("worker.alarms");
/** An ack racing with an evaluation makes it stale; a few fresh tries settle it. */
const MAX_ATTEMPTS = 3;
/** A checkpoint per device every so much reading time: a late reading replays at most this much before it. */
export const CHECKPOINT_EVERY_MS = 10 * 60_000;
/** Late readings may be 30 days old; checkpoints a day more. */
const CHECKPOINT_KEEP_MS = 31 * 24 * 3_600_000;
/** The keys of a device's last readings judged: a resend of one of them is stored once and judged once. */
const RECENT_KEYS = 256;

export interface AlarmEngineOptions {
  alarms: AlarmStore;
  channels: ChannelStore;
  bus: Bus;
  clock: Clock;
  /** The worker's view of a device (limits, delays, maintenance), or undefined if unknown. */
  deviceOf(sn: string): DeviceCalibration | undefined;
  /** The device's stored readings after a key, oldest first (what a replay judges again). */
  readingsAfter(sn: string, after: { ts: number; seq: number } | null): Promise<TelemetryRow[]>;
  /** The keys of each device's newest stored readings (as many as its limit), newest first. */
  newestKeys(sns: readonly string[], limits: readonly number[]): Promise<Map<string, { ts: number; seq: number }[]>>;
  /** The device's alarm settings and maintenance periods over time. */
  alarmHistory(sn: string): Promise<DeviceAlarmHistory>;
}

interface Key {
  at: number;
  seq: number;
}

/** What the engine holds for one device. */
interface DeviceState {
  memory: DeviceAlarmMemory;
  /** The newest reading judged (null: none yet): an older one is late. */
  mark: Key | null;
  recent: RecentKeys;
  /** Reading time of the newest checkpoint written. */
  checkpointAt: number;
}

/** How late readings are counted, for the bench and the logs. */
export interface LateStats {
  replays: number;
  readingsReplayed: number;
  lateEpisodes: number;
}

/**
 * Judges every stored reading and every presence change against the device's alarm
 * settings (the pure engine of @mcs/core), and writes what happened in one transaction:
 * alarm rows, their events, their episodes and the notifications for the channels that
 * hear them. Readings in time order take the fast path (one step each, from memory). A
 * reading older than the newest judged (a backlog after live data, a resend after a broker
 * restart) is late: the device's stored readings are judged again from the checkpoint before
 * it, in time order, and what that changes is reconciled with the stored episodes, an
 * episode found only in late readings raising an alarm marked late. An ack from the backend
 * (`alarm.changed`) reloads the device's alarms.
 */
export class AlarmEngine {
  private readonly devices = new Map<string, DeviceState>();
  private readonly loading = new Map<string, Promise<void>>();
  /** Devices whose messages are being refused: since when, how many, the last reason (until one of their readings is stored). */
  private readonly refusals = new Map<string, { since: number; count: number; reason: string }>();
  readonly channelCache: ChannelCache;
  readonly lateStats: LateStats = { replays: 0, readingsReplayed: 0, lateEpisodes: 0 };
  private unsubscribe: (() => Promise<void>) | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: AlarmEngineOptions) {
    this.channelCache = new ChannelCache(options.channels, options.bus);
  }

  async start(): Promise<void> {
    await this.channelCache.start();
    this.unsubscribe = await this.options.bus.subscribe("alarm.changed", (message) => {
      const sn = (message as { sn?: unknown }).sn;
      if (typeof sn === "string") void this.reload(sn).catch((error: unknown) => log.warn({ err: error, sn }, "could not reload the device's alarms"));
    });
    this.pruneTimer = setInterval(() => {
      this.options.alarms.pruneCheckpoints(this.options.clock.now() - CHECKPOINT_KEEP_MS).catch((error: unknown) => log.warn({ err: error }, "could not prune checkpoints"));
    }, 3_600_000).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.unsubscribe?.();
    await this.channelCache.stop();
  }

  /** The open alarms this worker holds for a device (for tests and the dashboard's snapshot). */
  openAlarms(sn: string): OpenAlarm[] {
    return Object.values(this.devices.get(sn)?.memory.alarms ?? {});
  }

  /** What the device's live status shows: a gas alarm outranks a fault (low power is a fault too: DOMAIN.md). */
  statusOf(sn: string): "alarm" | "fault" | null {
    const alarms = this.devices.get(sn)?.memory.alarms;
    if (!alarms) return null;
    if (alarms.HIGH?.conditionActive || alarms.LOW?.conditionActive) return "alarm";
    if (alarms.FAULT?.conditionActive || alarms.LOW_BATTERY?.conditionActive) return "fault";
    return null;
  }

  /** Judges a committed batch's readings. Throws if the database refuses (the batch is retried). */
  async readings(rows: readonly TelemetryRow[]): Promise<void> {
    const bySn = new Map<string, TelemetryRow[]>();
    for (const row of rows) {
      const list = bySn.get(row.sn);
      if (list) list.push(row);
      else if (this.options.deviceOf(row.sn)) bySn.set(row.sn, [row]);
    }
    if (bySn.size === 0) return;
    for (const sn of bySn.keys()) this.refusals.delete(sn);
    const unloaded = [...bySn.keys()].filter((sn) => !this.devices.has(sn));
    if (unloaded.length > 0) await this.ensureLoaded(unloaded, rows);
    const inOrder = new Map<string, TelemetryRow[]>();
    const late = new Map<string, TelemetryRow[]>();
    for (const [sn, list] of bySn) {
      const state = this.devices.get(sn)!;
      let mark = state.mark;
      if (!isSorted(list)) list.sort(byKey);
      const fresh: TelemetryRow[] = [];
      const older: TelemetryRow[] = [];
      for (const row of list) {
        const key = keyOf(row);
        if (mark === null || compareKeys(key, mark) > 0) {
          fresh.push(row);
          mark = key;
        } else if (!state.recent.has(row.ts, row.seq)) {
          older.push(row); // a resend of one of the last judged is stored once, judged once
        }
      }
      if (fresh.length > 0) inOrder.set(sn, fresh);
      if (older.length > 0) late.set(sn, older);
    }
    if (inOrder.size > 0) await this.judgeInOrder(inOrder);
    for (const [sn, list] of late) await this.judgeLate(sn, list);
  }

  /** A device went offline (its will, its silence) or came back: the OFFLINE alarm. */
  async presence(sn: string, online: boolean, at: number, reason: string): Promise<void> {
    const device = this.options.deviceOf(sn);
    if (!device) return;
    await this.ensureLoaded([sn], []);
    const inhibited = (device.inhibit_until_ms ?? 0) > this.options.clock.now();
    await this.commit([sn], (_sn, memory) => {
      // Maintenance often means a detector switched off: no OFFLINE alarm for it then.
      if (inhibited && !online) return { memory, events: [] };
      return evaluatePresence(memory, online, at, reason === "will" ? "offline (its will: the connection was lost)" : `offline (${reason})`);
    });
  }

  /**
   * Messages of a known device were refused. Refused for more than 3 report intervals with
   * none of its readings stored meanwhile, it gets a FAULT saying so: an unreadable detector
   * must not look like a silent one.
   */
  async refused(sn: string, at: number, reason: string, count: number): Promise<void> {
    const device = this.options.deviceOf(sn);
    if (!device) return;
    const streak = this.refusals.get(sn) ?? { since: at, count: 0, reason };
    streak.count += count;
    streak.reason = reason;
    this.refusals.set(sn, streak);
    const forMs = at - streak.since;
    if (forMs <= 3 * device.report_interval_s * 1000) return;
    await this.ensureLoaded([sn], []);
    const why = `messages refused for ${Math.round(forMs / 1000)} s (${streak.count}), the last: ${streak.reason}`;
    await this.commit([sn], (_sn, memory) => {
      const judged = evaluateRefusal(memory, at, why);
      return { ...judged, episodes: changedEpisodes(memory, judged.memory) };
    });
  }

  /** The fast path: readings newer than any judged, one step each from memory. */
  private async judgeInOrder(bySn: Map<string, TelemetryRow[]>): Promise<void> {
    await this.commit([...bySn.keys()], (sn, memory) => {
      const device = this.options.deviceOf(sn)!;
      const settings = alarmSettingsOf(device);
      const inhibited = (device.inhibit_until_ms ?? 0) > this.options.clock.now();
      let current = memory;
      const events: AlarmEvent[] = [];
      const episodes: EpisodeWrite[] = [];
      for (const row of bySn.get(sn)!) {
        const judged = evaluateReading(current, settings, readingOf(row), inhibited);
        current = judged.memory;
        events.push(...judged.events);
        for (const ended of judged.ended ?? []) episodes.push({ episode: ended.episode, alarmId: ended.alarmId });
      }
      episodes.push(...changedEpisodes(memory, current));
      const last = bySn.get(sn)!.at(-1)!;
      const state = this.devices.get(sn)!;
      const checkpoint = last.ts * 1000 - state.checkpointAt >= CHECKPOINT_EVERY_MS ? { at: last.ts * 1000, seq: last.seq, track: current.track } : undefined;
      return { memory: current, events, episodes, peaks: movedPeaks(memory, current), checkpoint };
    }, (sn) => {
      const state = this.devices.get(sn)!;
      const rows = bySn.get(sn)!;
      for (const row of rows) remember(state, row);
      const last = rows.at(-1)!;
      state.mark = keyOf(last);
      if (last.ts * 1000 - state.checkpointAt >= CHECKPOINT_EVERY_MS) state.checkpointAt = last.ts * 1000;
    });
  }

  /**
   * The late path: the device's stored readings from the checkpoint before the earliest late
   * one are judged again in time order (with the settings and maintenance of their own time),
   * and the difference reconciled with what is stored, under the device's alarm locks.
   */
  private async judgeLate(sn: string, rows: TelemetryRow[]): Promise<void> {
    const earliest = keyOf(rows.reduce((a, b) => (byKey(a, b) <= 0 ? a : b)));
    const state = this.devices.get(sn)!;
    await this.rejudge(sn, earliest, state, rows);
  }

  /** Replays from the checkpoint before `from` and reconciles; `rows` (if any) are remembered as judged. */
  private async rejudge(sn: string, from: Key, state: DeviceState, rows: TelemetryRow[], exclude?: Set<string>): Promise<void> {
    const start = await this.startBefore(sn, from);
    const stored = (await this.options.readingsAfter(sn, { ts: start.at / 1000, seq: start.seq })).filter((row) => !exclude?.has(keyText(row)));
    const history = await this.options.alarmHistory(sn);
    const device = this.options.deviceOf(sn);
    const fallback = device ? alarmSettingsOf(device) : undefined;
    const result = replay(start, stored.map(readingOf), {
      settingsAt: (at) => settingsAt(history, at, fallback),
      inhibitedAt: (at) => history.maintenance.some((period) => period.from <= at && at < period.until),
      checkpointEveryMs: CHECKPOINT_EVERY_MS,
    });
    this.lateStats.replays++;
    this.lateStats.readingsReplayed += stored.length;
    const latching = fallback?.latching ?? false;
    const { plan, raised } = await this.options.alarms.reconcile(
      sn,
      { at: start.at, seq: start.seq },
      (episodes, alarms, open) => reconcile({ fresh: result.episodes, stored: episodes, alarms, current: memoryFromOpenAlarms(open).alarms, latching }),
      result.checkpoints,
      (device, event) => this.channelsFor(device, event),
      this.options.clock.now(),
    );
    const alarms = { ...plan.current };
    for (const [type, alarm] of Object.entries(alarms)) {
      if (alarm && alarm.id === null) alarms[type as keyof typeof alarms] = { ...alarm, id: raised.get(alarm.type) ?? null };
    }
    state.memory = { alarms, track: result.track };
    for (const row of rows) remember(state, row);
    if (result.last && (state.mark === null || compareKeys(result.last, state.mark) > 0)) state.mark = result.last;
    const lastCheckpoint = result.checkpoints.at(-1);
    if (lastCheckpoint && lastCheckpoint.at > state.checkpointAt) state.checkpointAt = lastCheckpoint.at;
    const found = plan.put.filter((put) => put.notify).length;
    this.lateStats.lateEpisodes += found;
    if (plan.events.length > 0) log.info({ sn, replayed: stored.length, events: plan.events.length, notified: found }, "late readings judged in time order");
    await this.announce(sn, plan.events, new Map(Object.values(alarms).flatMap((alarm) => (alarm?.id == null ? [] : [[alarm.type, alarm.id] as const]))));
  }

  /**
   * Where a replay starts: the checkpoint before `from`; without one (readings older than any
   * checkpoint), ten minutes before, with fresh counters and the conditions the stored episodes
   * say held then.
   */
  private async startBefore(sn: string, from: Key): Promise<TrackCheckpoint> {
    const checkpoint = await this.options.alarms.checkpointBefore(sn, from);
    if (checkpoint) return checkpoint;
    const at = from.at - CHECKPOINT_EVERY_MS;
    return { at, seq: -1, track: trackFromEpisodes(await this.options.alarms.episodesSince(sn, at), at) };
  }

  /**
   * Brings devices into memory once, those of one batch together (a few queries, not a few
   * per device): each one's open alarms, newest checkpoint and newest stored reading; where
   * readings were stored after the checkpoint (a restart), they are judged and reconciled (a
   * crash between the readings' commit and their alarms' leaves nothing unjudged).
   */
  private async ensureLoaded(sns: string[], batch: readonly TelemetryRow[]): Promise<void> {
    const missing = sns.filter((sn) => !this.devices.has(sn) && !this.loading.has(sn));
    if (missing.length > 0) {
      const pending = this.load(missing, batch).finally(() => {
        for (const sn of missing) this.loading.delete(sn);
      });
      for (const sn of missing) this.loading.set(sn, pending);
    }
    await Promise.all(sns.map((sn) => this.loading.get(sn)));
  }

  private async load(sns: string[], batch: readonly TelemetryRow[]): Promise<void> {
    const wanted = new Set(sns);
    const batchKeys = new Set<string>();
    const inBatch = new Map<string, number>();
    for (const row of batch) {
      if (!wanted.has(row.sn)) continue;
      batchKeys.add(keyText(row));
      inBatch.set(row.sn, (inBatch.get(row.sn) ?? 0) + 1);
    }
    const [open, checkpoints, newest] = await Promise.all([
      this.options.alarms.open(sns),
      this.options.alarms.latestCheckpoints(sns),
      // The newest stored reading not of this batch is the mark: the batch itself is judged next.
      this.options.newestKeys(sns, sns.map((sn) => (inBatch.get(sn) ?? 0) + 1)),
    ]);
    for (const sn of sns) {
      const memory = memoryFromOpenAlarms(open.get(sn) ?? []);
      const checkpoint = checkpoints.get(sn) ?? null;
      const key = (newest.get(sn) ?? []).find((candidate) => !batchKeys.has(`${candidate.ts * 1000}:${candidate.seq}`));
      const mark = key ? { at: key.ts * 1000, seq: key.seq } : null;
      const state: DeviceState = { memory, mark, recent: new RecentKeys(RECENT_KEYS), checkpointAt: checkpoint?.at ?? Number.NEGATIVE_INFINITY };
      if (checkpoint) state.memory = { ...memory, track: checkpoint.track };
      this.devices.set(sn, state);
      if (checkpoint && mark && compareKeys(mark, checkpoint) > 0) await this.rejudge(sn, { at: checkpoint.at, seq: checkpoint.seq + 1 }, state, [], batchKeys);
    }
  }

  /** Evaluates, writes, and only then keeps the new memory; a stale device is reloaded and judged again. */
  private async commit(
    sns: string[],
    evaluate: (sn: string, memory: DeviceAlarmMemory) => { memory: DeviceAlarmMemory; events: AlarmEvent[] } & Omit<Partial<DeviceAlarmChange>, "sn" | "before" | "events">,
    afterwards?: (sn: string) => void,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const results = sns.map((sn) => {
        const before = this.devices.get(sn)?.memory ?? memoryFromOpenAlarms([]);
        return { sn, before, ...evaluate(sn, before) };
      });
      const changes: DeviceAlarmChange[] = results
        .filter((result) => result.events.length > 0 || (result.episodes?.length ?? 0) > 0 || (result.peaks?.length ?? 0) > 0 || result.checkpoint)
        .map((result) => ({ sn: result.sn, before: Object.values(result.before.alarms), events: result.events, episodes: result.episodes, peaks: result.peaks, checkpoint: result.checkpoint }));
      try {
        const raised = changes.length > 0 ? await this.options.alarms.apply(changes, (sn, event) => this.channelsFor(sn, event), "system", this.options.clock.now()) : new Map();
        for (const result of results) {
          const ids = raised.get(result.sn);
          const alarms = { ...result.memory.alarms };
          for (const [type, alarm] of Object.entries(alarms)) {
            if (alarm && alarm.id === null) alarms[type as keyof typeof alarms] = { ...alarm, id: ids?.get(alarm.type) ?? null };
          }
          const state = this.devices.get(result.sn);
          if (state) state.memory = { ...result.memory, alarms };
          afterwards?.(result.sn);
        }
        for (const change of changes) await this.announce(change.sn, change.events, idsOf(change.before, raised.get(change.sn)));
        return;
      } catch (error) {
        if (!(error instanceof AlarmStaleError) || attempt >= MAX_ATTEMPTS) throw error;
        log.info({ sn: error.sn }, "open alarms changed meanwhile (an ack?): reloading and judging again");
        await this.reload(error.sn);
      }
    }
  }

  private async reload(sn: string): Promise<void> {
    const open = await this.options.alarms.open([sn]);
    const fresh = memoryFromOpenAlarms(open.get(sn) ?? []);
    const state = this.devices.get(sn);
    // The track (what the readings say) is this worker's own: keep it, take the alarms.
    if (state) state.memory = { ...state.memory, alarms: fresh.alarms };
  }

  private channelsFor(sn: string, event: Pick<AlarmEvent, "type" | "level" | "at">): number[] {
    return this.channelCache.current().filter((channel) => channelHears(channel, { sn, type: event.type, level: event.level, at: event.at }, "first")).map((c) => c.id);
  }

  /** Best effort: the dashboard hears what happened; the database already has it. */
  private async announce(sn: string, events: readonly AlarmEvent[], ids: Map<string, number>): Promise<void> {
    for (const event of events) {
      const id = event.alarm.id ?? ids.get(event.type);
      if (id === undefined) continue;
      const message: AlarmBusEvent = {
        id, sn, type: event.type, level: event.level, kind: event.kind, state: event.alarm.state, ppm: event.value, at: new Date(event.at).toISOString(),
        ...(event.late && { late: true }),
      };
      await this.options.bus.publish("alarm", message).catch((error: unknown) => log.warn({ err: error }, "bus unavailable: alarm not announced"));
    }
  }
}

function idsOf(before: readonly OpenAlarm[], raised: Map<string, number> | undefined): Map<string, number> {
  const ids = new Map<string, number>();
  for (const alarm of before) if (alarm.id !== null) ids.set(alarm.type, alarm.id);
  for (const [type, id] of raised ?? []) ids.set(type, id);
  return ids;
}

/** The settings version in effect at `at` (the first one for readings older than any). */
function settingsAt(history: DeviceAlarmHistory, at: number, fallback: AlarmSettings | undefined): AlarmSettings {
  let chosen = history.settings[0]?.settings;
  for (const version of history.settings) if (version.validFrom <= at) chosen = version.settings;
  return chosen ?? fallback!;
}

/** Fresh counters, and the conditions the stored episodes say held at `at`. */
function trackFromEpisodes(episodes: readonly StoredEpisode[], at: number): ConditionTrack {
  const track = freshTrack();
  for (const episode of episodes) {
    if (episode.since < at && (episode.endAt === null || episode.endAt > at)) {
      const { level, since, sinceSeq, value, peak, peakAt, reason } = episode;
      track.active[episode.type] = { level, since, sinceSeq, value, peak, peakAt, reason };
    }
  }
  return track;
}

/** The episodes still holding after a batch that started, worsened or moved their peak in it. */
function changedEpisodes(before: DeviceAlarmMemory, after: DeviceAlarmMemory): EpisodeWrite[] {
  const writes: EpisodeWrite[] = [];
  for (const [type, condition] of Object.entries(after.track.active)) {
    if (!condition || JSON.stringify(condition) === JSON.stringify(before.track.active[type as keyof ConditionTrack["active"]])) continue;
    const episode: Episode = { ...condition, type: type as Episode["type"], endAt: null, endSeq: null };
    writes.push({ episode, alarmId: after.alarms[episode.type]?.id ?? null });
  }
  return writes;
}

/** Open alarms whose peak moved (the state machine records no event for that). */
function movedPeaks(before: DeviceAlarmMemory, after: DeviceAlarmMemory): OpenAlarm[] {
  return Object.values(after.alarms).filter((alarm): alarm is OpenAlarm => {
    const was = alarm ? before.alarms[alarm.type] : undefined;
    return alarm !== undefined && alarm.id !== null && was?.id === alarm.id && (was.peak !== alarm.peak || was.peakAt !== alarm.peakAt);
  });
}

/**
 * A stored reading as the engine judges it, the same on both paths. `bat` is stored as a
 * 4-byte float: judged at six significant digits, as PostgreSQL shows it.
 */
function readingOf(row: TelemetryRow): KeyedReading {
  return {
    at: row.ts * 1000, seq: row.seq, value: row.ppm, v_raw: row.v_raw, err: row.err,
    bat: row.bat === undefined || row.bat === null ? undefined : Number(Math.fround(row.bat).toPrecision(6)),
    anomaly: (row.flags & READING_FLAGS.anomaly) !== 0,
    ...((row.flags & READING_FLAGS.clock) !== 0 && { clock: true }),
  };
}

function keyOf(row: TelemetryRow): Key {
  return { at: row.ts * 1000, seq: row.seq };
}

function keyText(row: TelemetryRow): string {
  return `${row.ts * 1000}:${row.seq}`;
}

function byKey(a: TelemetryRow, b: TelemetryRow): number {
  return a.ts - b.ts || a.seq - b.seq;
}

function isSorted(rows: readonly TelemetryRow[]): boolean {
  for (let i = 1; i < rows.length; i++) if (byKey(rows[i - 1]!, rows[i]!) > 0) return false;
  return true;
}

function remember(state: DeviceState, row: TelemetryRow): void {
  state.recent.add(row.ts, row.seq);
}

/** The keys of a device's last judged readings, in a ring: on the hot path, one write and no allocation per reading. */
class RecentKeys {
  private readonly ts: Float64Array;
  private readonly seq: Float64Array;
  private next = 0;

  constructor(size: number) {
    this.ts = new Float64Array(size).fill(Number.NaN);
    this.seq = new Float64Array(size);
  }

  add(ts: number, seq: number): void {
    this.ts[this.next] = ts;
    this.seq[this.next] = seq;
    this.next = (this.next + 1) % this.ts.length;
  }

  /** Only asked of a reading older than the newest judged (rare): a scan is cheap enough. */
  has(ts: number, seq: number): boolean {
    for (let i = 0; i < this.ts.length; i++) if (this.ts[i] === ts && this.seq[i] === seq) return true;
    return false;
  }
}
