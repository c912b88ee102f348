import type { BusChannels, PresenceReason } from "@mcs/protocol";
import { createLogger, type Bus, type Clock, type PresenceStore } from "@mcs/platform";

const log = createLogger("worker.presence");

/** A device is offline once this many report intervals pass without a word from it. */
export const OFFLINE_AFTER_INTERVALS = 3;
/** The report interval of a device that has none set. */
export const DEFAULT_REPORT_INTERVAL_S = 10;
/**
 * How long this worker trusts its own "online" without asking the cache. Another worker
 * may have marked the device offline meanwhile (its will, say); its `device.status`
 * message ends the trust at once, and this bound covers a missed one.
 */
const TRUST_ONLINE_MS = 1_000;
/** Compare-and-set attempts before giving up on one change (other workers keep winning). */
const MAX_ATTEMPTS = 5;

/** What one message says about its device: heard (a reading, an online status) or gone (the will). */
export interface PresenceSignal {
  sn: string;
  online: boolean;
  /** Server receive time, Unix ms. */
  at: number;
  reason: PresenceReason;
}

export interface PresenceTrackerOptions {
  store: PresenceStore;
  bus: Bus;
  clock: Clock;
  /** A device's report interval in seconds; undefined for a device this worker does not know. */
  reportIntervalOf(sn: string): number | undefined;
  /** Called once per offline → online change, by the worker that made it. */
  onOnline?(sn: string): void;
  /** Called once per change, by the worker that made it (the OFFLINE alarm). */
  onChange?(signal: PresenceSignal): Promise<void>;
}

/**
 * Online/offline per device. Messages make a device online (a reading, an online status)
 * or offline (its will); `sweep` makes a silent one offline. Each change is a
 * compare-and-set in the shared cache, so it is made and announced on the bus
 * (`device.status`) once, by one worker, however the devices' messages are split.
 * Best effort: with the cache away, presence waits and ingest goes on.
 */
export class PresenceTracker {
  /** sn → until when this worker trusts that the device is online (Unix ms). */
  private readonly trusted = new Map<string, number>();
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(private readonly options: PresenceTrackerOptions) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.options.bus.subscribe("device.status", (message) => {
      const { sn, online } = message as Partial<BusChannels["device.status"]>;
      if (typeof sn === "string" && online === false) this.trusted.delete(sn);
    });
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
  }

  /** Takes a committed batch's signals, in arrival order. */
  async observe(signals: readonly PresenceSignal[]): Promise<void> {
    if (signals.length === 0) return;
    const lastSeen = new Map<string, number>();
    const latest = new Map<string, PresenceSignal>();
    for (const signal of signals) {
      if (signal.online) lastSeen.set(signal.sn, Math.max(lastSeen.get(signal.sn) ?? 0, signal.at));
      latest.set(signal.sn, signal);
    }
    const now = this.options.clock.now();
    // A device this worker saw online a moment ago needs no look at the cache (the hot path).
    const changes = [...latest.values()].filter((signal) => !(signal.online && (this.trusted.get(signal.sn) ?? 0) > now));
    try {
      await Promise.all([this.options.store.seen(lastSeen), ...changes.map((signal) => this.change(signal))]);
    } catch (error) {
      log.warn({ err: error }, "cache unavailable: presence not updated");
    }
  }

  /**
   * Marks offline every online device not heard from for OFFLINE_AFTER_INTERVALS of its
   * report intervals. Answers how many it changed.
   */
  async sweep(): Promise<number> {
    const { store, clock, reportIntervalOf } = this.options;
    const now = clock.now();
    let changed = 0;
    for (const [sn, presence] of await store.all()) {
      if (!presence.state?.online) continue;
      const interval = reportIntervalOf(sn);
      if (interval === undefined) continue; // not a device of this installation (deleted, say)
      const silentAfter = OFFLINE_AFTER_INTERVALS * interval * 1000;
      if (now - (presence.lastSeen ?? presence.state.at) <= silentAfter) continue;
      // A reading may have come in since the list was read: look once more before deciding.
      const fresh = await store.one(sn);
      if (now - (fresh.lastSeen ?? 0) <= silentAfter) continue;
      if (await this.change({ sn, online: false, at: now, reason: "silence" })) changed++;
    }
    return changed;
  }

  /** Applies one signal; true when it changed the device's state (and announced it). */
  private async change(signal: PresenceSignal): Promise<boolean> {
    const { store, bus } = this.options;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const { text, state } = await store.current(signal.sn);
      // A change decided after this message arrived stands: the message is older news.
      if (state && state.at > signal.at) return false;
      if (state?.online === signal.online) {
        this.trust(signal);
        return false;
      }
      if (!(await store.change(signal.sn, text, { online: signal.online, at: signal.at, reason: signal.reason }))) continue;
      this.trust(signal);
      const event: BusChannels["device.status"] = { sn: signal.sn, online: signal.online, at: new Date(signal.at).toISOString(), reason: signal.reason };
      log.info(event, signal.online ? "device online" : "device offline");
      await bus.publish("device.status", event).catch((error) => log.warn({ err: error, sn: signal.sn }, "bus unavailable: presence change not announced"));
      if (signal.online) this.options.onOnline?.(signal.sn);
      await this.options.onChange?.(signal).catch((error: unknown) => log.error({ err: error, sn: signal.sn }, "presence change not judged for alarms"));
      return true;
    }
    log.warn({ sn: signal.sn }, "presence change lost to other workers too often; left to the next message");
    return false;
  }

  private trust(signal: PresenceSignal): void {
    if (signal.online) this.trusted.set(signal.sn, this.options.clock.now() + TRUST_ONLINE_MS);
    else this.trusted.delete(signal.sn);
  }
}
