import fp from "fastify-plugin";
import { MosquittoPasswordSync } from "@mcs/platform";

export interface BrokerCredentialsOptions {
  /** Mosquitto's password file and process id; absent: the broker authenticates devices itself (embedded). */
  mosquitto?: { passwordFile: string; pid: number } | undefined;
}

/**
 * Services mode: device logins on the real Mosquitto follow the database. The password
 * file is rewritten (and the broker reloaded) at start and after every device change, so
 * a new device can connect, and a deleted, disabled or rotated one cannot with its old password.
 */
export const brokerCredentialsPlugin = fp<BrokerCredentialsOptions>(
  async (app, { mosquitto }) => {
    if (!mosquitto) return;
    const sync = new MosquittoPasswordSync({ file: mosquitto.passwordFile, pid: mosquitto.pid, devices: app.devices });
    app.deviceEvents.listen(() => sync.sync());
    app.addHook("onReady", async () => {
      await sync.sync().catch((error: unknown) => app.log.error({ err: error }, "could not write the broker's password file; devices may not log in"));
    });
  },
  { name: "broker-credentials", dependencies: ["device-events", "repositories"] },
);
