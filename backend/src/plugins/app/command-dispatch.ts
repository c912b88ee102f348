import fp from "fastify-plugin";
import { CommandDelivery, PresenceStore, type CommandPublisher } from "@mcs/platform";
import type { FastifyBaseLogger } from "fastify";

declare module "fastify" {
  interface FastifyInstance {
    commandDispatch: CommandDispatch;
  }
}

/**
 * Sends a new command at once when its device is online. The request does not wait for
 * the broker (the answer is 202 pending); the delivery runs behind it and the app's close
 * waits for it. An offline device's command waits in the database: the worker sends it
 * when the device comes back. Without a publisher (no broker configured for this
 * process) every command waits for the worker.
 */
export class CommandDispatch {
  constructor(
    private readonly presence: PresenceStore,
    private readonly delivery: CommandDelivery | undefined,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Called after a command is committed. */
  async created(sn: string): Promise<void> {
    if (!this.delivery) return;
    try {
      // Read after the insert: if the device comes online meanwhile, the worker's delivery sees the command.
      if (!(await this.presence.one(sn)).state?.online) return;
    } catch (error) {
      this.log.warn({ err: error, sn }, "presence unknown (cache unavailable): the command waits for the worker");
      return;
    }
    void this.delivery.deliver(sn);
  }

  async idle(): Promise<void> {
    await this.delivery?.idle();
  }
}

export const commandDispatchPlugin = fp<{ publisher?: CommandPublisher | undefined }>(
  async (app, { publisher }) => {
    const delivery = publisher ? new CommandDelivery(app.commands, publisher, app.clock) : undefined;
    const dispatch = new CommandDispatch(new PresenceStore(app.cache), delivery, app.log.child({ component: "backend.commands" }));
    app.decorate("commandDispatch", dispatch);
    app.addHook("onClose", async () => dispatch.idle());
  },
  { name: "command-dispatch", dependencies: ["ports", "repositories"] },
);
