import {
  CHANNEL_SENDERS,
  channelHears,
  createLogger,
  type AlarmNotice,
  type AlarmStore,
  type Cache,
  type ChannelRecord,
  type ChannelSender,
  type Clock,
  type DueNotification,
  type OutboxStore,
} from "@mcs/platform";
import { DEFAULT_PLANT_TIME_ZONE } from "@mcs/core";
import type { ChannelCache } from "./channel-cache.ts";

const log = createLogger("worker.notify");

/** The plan's debounce: the same device and alarm type is notified at most once in 10 minutes. */
export const DEBOUNCE_S = 600;
/** Retries: 10 s, 20 s, 40 s … up to 30 min apart; after this many attempts the row fails. */
const MAX_ATTEMPTS = 10;
const MAX_BACKOFF_MS = 30 * 60_000;
/** One pass sends at most this many rows (an alarm storm is grouped per channel anyway). */
const BATCH = 1000;

export interface DispatcherOptions {
  outbox: OutboxStore;
  alarms: AlarmStore;
  channels: ChannelCache;
  cache: Cache;
  clock: Clock;
  /** The senders per channel type (tests may swap one); default: the real ones. */
  senders?: Record<ChannelRecord["type"], ChannelSender>;
  /** Where people acknowledge, put in each message. */
  link?: string;
  /**
   * The plant's IANA zone, which messages write their times in (the `plant` setting), read
   * once per pass that sends; default Asia/Shanghai. A failure to read it falls back to the
   * default: a notification is never held back for its clock.
   */
  plantTimeZone?: () => Promise<string>;
}

export interface DispatchStats {
  sent: number;
  failed: number;
  suppressed: number;
  retrying: number;
}

/**
 * Sends the notification outbox. Each pass: queues repeats (every N minutes while an alarm
 * is unacknowledged) and escalations (after M minutes unacknowledged, to the escalation
 * groups); suppresses a `raised` notice whose device and type were notified within
 * 10 minutes (Redis `SET NX EX`, so several workers agree; a local map when Redis is away);
 * then sends, per channel, everything due as ONE message (50 detectors in a storm make one
 * message listing them, not 50), at most one message per channel's minimum interval.
 * Failures retry with backoff; a wrong configuration fails at once.
 */
export class NotificationDispatcher {
  readonly stats: DispatchStats = { sent: 0, failed: 0, suppressed: 0, retrying: 0 };
  private readonly localDebounce = new Map<string, { alarmId: number; until: number }>();
  private readonly senders: Record<ChannelRecord["type"], ChannelSender>;

  constructor(private readonly options: DispatcherOptions) {
    this.senders = options.senders ?? CHANNEL_SENDERS;
  }

  async run(): Promise<void> {
    await this.remind();
    const now = this.options.clock.now();
    const due = await this.options.outbox.due(now, BATCH);
    if (due.length === 0) return;
    const sendable: DueNotification[] = [];
    for (const row of due) {
      if (row.kind === "raised" && !(await this.firstInWindow(row))) {
        await this.options.outbox.finish([row.id], "suppressed", `debounced: ${row.sn} ${row.type} was notified within ${DEBOUNCE_S / 60} min`, now);
        this.stats.suppressed++;
      } else {
        sendable.push(row);
      }
    }
    const byChannel = new Map<number, DueNotification[]>();
    for (const row of sendable) byChannel.set(row.channel_id, [...(byChannel.get(row.channel_id) ?? []), row]);
    const lastSent = await this.options.outbox.lastSentByChannel();
    const timeZone = await this.plantTimeZone();
    const channels = new Map(this.options.channels.current().map((channel) => [channel.id, channel]));
    for (const [channelId, rows] of byChannel) {
      const channel = channels.get(channelId) ?? (await this.freshChannel(channelId));
      if (!channel) continue; // deleted meanwhile: its rows were closed with it
      if (!channel.enabled) {
        await this.options.outbox.finish(rows.map((row) => row.id), "suppressed", "channel disabled", now);
        this.stats.suppressed += rows.length;
        continue;
      }
      if (now - (lastSent.get(channelId) ?? 0) < channel.min_interval_s * 1000) continue; // grouped into the next message
      await this.send(channel, rows, timeZone);
    }
  }

  private async plantTimeZone(): Promise<string> {
    if (!this.options.plantTimeZone) return DEFAULT_PLANT_TIME_ZONE;
    try {
      return await this.options.plantTimeZone();
    } catch (error) {
      log.warn({ err: error }, `could not read the plant's time zone: writing times in ${DEFAULT_PLANT_TIME_ZONE}`);
      return DEFAULT_PLANT_TIME_ZONE;
    }
  }

  private async send(channel: ChannelRecord, rows: DueNotification[], timeZone: string): Promise<void> {
    const message = { notices: rows.map(toNotice), locale: channel.locale, link: this.options.link, timeZone };
    const result = await this.senders[channel.type].send(channel.config, message, { now: () => this.options.clock.now() });
    const now = this.options.clock.now();
    if (result.ok) {
      await this.options.outbox.finish(rows.map((row) => row.id), "sent", result.detail, now);
      this.stats.sent += rows.length;
      log.info({ channel: channel.id, type: channel.type, alarms: rows.length }, "notification sent");
      return;
    }
    // Each row keeps its own count: a new alarm grouped with an old one gets its full retries.
    const giveUp = rows.filter((row) => !result.retryable || row.attempts + 1 >= MAX_ATTEMPTS);
    await this.options.outbox.finish(giveUp.map((row) => row.id), "failed", result.detail, now);
    this.stats.failed += giveUp.length;
    const byAttempts = new Map<number, number[]>();
    for (const row of rows) if (!giveUp.includes(row)) byAttempts.set(row.attempts + 1, [...(byAttempts.get(row.attempts + 1) ?? []), row.id]);
    for (const [attempts, retryIds] of byAttempts) {
      await this.options.outbox.retryLater(retryIds, now + Math.min(10_000 * 2 ** (attempts - 1), MAX_BACKOFF_MS), result.detail);
      this.stats.retrying += retryIds.length;
    }
    log.warn({ channel: channel.id, type: channel.type, detail: result.detail, failed: giveUp.length, retrying: rows.length - giveUp.length }, "notification not sent");
  }

  /**
   * True when this alarm may notify: the first of its device and type in the window, or the
   * same alarm again (another channel's row, a retry). Redis decides across workers.
   */
  private async firstInWindow(row: DueNotification): Promise<boolean> {
    const key = `alarm:last:${row.sn}:${row.type}`;
    const value = String(row.alarm_id);
    try {
      if (await this.options.cache.set(key, value, { onlyIfAbsent: true, ttlSeconds: DEBOUNCE_S })) return true;
      const holder = await this.options.cache.get(key);
      if (holder === value) return true;
      // The window belongs to an alarm nobody was told of (its send failed, or still retries): not a repeat.
      if (holder !== null && !(await this.options.outbox.wasSent(Number(holder)))) {
        await this.options.cache.set(key, value, { ttlSeconds: DEBOUNCE_S });
        return true;
      }
      return false;
    } catch (error) {
      log.warn({ err: error }, "cache unavailable: debouncing in this worker only");
      const now = this.options.clock.now();
      const known = this.localDebounce.get(key);
      if (known && known.until > now) return known.alarmId === row.alarm_id;
      this.localDebounce.set(key, { alarmId: row.alarm_id, until: now + DEBOUNCE_S * 1000 });
      return true;
    }
  }

  /** Repeats for unacknowledged alarms, and escalations to the groups waiting for them. */
  private async remind(): Promise<void> {
    const channels = this.options.channels.current().filter((channel) => channel.enabled && (channel.repeat_every_min > 0 || channel.escalate_after_min > 0));
    if (channels.length === 0) return;
    const unacked = await this.options.alarms.list({ state: "unacked", limit: 5000 });
    if (unacked.length === 0) return;
    const now = this.options.clock.now();
    const lastQueued = await this.options.outbox.lastQueued(unacked.map((alarm) => alarm.id));
    for (const alarm of unacked) {
      // From when people could know: a late alarm's raised_at is in the past.
      const raisedAt = Date.parse(alarm.received_at);
      for (const channel of channels) {
        const last = lastQueued.get(`${alarm.id}:${channel.id}`);
        const event = { sn: alarm.sn, type: alarm.type, level: alarm.level, at: now };
        if (channel.escalate_after_min > 0) {
          if (last === undefined && now - raisedAt >= channel.escalate_after_min * 60_000 && channelHears(channel, event, "escalation")) {
            await this.options.outbox.enqueue(alarm.id, channel.id, "escalation", now);
          } else if (last !== undefined && channel.repeat_every_min > 0 && now - last >= channel.repeat_every_min * 60_000 && channelHears(channel, event, "escalation")) {
            await this.options.outbox.enqueue(alarm.id, channel.id, "repeat", now);
          }
        } else if (channel.repeat_every_min > 0 && last !== undefined && now - last >= channel.repeat_every_min * 60_000 && channelHears(channel, event, "first")) {
          await this.options.outbox.enqueue(alarm.id, channel.id, "repeat", now);
        }
      }
    }
  }

  private async freshChannel(id: number): Promise<ChannelRecord | undefined> {
    await this.options.channels.reload();
    return this.options.channels.current().find((channel) => channel.id === id);
  }
}

/** A late notice tells of its episode (when it began and ended, its worst); the others of the alarm. */
function toNotice(row: DueNotification): AlarmNotice {
  const episode = row.kind === "late" ? row.episode : null;
  const level = episode?.level ?? row.level;
  const limit =
    row.type === "HIGH" ? (level === 2 ? row.high_limit_2 : row.high_limit) : row.type === "LOW" ? (level === 2 ? row.low_limit_2 : row.low_limit) : null;
  const common = { alarmId: row.alarm_id, sn: row.sn, deviceName: row.device_name, gas: row.gas, unit: row.unit, type: row.type, kind: row.kind, limit };
  if (episode) {
    return {
      ...common, level, value: episode.start_value, at: Date.parse(episode.started_at), reason: episode.reason,
      endedAt: episode.ended_at === null ? null : Date.parse(episode.ended_at), peak: episode.peak, peakAt: Date.parse(episode.peak_at),
    };
  }
  return {
    ...common, level, value: row.value, at: Date.parse(row.raised_at), reason: row.reason,
    peak: row.peak, peakAt: row.peak_at === null ? null : Date.parse(row.peak_at),
  };
}
