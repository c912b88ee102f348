import fp from "fastify-plugin";
import { CommandStore, DeviceStore, TelemetryStore, UserStore } from "@mcs/platform";

declare module "fastify" {
  interface FastifyInstance {
    devices: DeviceStore;
    telemetry: TelemetryStore;
    users: UserStore;
    commands: CommandStore;
  }
}

/** The stores over the database; each change they make writes its audit row in the same transaction. */
export const repositoriesPlugin = fp(
  async (app) => {
    app.decorate("devices", new DeviceStore(app.db));
    app.decorate("telemetry", new TelemetryStore(app.db));
    app.decorate("users", new UserStore(app.db));
    app.decorate("commands", new CommandStore(app.db));
  },
  { name: "repositories", dependencies: ["ports"] },
);
