import { createLogger, type Clock, type CommandDelivery, type CommandStore, type PresenceStore } from "@mcs/platform";

const log = createLogger("worker.commands");

/**
 * The commands' clock work, run periodically by one worker: a pending command past its
 * expiry and a sent one past its ack deadline become `timeout`; pending commands of
 * devices that are online go out (a delivery that failed, or one that raced with the
 * device coming back).
 */
export class CommandSweep {
  constructor(
    private readonly store: CommandStore,
    private readonly presence: PresenceStore,
    private readonly clock: Clock,
    private readonly delivery: CommandDelivery | undefined,
  ) {}

  async run(): Promise<void> {
    const expired = await this.store.expire(this.clock.now());
    for (const command of expired) log.info({ sn: command.sn, id: command.id, cmd: command.cmd }, "command timed out");
    if (!this.delivery) return;
    for (const sn of await this.store.devicesWithPending(this.clock.now())) {
      if ((await this.presence.one(sn)).state?.online) await this.delivery.deliver(sn);
    }
  }
}
