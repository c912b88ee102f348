import { createLogger, type Bus, type ChannelRecord, type ChannelStore } from "@mcs/platform";

const log = createLogger("worker.channels");
/** A full reload, in case a `channels.changed` message was missed. */
const RELOAD_MS = 60_000;

/** The notification channels in memory: routing an alarm event must not wait for the database. */
export class ChannelCache {
  private channels: ChannelRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly store: ChannelStore,
    private readonly bus: Bus,
  ) {}

  async start(): Promise<void> {
    this.channels = await this.store.list();
    this.unsubscribe = await this.bus.subscribe("channels.changed", () => void this.reload());
    this.timer = setInterval(() => void this.reload(), RELOAD_MS).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.unsubscribe?.();
  }

  current(): readonly ChannelRecord[] {
    return this.channels;
  }

  async reload(): Promise<void> {
    try {
      this.channels = await this.store.list();
    } catch (error) {
      log.warn({ err: error }, "could not reload the channels; keeping the ones known");
    }
  }
}
