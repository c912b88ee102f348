import fp from "fastify-plugin";
import type { Bus, Cache, Clock, Db } from "@mcs/platform";

declare module "fastify" {
  interface FastifyInstance {
    db: Db;
    cache: Cache;
    bus: Bus;
    clock: Clock;
  }
}

export interface PortsOptions {
  db: Db;
  cache: Cache;
  bus: Bus;
  clock: Clock;
}

/**
 * The external services, handed in by whoever owns them (main.ts, the embedded server, a
 * test): the app uses them and never closes them.
 */
export const portsPlugin = fp<PortsOptions>(
  async (app, { db, cache, bus, clock }) => {
    app.decorate("db", db);
    app.decorate("cache", cache);
    app.decorate("bus", bus);
    app.decorate("clock", clock);
  },
  { name: "ports" },
);
