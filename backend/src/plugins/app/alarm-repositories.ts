import fp from "fastify-plugin";
import { AlarmStore, ChannelStore, OutboxStore } from "@mcs/platform";

declare module "fastify" {
  interface FastifyInstance {
    alarms: AlarmStore;
    channels: ChannelStore;
    outbox: OutboxStore;
  }
}

/** The alarm center's stores: alarms with their events, notification channels, the outbox. */
export const alarmRepositoriesPlugin = fp(
  async (app) => {
    app.decorate("alarms", new AlarmStore(app.db));
    app.decorate("channels", new ChannelStore(app.db));
    app.decorate("outbox", new OutboxStore(app.db));
  },
  { name: "alarm-repositories", dependencies: ["ports"] },
);
