import type { CommandName } from "@mcs/protocol";
import type { Clock } from "../clock.ts";
import { createLogger } from "../log.ts";
import type { CommandStore } from "../stores/command-store.ts";
import type { CommandPublisher } from "./command-publisher.ts";

const log = createLogger("commands.delivery");

/**
 * How long a sent command may wait for its ack before it is `timeout`. A reboot answers
 * after the device is back (boot and a 4G attach); an update after the download and the
 * reboot. A later ack is still recorded.
 */
export const ACK_TIMEOUT_S: Record<CommandName, number> = { set_debug: 60, set_calib: 60, reboot: 300, ota: 1800 };

/** A claim outlives any publish (which times out after seconds) but not a crashed deliverer by long. */
const CLAIM_MS = 30_000;

/**
 * Publishes a device's pending commands, oldest first, and marks each `sent` once the
 * broker took it. Called when the device is known to be online: right after a command is
 * created, when the device comes back, and by the worker's periodic sweep. A command the
 * broker would not take stays pending for the next try. One delivery per device at a time
 * in this process; the claim in the database keeps other processes off the same commands.
 */
export class CommandDelivery {
  private readonly running = new Map<string, Promise<number>>();

  constructor(
    private readonly store: CommandStore,
    private readonly publisher: CommandPublisher,
    private readonly clock: Clock,
  ) {}

  /** Resolves with how many commands went out; never rejects (a failure leaves them pending). */
  deliver(sn: string): Promise<number> {
    const before = this.running.get(sn) ?? Promise.resolve(0);
    // Queued behind a delivery in progress, so that a command created meanwhile is not missed.
    const next = before.then(() => this.deliverNow(sn)).catch((error: unknown) => {
      log.warn({ err: error, sn }, "command delivery failed; the commands stay pending");
      return 0;
    });
    this.running.set(sn, next);
    void next.finally(() => {
      if (this.running.get(sn) === next) this.running.delete(sn);
    });
    return next;
  }

  /** Waits for the deliveries in progress (before closing the publisher or the database). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  private async deliverNow(sn: string): Promise<number> {
    const claimed = await this.store.claimPending(sn, this.clock.now(), CLAIM_MS);
    let sent = 0;
    for (const [index, command] of claimed.entries()) {
      try {
        await this.publisher.publish(sn, { id: command.id, cmd: command.cmd, params: command.params });
      } catch (error) {
        log.info({ sn, id: command.id, reason: error instanceof Error ? error.message : String(error) }, "command not handed to the broker; it stays pending");
        // Keep the order: this one and every later one wait for the next delivery.
        for (const left of claimed.slice(index)) await this.store.release(left.id);
        break;
      }
      const now = this.clock.now();
      await this.store.markSent(command.id, now, now + ACK_TIMEOUT_S[command.cmd] * 1000);
      sent++;
      log.info({ sn, id: command.id, cmd: command.cmd }, "command sent");
    }
    return sent;
  }
}
