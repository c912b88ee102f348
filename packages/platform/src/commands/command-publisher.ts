import type { CommandMessage } from "@mcs/protocol";

/**
 * The CommandPublisher port: puts one command on `mcs/{sn}/cmd` at QoS 1. Two
 * implementations: the embedded Aedes broker in-process, and an MQTT connection to
 * Mosquitto (services mode) as `mcs-backend` or `mcs-worker`, which the ACL lets write there.
 *
 * `publish` resolves once the broker has taken the command for delivery (its PUBACK, or
 * the embedded broker's routing), and rejects when it could not hand it over: not
 * connected, no PUBACK in time, refused, or (MQTT 5) nobody subscribed to the device's
 * topic. A rejected command stays pending and is tried again later.
 */
export interface CommandPublisher {
  publish(sn: string, command: CommandMessage): Promise<void>;
  /** True while the publisher can reach the broker (for /api/health). */
  readonly connected: boolean;
  close(): Promise<void>;
}

/** The broker took the command but said no device is subscribed to it (MQTT 5 reason 0x10). */
export class NoSubscriberError extends Error {
  constructor(sn: string) {
    super(`no subscriber on mcs/${sn}/cmd: the device is not connected`);
    this.name = "NoSubscriberError";
  }
}
