import { createLogger, type TelemetryRow } from "@mcs/platform";
import { parseTopic } from "@mcs/protocol";
import type { PresenceSignal } from "../presence/presence-tracker.ts";

const log = createLogger("worker.license");
/** Copies are judged together this often: the alarm engine works in batches. */
const JUDGE_EVERY_MS = 250;
/** More than this waiting means the engine is behind: the oldest copies go (they are judged again when released). */
const MAX_WAITING = 50_000;

interface Copy {
  topic: string;
  payload: Buffer;
  at: number;
}

export interface HeldStreamWatchOptions {
  /** Parses and calibrates copies, as the processor would (nothing stored). */
  readingsOf(copies: readonly Copy[]): Promise<TelemetryRow[]>;
  alarms: { readings(rows: readonly TelemetryRow[]): Promise<void> };
  /** Shows the judged readings live (the big screen must never show a stale value beside an alarm). */
  showLive(rows: readonly TelemetryRow[]): Promise<void>;
  presence: { observe(signals: readonly PresenceSignal[]): Promise<void> };
}

/**
 * While the license locks ingest, the gas alarms keep being judged and notified: this
 * watch takes copies of the held messages (and of the live stream the broker would not
 * send otherwise), calibrates them, hands their readings to the alarm engine, shows them
 * live, and tells presence the devices are heard from. Nothing is stored; the held stream, once released,
 * is stored and judged again (the engine recognises readings it has judged).
 */
export class HeldStreamWatch {
  private waiting: Copy[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  judged = 0;

  constructor(private readonly options: HeldStreamWatchOptions) {}

  take(topic: string, payload: Buffer, at: number): void {
    this.waiting.push({ topic, payload, at });
    if (this.waiting.length > MAX_WAITING) this.waiting.splice(0, this.waiting.length - MAX_WAITING);
    this.timer ??= setTimeout(() => this.judge(), JUDGE_EVERY_MS);
  }

  /** Judges what is waiting and stops. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.judgeNow();
  }

  private judge(): void {
    this.timer = undefined;
    this.running = (this.running ?? Promise.resolve()).then(() => this.judgeNow());
  }

  private async judgeNow(): Promise<void> {
    const copies = this.waiting;
    this.waiting = [];
    if (copies.length === 0) return;
    try {
      // A reading may come twice (held, and its live copy): judged once.
      const seen = new Set<string>();
      const rows = (await this.options.readingsOf(copies)).filter((row) => {
        const key = `${row.sn}\u0000${row.ts}\u0000${row.seq}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      if (rows.length > 0) {
        await this.options.alarms.readings(rows);
        await this.options.showLive(rows);
      }
      this.judged += rows.length;
      // A device whose readings are judged is heard from: no OFFLINE alarm for a held stream.
      const judged = new Set(rows.map((row) => row.sn));
      const heard = new Map<string, number>();
      for (const copy of copies) {
        const address = parseTopic(copy.topic);
        if (address?.kind === "up" && judged.has(address.sn)) heard.set(address.sn, copy.at);
      }
      await this.options.presence.observe([...heard].map(([sn, at]) => ({ sn, online: true, at, reason: "reading" })));
    } catch (error) {
      log.error({ err: error, copies: copies.length }, "gas alarms could not be judged from the held stream (they will be when it is released)");
    }
  }
}
